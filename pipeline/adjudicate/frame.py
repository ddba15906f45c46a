"""The quote inside the words heard around it, so that texts are scored in context."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline import spoken
from pipeline.adjudicate.evidence import Evidence, Side
from pipeline.records import Word
from pipeline.scoring import TextScore, TextScorer

EDGE_WORD_MEDIANS = 2.0
"""A quote's edge word is cut to at most this many times the median length of its words
(see :func:`clamp_edges`)."""
EDGE_WORD_MAX_S = 0.7
"""The median word length counted in :data:`EDGE_WORD_MEDIANS` is at most this (seconds)."""


def word_token_positions(scorer: TextScorer, words: list[str]) -> list[int]:
    """Index of each word's first Whisper token in ``scorer.tokens(" ".join(words))``."""
    positions, pos = [], 0
    for i in range(len(words)):
        positions.append(pos)
        pos = len(scorer.tokens(" ".join(words[:i + 1])))
    return positions


@dataclass
class Frame:
    """The quote inside the words heard around it, so texts are scored in context."""

    before: list[str]
    """Heard words kept before the quote."""
    after: list[str]
    """Heard words kept after the quote."""

    def text(self, words: list[str]) -> str:
        """The words in context, numbers written as digits."""
        return " ".join(spoken.render_numbers(self.before + words + self.after)[0])

    def positions(self, scorer: TextScorer, words: list[str]) -> list[int]:
        """Token index of each of ``words``' first token in :meth:`text`, then the end."""
        rendered, owner = spoken.render_numbers(self.before + words + self.after)
        starts = word_token_positions(scorer, rendered)
        own = [starts[owner[len(self.before) + w]] for w in range(len(words))]
        after = owner[len(self.before) + len(words)] if self.after else None
        end = starts[after] if after is not None else len(scorer.tokens(" ".join(rendered)))
        return own + [end]

    def rendered_spans(self, scorer: TextScorer, words: list[str]) -> list[tuple[int, int]]:
        """Token range [start, end) in :meth:`text` of the rendered word each of ``words``
        went into (words merged into one number share it)."""
        rendered, owner = spoken.render_numbers(self.before + words + self.after)
        starts = word_token_positions(scorer, rendered)
        starts.append(len(scorer.tokens(" ".join(rendered))))
        return [(starts[owner[len(self.before) + w]], starts[owner[len(self.before) + w] + 1])
                for w in range(len(words))]

    def aligned(self, scorer: TextScorer, ctx, words: list[str]) -> list[Word]:
        """Forced-alignment times of each of ``words`` (merged numbers share times), the
        quote's edge words cut where the alignment stretched them (:func:`clamp_edges`)."""
        rendered, owner = spoken.render_numbers(self.before + words + self.after)
        timings = scorer.align(ctx, " ".join(rendered))
        mine = [owner[len(self.before) + w] for w in range(len(words))]
        kept = clamp_edges({r: timings[r] for r in mine}, {r: mine.count(r) for r in mine})
        return [kept[r] for r in mine]


def clamp_edges(timings: dict[int, Word], counts: dict[int, int]) -> dict[int, Word]:
    """The first and last of a quote's words (``timings`` in order, ``counts`` quote words
    each: a number like "Eight twelve" is one) cut to at most twice the median length of a
    word (at most 0.7 s): forced alignment stretches an edge word over the silence or the
    context word beside it. Whisper cuts its own words at sentence edges the same way."""
    keys = list(timings)
    spoken = [(w.end - w.start) / counts[r] for r, w in timings.items() if w.end > w.start]
    if len(keys) < 2 or not spoken:
        return timings
    longest = EDGE_WORD_MEDIANS * min(EDGE_WORD_MAX_S, float(np.median(spoken)))
    first, last = keys[0], keys[-1]
    w = timings[first]
    if w.end - w.start > longest * counts[first]:
        timings[first] = Word(w.end - longest * counts[first], w.end, w.word, w.probability)
    w = timings[last]
    if w.end - w.start > longest * counts[last]:
        timings[last] = Word(w.start, w.start + longest * counts[last], w.word, w.probability)
    return timings


def frame_around(quote: Side, transcript: Evidence, heard_words: list[Word],
                 span: tuple[float, float] | None) -> Frame:
    """Heard words before and after the quote: outside ``span`` when it is known, else
    outside the quote's match, less the words its unmatched edges took."""
    if span is not None:
        before = [spoken.strip_edges(w.word) for w in heard_words if (w.start + w.end) / 2 < span[0]]
        after = [spoken.strip_edges(w.word) for w in heard_words if (w.start + w.end) / 2 > span[1]]
        return Frame([w for w in before if w], [w for w in after if w])
    if not transcript.match:
        return Frame([], [])
    first_q, last_q = min(transcript.match), max(transcript.match)
    first_h = transcript.side.word_of[transcript.match[first_q]]
    last_h = transcript.side.word_of[transcript.match[last_q]]
    edge_before = len(set(quote.word_of[:first_q]))
    edge_after = len(set(quote.word_of[last_q + 1:]))
    words = [spoken.strip_edges(w) for w in transcript.side.words]
    return Frame(words[:max(0, first_h - edge_before)], words[last_h + 1 + edge_after:])


def fit(own: TextScore, positions: list[int], extra: int = 0) -> float:
    """Mean log-probability of the quote's own tokens (``positions``: each word's first
    token, then the end), and of ``extra`` tokens after them."""
    values = own.logprobs[positions[0]:positions[-1] + extra]
    return float(np.mean(values)) if values else float("-inf")


def best_frame(scorer: TextScorer, ctx, quote: Side, frame: Frame, transcript: Evidence) -> Frame:
    """The heard words around the quote, less the one next to an edge word of the quote the
    recogniser did not hear, where the audio fits the quote better without it: the
    recogniser may have split that word in two ("This batch" for "Dispatch"), and the half
    outside the quote's match would take the audio of the quote's own word.

    Variants are compared on the quote's tokens and the one token after them (the next
    heard word, or end-of-text), one decoder pass for all.
    """
    variants = [frame]
    if frame.before and 0 not in transcript.match:
        variants.append(Frame(frame.before[:-1], frame.after))
    if frame.after and len(quote.toks) - 1 not in transcript.match:
        variants += [Frame(v.before, frame.after[1:]) for v in list(variants)]
    if len(variants) == 1:
        return frame  # both edge words heard: nothing to compare
    scores = scorer.score(ctx, [v.text(quote.words) for v in variants])
    positions = [v.positions(scorer, quote.words) for v in variants]
    best = max(range(len(variants)), key=lambda i: fit(scores[i], positions[i], extra=1))
    return variants[best]
