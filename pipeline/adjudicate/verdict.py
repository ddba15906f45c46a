"""Deciding the verdict and its confidence from the span tests.

Any contradicted span makes a ``misquote``; all spans supported make ``verbatim``
(``minor`` if the words differ from what was heard only in form); anything else is
``unverifiable``, with the span a person should replay. How sure each verdict is comes
from the margins, by the confidence options of :class:`AdjudicateOptions`.
"""

from __future__ import annotations

import math

from pipeline import text as textmod
from pipeline.adjudicate.evidence import Evidence, Side
from pipeline.adjudicate.judgement import Judgement, SpanOutcome, SpanTest, Trial, WordJudgement
from pipeline.adjudicate.options import AdjudicateOptions
from pipeline.audio import SAMPLE_RATE
from pipeline.records import Verdict, Word, WordStatus

FORMAL = frozenset({"contraction", "filler", "number format", "hyphenation", "spacing",
                    "abbreviation", "typo"})
"""Differences of form (:func:`pipeline.text.same_form`'s reasons) that make a quote
``minor`` rather than ``verbatim``; case, punctuation and apostrophes do not."""

OTHER_LINE = ("the audio here differs in too many of the quote's words for one misquote: "
              "it may be another transmission")
"""The difference reported where the audio contradicts too much of a quote."""


def decide(trial: Trial, tests: list[SpanTest], aligned: list[Word]) -> Judgement:
    """The verdict on a quote part from its span tests, with the evidence a person reads.

    Args:
        trial: The quote part's trial.
        tests: Every span test, in the quote's order.
        aligned: Forced-alignment times of each quote word (relative to the window).
    """
    quote, options = trial.quote, trial.options
    other_line = contradicted_share(tests, quote) > options.max_contradicted_share
    for t in tests if other_line else []:
        t.outcome = SpanOutcome.DOUBTFUL if t.outcome is SpanOutcome.CONTRADICTED else t.outcome
    words = word_judgements(trial, tests, aligned)
    differences = _differences(tests) + ([OTHER_LINE] if other_line else [])
    before, after = context(trial.transcript, trial.heard_words, options.context_words)
    verdict, confidence, doubt = _verdict(trial, tests)
    doubtful = [w for w in words if w.supported is not True and w.word]
    listen = doubtful or words
    return Judgement(
        verdict=verdict, confidence=float(confidence), words=words, differences=differences,
        heard_text=" ".join(w.word.strip() for w in trial.heard_words),
        listen_start=min(w.start for w in listen) - options.listen_pad_s if listen else 0.0,
        listen_end=max(w.end for w in listen) + options.listen_pad_s if listen else 0.0,
        doubt=float(doubt), spans=tests, said_before=before, said_after=after)


def _verdict(trial: Trial, tests: list[SpanTest]) -> tuple[Verdict, float, float]:
    """(verdict, confidence, doubt) from the span tests' outcomes and margins."""
    options = trial.options
    outcomes = {t.outcome for t in tests} - {SpanOutcome.FORM}
    if SpanOutcome.CONTRADICTED in outcomes:
        worst = -min(m for t in tests if t.outcome is SpanOutcome.CONTRADICTED for m in t.margins)
        confidence = misquote_confidence(worst, options)
        if doubtful_share(tests, trial.quote) > options.clear_doubtful_share:
            confidence = min(confidence, options.unclear_misquote_confidence)
        return Verdict.MISQUOTE, confidence, 0.0
    if outcomes <= {SpanOutcome.SUPPORTED}:
        formal = any(t.outcome is SpanOutcome.FORM for t in tests)
        verdict = Verdict.MINOR if formal else verbatim_or_minor(trial.quote, trial.transcript)
        margins = [m for t in tests for m in t.margins[:1]]
        return verdict, supported_confidence(margins, any(t.unclear for t in tests), options), 0.0
    doubt = 1.0 + max(-t.margins[0] if t.margins else 0.0 for t in tests
                      if t.outcome is SpanOutcome.DOUBTFUL)
    return Verdict.UNVERIFIABLE, options.unverifiable_confidence, doubt


def misquote_confidence(margin: float, options: AdjudicateOptions) -> float:
    """How sure a misquote is, from the smallest margin (nats) by which a scorer
    contradicts the quote.

    >>> round(misquote_confidence(6.0, AdjudicateOptions()), 2)
    0.78
    """
    return 1 - math.exp(-margin / options.misquote_confidence_nats)


def supported_confidence(margins: list[float], unclear: bool, options: AdjudicateOptions) -> float:
    """How sure a confirmed quote is, from the judge's margins over the spans it had to
    test (none: every word heard); ``unclear`` where an edge number was favoured, not heard.

    >>> supported_confidence([], False, AdjudicateOptions())
    0.99
    >>> round(supported_confidence([1.0], False, AdjudicateOptions()), 2)
    0.7
    """
    if not margins:
        confidence = options.heard_confidence
    else:
        confidence = 1 - options.supported_doubt * math.exp(-min(margins) / options.supported_confidence_nats)
    if unclear:
        confidence = min(confidence, options.edge_number_confidence)  # favoured, not heard
    return confidence


def _differences(tests: list[SpanTest]) -> list[str]:
    """Readable differences, one per span not supported, and one per edge number favoured
    but not heard."""
    out = [f'audio says "{t.heard}", quote says "{t.quoted}"'
           + (" (same words, other form)" if t.outcome is SpanOutcome.FORM else "")
           for t in tests if t.outcome is not SpanOutcome.SUPPORTED]
    out += [f'recognisers heard "{t.unclear}" for "{t.quoted}" at the edge (clipped as '
            f'the radio keyed up?); of the numbers one digit away, the audio favours the quote\'s'
            for t in tests if t.unclear]
    return out


def doubtful_share(tests: list[SpanTest], quote: Side) -> float:
    """Share of the quote's words the audio left undecided (a junction counts as one)."""
    n = sum(max(1, t.word_end - t.word_start) for t in tests if t.outcome is SpanOutcome.DOUBTFUL)
    return n / max(1, len(quote.words))


def contradicted_share(tests: list[SpanTest], quote: Side) -> float:
    """Share of the quote's words the audio contradicts (a junction counts as one word)."""
    n = sum(max(1, t.word_end - t.word_start) for t in tests if t.outcome is SpanOutcome.CONTRADICTED)
    return n / max(1, len(quote.words))


def verbatim_or_minor(quote: Side, transcript: Evidence) -> Verdict:
    """``minor`` when the quote's words differ from what was heard only in form."""
    matched = list(transcript.match.values())
    if not matched or len(transcript.match) < len(quote.toks):
        return Verdict.VERBATIM
    heard = transcript.side.words[transcript.side.word_of[min(matched)]:
                                  transcript.side.word_of[max(matched)] + 1]
    reason = textmod.same_form(quote.words, heard) or "same"
    return Verdict.MINOR if FORMAL & set(reason.split(", ")) else Verdict.VERBATIM


def word_judgements(trial: Trial, tests: list[SpanTest], aligned: list[Word]) -> list[WordJudgement]:
    """One judgement per quote word (and per missing word), with aligned times."""
    quote, transcript, start_s = trial.quote, trial.transcript, trial.window_start_s
    out = []
    status_of = {}
    for t in tests:
        for w in range(t.word_start, t.word_end):
            if t.outcome is SpanOutcome.FORM:
                status_of[w] = (t, WordStatus.FORM)
            elif t.outcome is not SpanOutcome.SUPPORTED:
                status_of[w] = (t, WordStatus.ADDED if not t.heard else WordStatus.CHANGED)
    heard_by_word = {}
    for i, j in transcript.match.items():
        heard_by_word[quote.word_of[i]] = transcript.side.words[transcript.side.word_of[j]]
    for w, word in enumerate(quote.words):
        timing = aligned[w] if w < len(aligned) else None
        for t in tests:
            if t.word_start == t.word_end == w and (t.heard and t.outcome is SpanOutcome.DOUBTFUL
                                                    or t.outcome is SpanOutcome.CONTRADICTED):
                out.append(_missing(t, w, timing, start_s))
        test, status = status_of.get(w, (None, WordStatus.MATCH))
        out.append(WordJudgement(
            word=word, index=w, status=status,
            heard=heard_by_word.get(w, word) if test is None else test.heard,
            start=start_s + (timing.start if timing else 0.0),
            end=start_s + (timing.end if timing else 0.0),
            probability=timing.probability if timing else 0.0,
            supported=True if test is None else test.outcome.holds))
    return out


def _missing(test: SpanTest, w: int, timing: Word | None, window_start_s: float) -> WordJudgement:
    """A word the audio holds and the quote lacks, before quote word ``w``."""
    at = window_start_s + (timing.start if timing else 0.0)
    holds = test.outcome.holds
    return WordJudgement(word="", index=w, status=WordStatus.MISSING, heard=test.heard, start=at,
                         end=at, probability=0.0, supported=None if holds is None else not holds)


def context(transcript: Evidence, heard_words: list[Word], n: int) -> tuple[str, str]:
    """A few words heard just before and after the quote."""
    if not transcript.match:
        return "", ""
    first = transcript.side.word_of[min(transcript.match.values())]
    last = transcript.side.word_of[max(transcript.match.values())]
    words = [w.word.strip() for w in heard_words]
    return " ".join(words[max(0, first - n):first]), " ".join(words[last + 1:last + 1 + n])


def too_short(quote: Side, heard_words: list[Word], window_start_s: float, n_samples: int,
              options: AdjudicateOptions) -> Judgement:
    """The judgement on a quote too short to judge: unverifiable, its words unjudged."""
    start = heard_words[0].start if heard_words else window_start_s
    end = heard_words[-1].end if heard_words else window_start_s + n_samples / SAMPLE_RATE
    return Judgement(verdict=Verdict.UNVERIFIABLE, confidence=options.too_short_confidence,
                     words=[WordJudgement(w, i, WordStatus.MATCH, "", start, end, 0.0, None)
                            for i, w in enumerate(quote.words)],
                     differences=["too short to verify on its own"],
                     heard_text=" ".join(w.word.strip() for w in heard_words),
                     listen_start=start, listen_end=end, doubt=options.too_short_doubt)
