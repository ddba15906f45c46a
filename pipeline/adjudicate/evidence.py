"""Gathering evidence from the audio: what each recogniser heard of a quote.

Every word of the quote, and every junction between two neighbouring words, that a
recogniser heard counts as heard: the transcript's words, a scorer's top prediction
teacher-forced in the quote's context, or a beam hypothesis of any scorer. The rest form
the *doubtful spans* (:func:`unheard_runs`) that the pairwise tests judge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from pipeline import text as textmod
from pipeline.adjudicate.options import AdjudicateOptions
from pipeline.align import align
from pipeline.audio import SAMPLE_RATE, cut

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.adjudicate.frame import Frame
    from pipeline.scoring import TextScore, TextScorer

WINDOW_S = 30.0
"""Longest window judged (Whisper's encoder takes no more)."""


def cut_window(samples: np.ndarray, start_s: float, end_s: float,
               options: AdjudicateOptions | None = None) -> tuple[np.ndarray, float]:
    """The audio to judge a located span on: the span, padded, at most 30 s.

    The window's edges fall on the sample at or before each time (as they always have:
    every verdict on the benchmark sets was measured on windows cut this way).

    Returns:
        (window samples, window start in seconds).
    """
    options = options or AdjudicateOptions()
    start = max(0.0, start_s - options.context_s)
    end = min(len(samples) / SAMPLE_RATE, end_s + options.context_s, start + WINDOW_S)
    first = int(start * SAMPLE_RATE)
    last = max(first, int(end * SAMPLE_RATE))
    return cut(samples, first / SAMPLE_RATE, last / SAMPLE_RATE), start


@dataclass
class Side:
    """One word sequence, normalised for matching (fillers dropped)."""

    words: list[str]
    """The words as written."""
    toks: list[str]
    """Normalised tokens."""
    word_of: list[int]
    """For each token, the index of its word."""
    tokens: list[textmod.Token] = field(default_factory=list)
    """The normalised tokens themselves (what ``toks`` holds the text of)."""

    @classmethod
    def of(cls, words: list[str]) -> Side:
        """Words as written, normalised."""
        kept = [t for t in textmod.tokens_from_strings(words) if not textmod.is_filler(t)]
        return cls(words, [t.text for t in kept], [t.index for t in kept], kept)

    def word_range(self, a: int, b: int) -> tuple[int, int]:
        """Word range covering tokens [a, b) (empty at the word of token a)."""
        if b > a:
            return self.word_of[a], self.word_of[b - 1] + 1
        wa = self.word_of[a] if a < len(self.toks) else len(self.words)
        return wa, wa


@dataclass
class Evidence:
    """What one recogniser pass heard, aligned to the quote."""

    label: str
    """Which model heard it (``transcript`` for the recogniser's own words)."""
    side: Side
    """Its words."""
    match: dict[int, int]
    """Quote token → its token, where the two are equal."""

    def reading(self, quote: Side, a: int, b: int) -> tuple[int, int, list[str]] | None:
        """What this evidence heard in place of quote tokens [a, b), between matched anchors.

        Returns:
            (first quote token replaced, one past the last, the words heard there), or None
            when the evidence has no anchor on either side.
        """
        left = [i for i in range(a - 1, -1, -1) if i in self.match][:1]
        right = [i for i in range(b, len(quote.toks)) if i in self.match][:1]
        if not left and not right:
            return None
        ia = left[0] if left else -1
        ib = right[0] if right else len(quote.toks)
        span = ib - ia - 1
        jl = self.match[ia] if left else max(-1, self.match[ib] - span - 1)
        jr = self.match[ib] if right else min(len(self.side.toks), jl + 1 + span)
        indices = list(dict.fromkeys(self.side.word_of[j] for j in range(jl + 1, jr)))
        return ia + 1, ib, [self.side.words[k] for k in indices]


def evidence_of(label: str, words: list[str], quote: Side) -> Evidence:
    """Heard words aligned to the quote: which quote tokens they hold, and where."""
    side = Side.of(words)
    _, ops = align(quote.tokens, side.tokens)  # the quote inside what was heard
    match = {op.quote_tokens[0]: op.heard_tokens[0] for op in ops
             if len(op.quote_tokens) == len(op.heard_tokens) == 1
             and quote.toks[op.quote_tokens[0]] == side.toks[op.heard_tokens[0]]}
    return Evidence(label, side, match)


def unheard_runs(quote: Side, evidence: list[Evidence]) -> list[tuple[int, int]]:
    """Doubtful spans as quote token ranges (empty range: an unheard junction)."""
    n = len(quote.toks)
    heard_tok = [any(i in e.match for e in evidence) for i in range(n)]
    # a word the judge predicts teacher-forced after the quote's own words (evidence whose
    # side is the quote) also hears the junction before it
    heard_join = [True] + [any(e.match.get(i) == e.match[i - 1] + 1 if i - 1 in e.match
                               else e.side is quote and i in e.match
                               for e in evidence) for i in range(1, n)] + [True]
    slots = []  # slot 2i: junction before token i; 2i+1: token i
    for i in range(n):
        slots += [heard_join[i], heard_tok[i]]
    slots.append(True)
    runs, s = [], 0
    while s < len(slots):
        if slots[s]:
            s += 1
            continue
        e = s
        while e < len(slots) and not slots[e]:
            e += 1
        a, b = s // 2, e // 2  # tokens covered: odd slots in [s, e)
        runs.append((a, max(a, b)))
        s = e
    return runs


def top1_evidence(label: str, quote: Side, spans: list[tuple[int, int]], own: TextScore,
                  alts: list[list[tuple[str, float]]], min_prob: float) -> Evidence:
    """The quote words the judge would have written itself, teacher-forced in the quote's
    context: every token its top prediction, the first with at least ``min_prob``."""
    heard_words = set()
    for w, (a, b) in enumerate(spans):
        if b <= a:
            continue
        top = all(alts[p][0][0] == own.token_strs[p] for p in range(a, b))
        if top and math.exp(own.logprobs[a]) >= min_prob:
            heard_words.add(w)
    match = {i: i for i in range(len(quote.toks)) if quote.word_of[i] in heard_words}
    return Evidence(label + " top", quote, match)


def listen(scorer: TextScorer, ctx, quote: Side, frame: Frame, evidence: list[Evidence],
           options: AdjudicateOptions) -> tuple[TextScore, list[list[tuple[str, float]]]]:
    """Add what one scorer hears of the quote to ``evidence``: the quote words it would
    write itself (its top predictions), then, while words stay unheard, its beam.

    Returns:
        The quote's score and the top-k tokens at each position, under this scorer.
    """
    own, alts = scorer.score_with_alternatives(ctx, frame.text(quote.words), k=options.top_k)
    if options.top1_prob:
        evidence.append(top1_evidence(scorer.name, quote, frame.rendered_spans(scorer, quote.words),
                                      own, alts, options.top1_prob))
    if options.beam_size and unheard_runs(quote, evidence):
        evidence += [evidence_of(scorer.name, h.split(), quote)
                     for h in scorer.hypotheses(ctx, beam_size=options.beam_size)]
    return own, alts
