"""Review in the browser: a person settles what the audio left undecided.

The stage after ``verify``. It reads a results folder (``quotes.csv``,
``quote_words.csv`` and the workspace), and offers three things:

* :func:`serve`: a local web app with one card per quote, in review order, where a
  reviewer listens to the span and decides; every decision is kept in the workspace
  (:mod:`pipeline.review.store`) and written back into ``quotes.csv`` at once;
* :func:`export_report`: one self-contained HTML file with every quote's final verdict,
  its evidence and its audio, readable offline;
* :func:`write_evidence`: a folder per quote holding the clip as WAV, a JSON manifest
  (hashes, models, options, scores, decision) and the words table.

It does not transcribe or judge: it shows what ``verify`` found and records what a
person decides.
"""

from __future__ import annotations

from pipeline.review.results import ReviewError, load_results

__all__ = ["ReviewError", "export_report", "load_results", "serve", "write_evidence"]


def serve(*args, **kwargs):
    """Start the review app; see :func:`pipeline.review.app.serve`."""
    from pipeline.review.app import serve as _serve

    return _serve(*args, **kwargs)


def export_report(*args, **kwargs):
    """Write the self-contained HTML report; see :func:`pipeline.review.report.export_report`."""
    from pipeline.review.report import export_report as _export

    return _export(*args, **kwargs)


def write_evidence(*args, **kwargs):
    """Write evidence packets; see :func:`pipeline.review.evidence.write_evidence`."""
    from pipeline.review.evidence import write_evidence as _write

    return _write(*args, **kwargs)
