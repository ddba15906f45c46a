"""How well other audio fits a quote: the measure that tells a misheard line from an
absent one. A line said at a place fits that place's audio far better than the audio of
other transmissions; an absent line fits no audio better than the rest. Also: the
transmissions the recogniser barely wrote down, where a quote no transcript holds may be."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pipeline.adjudicate import cut_window
from pipeline.locate import WordIndex
from pipeline.records import Quote, QuoteCheck

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.verify import VerifyOptions


def unheard_stretches(quote: Quote, index: WordIndex,
                       options: VerifyOptions) -> list[tuple[str, float, float, int]]:
    """Transmissions long enough to hold the quote for which the recogniser wrote fewer
    than ``unheard_rate`` words a second: (recording, start, end, words), longest first,
    at most ``unheard_stretches``."""
    need = len(quote.text.split()) / options.fastest_words_per_s
    found = []
    for doc in index.docs:
        t = doc.transcript
        spans = [(x.start, x.end) for x in t.transmissions] or [(s.start, s.end) for s in t.segments]
        mids = np.array([(w.start + w.end) / 2 for w in t.words])
        for start, end in spans:
            words = int(np.count_nonzero((mids >= start) & (mids <= end))) if len(mids) else 0
            long_enough = end - start >= max(need, options.unheard_min_s)
            if long_enough and words < options.unheard_rate * (end - start):
                found.append((t.recording, round(start, 3), round(end, 3), words))
    found.sort(key=lambda s: s[1] - s[2])
    return found[:options.unheard_stretches]


def fit_elsewhere(quote: Quote, check: QuoteCheck, index: WordIndex, samples_for, scorers,
                   options: VerifyOptions) -> float | None:
    """How much better the audio where a quote was judged fits it than other audio does:
    its mean log-probability per token there (judging model), less its best on the audio of
    ``elsewhere_windows`` transmissions away from there. A line said there fits its own
    audio far better; an absent line fits no audio better than the rest.

    Returns None where there is nothing to compare with (no audio, no other transmission).
    """
    try:
        transcript = index.transcript(check.recording)
    except KeyError:  # not judged, or judged across calls
        return None
    scorer = next(iter(scorers), None)
    if not callable(getattr(scorer, "encode", None)):  # no model to score with
        return None
    others = _other_audio(check, index, samples_for, scorer, options)
    if not others:
        return None
    window, _ = cut_window(samples_for(transcript.recording), check.start_s, check.end_s,
                           options.adjudicate)
    text = _plain(quote.text)
    here = scorer.score(scorer.encode(window), [text])[0].mean
    return round(here - max(scorer.score(ctx, [text])[0].mean for ctx in others), 3)


def _other_audio(check: QuoteCheck, index: WordIndex, samples_for, scorer, options) -> list:
    """Encoded windows of ``elsewhere_windows`` transmissions spread over the recordings, away
    from where the quote was judged (each encoded once per run)."""
    segs = [(d.transcript.recording, seg.start, seg.end) for d in index.docs
            for seg in d.transcript.segments if seg.end - seg.start >= 1.0
            and not (d.transcript.recording == check.recording and seg.end > check.start_s - 2
                     and seg.start < check.end_s + 2)]
    most = options.elsewhere_windows
    if len(segs) > most:
        segs = [segs[round(k * (len(segs) - 1) / max(most - 1, 1))] for k in range(most)]
    for recording, start, end in segs:
        key = (id(scorer), recording, start, end)
        if key not in ENCODED:
            ENCODED[key] = scorer.encode(cut_window(samples_for(recording), start, end,
                                                    options.adjudicate)[0])
    return [ENCODED[(id(scorer), *seg)] for seg in segs]


ENCODED: dict = {}
"""Encoded windows of ``_other_audio``, for one ``verify_quotes`` run."""


def _plain(text: str) -> str:
    """Lower case, words only: how a quote is scored against other audio."""
    return " ".join(w.strip(".,;:!?\"“”‘’()[]") for w in text.lower().split()).strip()


def forget() -> None:
    """Drop the windows :data:`ENCODED` holds (at the end of a ``verify_quotes`` run)."""
    ENCODED.clear()
