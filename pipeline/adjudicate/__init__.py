"""Adjudicating a located quote on its audio: the audio decides, and says when it cannot.

Where a quote and the recogniser's words differ, either the recogniser misheard or
the article misquoted. Whisper's decoder is the judge, through teacher-forced
scoring (``scoring.py``). One quote part's trial runs in four steps, one module each:

1. :mod:`~pipeline.adjudicate.evidence`: every word of the quote, and every junction
   between two neighbouring words, that a recogniser heard (the transcript's words, a
   scorer's top prediction teacher-forced in the quote's context, or a beam hypothesis
   of any scorer, the witnesses' included) counts as heard. The rest form *doubtful
   spans*.
2. :mod:`~pipeline.adjudicate.candidates`: for each doubtful span, the quote's strongest
   alternatives, each the quote with only that span changed. Texts share casing and
   punctuation (:mod:`~pipeline.adjudicate.frame` scores them in the words heard around
   the quote), and are compared by mean log-probability per token (the sum rewards
   shorter text).
3. :mod:`~pipeline.adjudicate.spans`: each span is supported, contradicted or left
   doubtful by pairwise tests.
4. :mod:`~pipeline.adjudicate.verdict`: any contradicted span makes a ``misquote``; all
   spans supported make ``verbatim`` (``minor`` if the words differ from what was heard
   only in form); anything else is ``unverifiable``, with the span a person should replay.

A single model is self-biased (where it mishears, it scores its own words far above
the truth), so nothing here is called ``misquote`` on one model's say-so alone unless
the margin is large, and nothing unheard is called ``verbatim`` without a pairwise win.

This package is pure apart from the scorers it is handed: no files, no model loading.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from pipeline import spoken
from pipeline import text as textmod
from pipeline.adjudicate import candidates as cands
from pipeline.adjudicate.evidence import (
    Evidence,
    Side,
    cut_window,
    evidence_of,
    listen,
    unheard_runs,
)
from pipeline.adjudicate.frame import best_frame, fit, frame_around
from pipeline.adjudicate.judgement import (
    Judgement,
    SpanOutcome,
    SpanTest,
    Trial,
    WordJudgement,
)
from pipeline.adjudicate.options import AdjudicateOptions
from pipeline.adjudicate.spans import form_test, judge_span, split_edges, split_forms
from pipeline.adjudicate.verdict import decide, too_short
from pipeline.records import Word
from pipeline.scoring import TextScorer

__all__ = [
    "AdjudicateOptions",
    "Judgement",
    "SpanOutcome",
    "SpanTest",
    "WordJudgement",
    "adjudicate",
    "compare_versions",
    "cut_window",
]


def adjudicate(quote_text: str, heard_words: list[Word], window: np.ndarray,
               window_start_s: float, scorers: Sequence[TextScorer],
               options: AdjudicateOptions | None = None,
               span: tuple[float, float] | None = None) -> Judgement:
    """Judge one located quote part on its audio.

    Args:
        quote_text: The quote part as published.
        heard_words: The recogniser's words over the window (absolute times); the quote
            is found inside them, the rest is context.
        window: The audio (float32 mono 16 kHz, at most 30 s), see :func:`cut_window`.
        window_start_s: Where the window starts in the recording, seconds.
        scorers: ``scoring.Scorer`` objects, the judge first (base), optional second
            witnesses after it (tiny.en).
        options: Thresholds; defaults when None.
        span: Where the quote was located (absolute seconds), when known: heard words
            outside it are the context the texts are scored in.

    Returns:
        The :class:`Judgement`.
    """
    options = options or AdjudicateOptions()
    quote = Side.of(textmod.split_words(quote_text))
    if len(quote.toks) < options.min_words:
        return too_short(quote, heard_words, window_start_s, len(window), options)
    judge = scorers[0]
    jctx = judge.encode(window)
    evidence = [evidence_of("transcript", [w.word.strip() for w in heard_words], quote)]
    trial = Trial(quote, evidence[0], heard_words, window_start_s, options, len(scorers))
    heard_frame = frame_around(quote, trial.transcript, heard_words, span)
    frame = best_frame(judge, jctx, quote, heard_frame, trial.transcript)
    trial.positions = frame.positions(judge, quote.words)
    trial.typos = typos(quote.words, judge)
    own, alts = listen(judge, jctx, quote, frame, evidence, options)
    for witness in scorers[1:] if options.witness_evidence else []:
        if not unheard_runs(quote, evidence):
            break
        listen(witness, witness.encode(window), quote, frame, evidence, options)
    trial.probs = [math.exp(v) for v in own.logprobs]
    runs, forms = split_forms(quote, unheard_runs(quote, evidence), evidence)
    runs = split_edges(quote, runs)
    trial.alternatives = _alternatives(trial, runs, evidence, frame, own, alts, judge)
    texts = [c.text or frame.text(c.words) for c in trial.alternatives]
    trial.scores = [[own] + (judge.score(jctx, texts) if texts else [])]
    tests = [judge_span(trial, k, run) for k, run in enumerate(runs)]
    if len(scorers) > 1 and any(t.outcome is SpanOutcome.CONTRADICTED for t in tests):
        # a second witness is asked only where the judge alone would contradict the quote
        for witness in scorers[1:]:
            wctx = witness.encode(window)
            trial.scores.append(witness.score(wctx, [frame.text(quote.words)] + texts))
        tests = [judge_span(trial, k, run) for k, run in enumerate(runs)]
    # times come from the heard words' frame: a quote with nothing before it in the text
    # is stretched back to the window's start by the alignment
    aligned = heard_frame.aligned(judge, jctx, quote.words)
    tests += [form_test(quote, run, reading) for run, reading in forms]
    tests.sort(key=lambda t: t.word_start)
    judgement = decide(trial, tests, aligned)
    judgement.fit = fit(own, trial.positions)
    return judgement


def typos(words: list[str], judge: TextScorer) -> set[int]:
    """Quote words that look like a typo of a word the judge knows better: one of its
    :func:`~pipeline.text.typo_fixes` takes the judge's tokenizer fewer tokens than the
    word (``insretion`` 3, ``insertion`` 2; ``westbound`` 2, its fixes 3 or more). A word
    taken for a typo is only never contradicted: a misquote missed, never one made."""
    out = set()
    for w, word in enumerate(words):
        core = spoken.strip_edges(word)
        n = len(judge.tokens(core)) if len(core) >= textmod.MIN_TYPO_LETTERS else 0
        if n > 1 and any(len(judge.tokens(fix)) < n for fix in textmod.typo_fixes(core)):
            out.add(w)
    return out


def _alternatives(trial: Trial, runs, evidence: list[Evidence], frame, own, alts,
                  judge: TextScorer) -> list[cands.Alternative]:
    """The texts each doubtful span is tested against: readings and the judge's token
    swaps, nearest spans first, at most ``max_alternatives`` of them, then every number
    one digit away."""
    quote, options = trial.quote, trial.options
    top = cands.top_words(alts, own.token_strs, trial.positions[:-1])
    spans = frame.rendered_spans(judge, quote.words)
    swaps = cands.token_swaps(quote, runs, own.token_strs[:-1], alts, spans, options.token_alternatives)
    readings = cands.readings(quote, runs, evidence, top, options.max_dropped_words)
    found = cands.distinct(readings + [c for c in swaps if c.source is cands.Source.TOKEN],
                           frame, own.text)[:options.max_alternatives]
    return cands.distinct(found + [c for c in swaps if c.source is cands.Source.DIGIT], frame, own.text)


def compare_versions(texts: list[str], window: np.ndarray, scorer: TextScorer) -> list[float]:
    """Mean log-probability per token of each version of one line, on its audio.

    Two articles quoting one line differently: the higher score is usually what was said
    (the mean, not the sum, so a version that drops a word gains nothing by being short).

    Args:
        texts: The versions, with the same casing and punctuation conventions.
        window: The line's audio (float32 mono 16 kHz, at most 30 s).
        scorer: A ``scoring.Scorer``.

    Returns:
        One mean log-probability per text, in order.
    """
    ctx = scorer.encode(window)
    return [s.mean for s in scorer.score(ctx, texts)]
