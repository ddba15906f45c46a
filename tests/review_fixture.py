"""A small results folder for the review tests: generated audio, a workspace, hand-written tables.

No model runs: the transcript and the verdicts are written here as verify would write
them, over a 30-second WAV of tone bursts standing in for transmissions.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from pipeline import audio, export
from pipeline.audio import SAMPLE_RATE
from pipeline.records import Segment, Transcript, Transmission, Word
from pipeline.workspace import Workspace, file_sha256, transcript_key

QUOTE_COLUMNS = export.CHECK_COLUMNS
"""``quotes.csv``'s columns as verify writes them."""

QUOTE_WORD_COLUMNS = export.QUOTE_WORD_COLUMNS

BURSTS = [(2.0, 6.0), (8.0, 12.0), (15.0, 19.0), (22.0, 27.0)]
"""Transmissions of ``calls/channel-1.wav``, seconds."""

EVIL = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2"></textarea>'
"""Article text that must show as text."""

ORDER = ["t:2", "t:1", "t:evil", "t:3", "t:elsewhere", "t:6", "t:5", "t:4"]
"""The quote ids in review order: unverifiable by rank, misquote, not found, confirmed."""


def write_wav(path: Path, seconds: float, bursts: list[tuple[float, float]]) -> None:
    """A 16 kHz mono WAV: quiet noise, with a tone (a different pitch each) in every burst."""
    rng = np.random.default_rng(0)
    n = int(seconds * SAMPLE_RATE)
    x = rng.normal(0, 0.002, n)
    t = np.arange(n) / SAMPLE_RATE
    for i, (a, b) in enumerate(bursts):
        on = (t >= a) & (t < b)
        x[on] += 0.4 * np.sin(2 * np.pi * (300 + 100 * i) * t[on])
    audio.write_wav(path, x)


def _words(text: str, start: float, end: float) -> list[Word]:
    parts = text.split()
    step = (end - start) / len(parts)
    return [Word(start + i * step, start + (i + 1) * step, w, 0.9) for i, w in enumerate(parts)]


def _transcript(recording: str, sha: str) -> Transcript:
    texts = ["Units in the eighth district", "Ten four eight thirty three",
             "Clear everybody out from that", "We are blocked in over here"]
    segments = [Segment(i, a, b, text, _words(text, a + 0.2, b - 0.2), transmission_id=i,
                        speaker="Dispatcher") for i, ((a, b), text) in enumerate(zip(BURSTS, texts))]
    return Transcript(recording=recording, sha256=sha, duration=30.0, model="tiny.en",
                      engine="faster-whisper", segments=segments,
                      transmissions=[Transmission(a - 0.25, b + 0.25, a, b) for a, b in BURSTS])


def _quote(quote_id: str, text: str, verdict: str, **kw) -> dict:
    row = {c: "" for c in QUOTE_COLUMNS}
    row.update(quote_id=quote_id, source="articles/story.txt", quote_text=text, verdict=verdict,
               confidence="0.5", recording="calls/channel-1.wav", speaker="Dispatcher")
    row.update({k: str(v) for k, v in kw.items()})
    return row


def quote_rows() -> list[dict]:
    """The quotes table, in file order (not review order)."""
    return [
        _quote("t:1", "Clear everybody out from that", "unverifiable", start_s=15.2, end_s=18.8,
               review_rank=2, line_id="L1", heard_text="Clear everybody out from that",
               reasons="of 2 versions of this line, the audio favours this one"),
        _quote("t:2", "Ten four eight thirty-three", "unverifiable", start_s=8.2, end_s=11.8,
               listen_start_s=8.0, listen_end_s=10.0, review_rank=1, heard_text="Ten four eight thirty three",
               differences='audio says "three", quote says "thirty-three"'),
        _quote("t:3", "We are boxed in over here", "misquote", start_s=22.2, end_s=26.8,
               heard_text="We are blocked in over here",
               differences='audio says "blocked", quote says "boxed"'),
        _quote("t:4", "Units in the eighth district", "verbatim", start_s=2.2, end_s=5.8, confidence="0.9"),
        _quote("t:5", "Clear everybody out from there", "minor", start_s=15.2, end_s=18.8, line_id="L1",
               reasons="of 2 versions of this line, the audio favours another (by 0.40 nats per token)"),
        _quote("t:6", "A statement never said on the radio", "not_found", recording="", speaker="",
               confidence="0.7", reasons="no recording holds words close enough to this quote"),
        _quote("t:evil", EVIL, "unverifiable", start_s=2.2, end_s=5.8, review_rank=3, heard_text=EVIL,
               context_before=EVIL, reasons=EVIL, attributed_to=EVIL),
        _quote("t:elsewhere", "Audio that the workspace does not hold", "misquote",
               recording="../../etc/passwd", start_s=1.0, end_s=2.0),
    ]


def word_rows() -> list[dict]:
    """The quote words table."""
    def said(text: str, **odd: tuple[str, str]) -> list[tuple[str, str, str]]:
        return [(w, *odd.get(w, ("match", ""))) for w in text.split()]

    rows = []
    for qid, words, start in (
        ("t:2", said("Ten four eight thirty-three", **{"thirty-three": ("changed", "three")}), 8.2),
        ("t:3", said("We are boxed in over here", boxed=("changed", "blocked")), 22.2),
        ("t:5", said("Clear everybody out from there", there=("form", "that")), 15.2),
    ):
        for i, (word, status, heard) in enumerate(words):
            rows.append({"quote_id": qid, "word_index": i, "word": word, "status": status,
                         "start_s": round(start + 0.7 * i, 2), "end_s": round(start + 0.7 * i + 0.6, 2),
                         "probability": 0.8, "heard": heard})
    return rows


def write_table(path: Path, columns: list[str], rows: list[dict]) -> None:
    """A CSV as pandas would write it."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def make_results(root: Path) -> Path:
    """Write ``root/calls/channel-1.wav`` and ``root/results/`` as verify would.

    Returns:
        The results folder.
    """
    wav = root / "calls" / "channel-1.wav"
    write_wav(wav, 30.0, BURSTS)
    results = root / "results"
    sha = file_sha256(wav)
    with Workspace(results) as ws:
        ws.put(transcript_key(sha, "tiny.en", "faster-whisper", {}), _transcript("calls/channel-1.wav", sha),
               {"model": "tiny.en"})
    write_table(results / "quotes.csv", QUOTE_COLUMNS, quote_rows())
    write_table(results / "quote_words.csv", QUOTE_WORD_COLUMNS, word_rows())
    return results
