"""Quotes in, verdicts out: locate each quote in the transcripts, let the audio judge it.

For every quote (and every part of an ellipsis quote) the best region is found in
the transcripts (``locate.WordIndex``), the audio around it is cut once, and the
judging models decide (``adjudicate.adjudicate``). The parts' judgements are joined
into one ``QuoteCheck`` with the evidence: where, who, what was heard, the words
that differ, what an ellipsis left out, and the words said just before and after.

Quotes from different sources that land on the same stretch of audio share a
``line_id``; where their words differ, the versions are scored against each other
on that audio, and a version the audio disfavours is never left ``verbatim``.

:func:`verify_paths` is the whole workflow of ``dispatch verify``: quotes and
recordings in, transcripts and verdicts written as tables.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline import calibration, spoken
from pipeline.adjudicate import (
    AdjudicateOptions,
    Judgement,
    SpanOutcome,
    adjudicate,
    cut_window,
)
from pipeline.audio import SAMPLE_RATE
from pipeline.calibration import Calibration
from pipeline.calls import scope_quotes
from pipeline.errors import DispatchError
from pipeline.excerpts import ExcerptOptions, cut_short
from pipeline.lines import assign_lines, compare_line_versions
from pipeline.locate import LocateOptions, Region, WordIndex
from pipeline.progress import bar as progress_bar
from pipeline.progress import stage
from pipeline.records import Quote, QuoteCheck, QuoteWord, Speaker, Transcript, Verdict, Word, WordStatus
from pipeline.scoring import TextScorer
from pipeline.text import split_words

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.batch import BatchSummary
    from pipeline.transcribe import TranscribeOptions

__all__ = [
    "JudgedPart", "VerifyError", "VerifyOptions", "VerifyRun", "assign_lines", "check_quote",
    "compare_line_versions", "heard_words_between", "load_quote_files", "load_scorers",
    "rank_for_review", "verify_paths", "verify_quotes", "without_loops",
]

log = logging.getLogger(__name__)


class VerifyError(DispatchError):
    """Quotes that cannot be read, or judging models that cannot be loaded."""


@dataclass
class VerifyOptions:
    """How quotes are located and judged."""

    judge_model: str = "base"
    """The model that judges audio (teacher-forced scoring)."""
    witness_model: str | None = "tiny.en"
    """A second model whose beam hypotheses and scores add evidence; None for none."""
    locate: LocateOptions = field(default_factory=LocateOptions)
    """How quotes are searched for in the transcripts."""
    adjudicate: AdjudicateOptions = field(default_factory=AdjudicateOptions)
    """How a located quote is judged on its audio."""
    excerpt: ExcerptOptions = field(default_factory=ExcerptOptions)
    """When a confirmed quote is cut short of what was said in one breath."""
    calibration: Calibration | None = None
    """The table that turns a verdict's strength into its confidence; None for the one
    shipped in ``pipeline/data/calibration.csv``."""
    version_margin: float = 0.3
    """Mean log-probability per token by which one version of a line must beat another
    for the loser to lose a ``verbatim`` verdict."""
    weak_score: float = 0.3
    """Ellipsis parts near a found part are looked for down to this transcript match."""
    near_s: float = 30.0
    """How far (seconds) from a found part a missing ellipsis part is looked for."""
    alternatives: int = 2
    """Other regions a quote is judged at when the audio at its best match contradicts it
    (each costs one adjudication). Formulaic lines recur ("Ten four, eight thirty-three"), and
    the transcript's best match may be another transmission than the one quoted."""
    alternative_score: float = 0.2
    """Lowest transcript match for such a region."""
    part_regions: int = 5
    """Regions looked at, beside a found part, for an ellipsis part not found (the first
    that lies between its neighbours is taken)."""
    search_score: float = 0.15
    """A quote below ``locate.min_score`` everywhere is searched in the audio at the
    stretches whose transcript matches at least this share of it (the shared and
    sound-alike words); below it everywhere, the transcript shares almost nothing."""
    search_regions: int = 2
    """How many such stretches are judged on the audio (each costs one adjudication)."""
    absent_held_share: float = 0.25
    """Where the audio holds at least this share of a weakly matched quote's words (heard,
    or won a pairwise test), the line may be there, misheard: ``unverifiable``, not
    ``not_found``. On real air-to-ground radio (``bench/bench_verify.py --sets a2g-dev``)
    spoken lines placed there held 17-33 % and absent ones 8-33 %: the share hardly tells
    them apart, so only a stretch that holds almost none of the quote says absent."""
    not_found_confidence: float = 0.5
    """The strength of ``not_found`` after the audio was searched at weak matches (its
    confidence is measured: :mod:`pipeline.calibration`)."""
    unmatched_confidence: float = 0.9
    """The strength of ``not_found`` when no transcript shares even ``search_score`` of
    the quote."""
    elsewhere_windows: int = 4
    """Transmissions, spread over the recordings, whose audio a weakly matched quote is also
    scored on (see ``_second_chance``)."""
    held_fit_nats: float = 1.0
    """A weakly matched quote that the audio of a stretch fits by this much more (mean
    log-probability per token) than other transmissions' audio may be there, however few
    of its words were heard: ``unverifiable``. On the development sets (a2g-dev, hard-dev)
    absent lines reached at most +0.45, spoken ones mostly +0.7 to +4."""
    unheard_rate: float = 0.5
    """A transmission for which the recogniser wrote fewer words a second than this was
    barely transcribed (speech is 2-4 words a second): a quote no transcript holds is also
    weighed against its audio (``_unless_unheard``)."""
    unheard_min_s: float = 1.5
    """Shortest such transmission, seconds."""
    unheard_stretches: int = 2
    """Most such transmissions a quote is weighed against (each costs one encoding)."""
    fastest_words_per_s: float = 5.0
    """A quote of n words takes at least n / this seconds to say."""
    loop_repeats: int = 3
    """A run of words the recogniser wrote this many times over in a row is a decoder loop:
    cut to its first pass before judging (a loop is no evidence)."""
    decide_nats: float = 0.2
    """Where versions of a line differ in words, one the audio disfavours by at least this
    (mean log-probability per token) is a ``misquote``, and the favoured one is not. On
    real police radio every version disfavoured by 0.2 or more was the misquote (49 of
    49), and 6 of the 8 true lines called misquote there were favoured; the figures on
    this project's sets are in ``bench/results/verify.txt``. Lower decides more pairs, at the risk
    of a near tie."""
    version_shared_share: float = 0.6
    """Two texts on one stretch of audio are versions of one line when they share at
    least this share of the longer one's words; below it they are two lines that landed
    on the same audio (a weak match placed beside another line), and neither decides the
    other. Every one-edit version shares 0.8 or more of a line of five words."""
    decided_confidence: float = 0.95
    """The strength of a ``misquote`` decided between versions."""
    version_loss_confidence: float = 0.5
    """Most strength left to a quote made ``unverifiable`` because the audio favours
    another version of its line."""


@dataclass
class JudgedPart:
    """One part of a quote (the whole quote when it has no ellipsis): where it was located
    and what the audio says there."""

    text: str
    """The part as published."""
    region: Region | None
    """Where it was located; None where it was not found."""
    judgement: Judgement | None = None
    """The audio's judgement there; None where it was not found."""
    offset_s: float = 0.0
    """For the stretch of a quote said in the next call of its talkgroup: seconds by the wall
    clock from the start of the quote's first call to this call's. Its region's and its
    judgement's times are moved by it, so every time of the quote counts from the first
    call's start."""


@dataclass
class VerifyRun:
    """What :func:`verify_paths` did."""

    summary: BatchSummary
    """The transcription batch: transcripts, failures, timings."""
    checks: list[QuoteCheck]
    """One verdict per quote, in the quotes' order."""
    paths: list[Path]
    """The tables written (``quotes.csv``, ``quote_words.csv``)."""


def verify_quotes(
    quotes: Sequence[Quote],
    transcripts: Sequence[Transcript],
    samples_for: Callable[[str], np.ndarray],
    scorers: Sequence[TextScorer],
    options: VerifyOptions | None = None,
    progress: bool = False,
    speakers: Sequence[Speaker] = (),
) -> list[QuoteCheck]:
    """Check every quote against the recordings.

    Args:
        quotes: Quotes from articles or a quotes table.
        transcripts: Transcripts of the recordings (with speaker labels, if any).
        samples_for: Returns a recording's decoded samples (16 kHz mono float32).
        scorers: ``scoring.Scorer`` objects, the judge first.
        options: Options; defaults when None.
        progress: Show a progress bar on stderr.
        speakers: The batch's speakers with their roles (``BatchSummary.speakers``), so an
            attribution is checked against a renamed speaker's role.

    Returns:
        One ``QuoteCheck`` per quote, in the quotes' order.
    """
    options = options or VerifyOptions()
    index = WordIndex(list(transcripts), options.locate)
    stage(f"verifying {len(quotes)} quotes", progress)
    try:
        checks = [check_quote(q, index, samples_for, scorers, options)
                  for q in progress_bar(progress, iterable=quotes, desc="verifying", unit="quote")]
    finally:
        _ELSEWHERE.clear()
    for check in checks:
        _check_attribution(check, speakers)
    assign_lines(checks)
    compare_line_versions(checks, samples_for, scorers[0], options)
    rank_for_review(checks)
    calibrate(checks, options.calibration)
    return checks


def calibrate(checks: Sequence[QuoteCheck], table: Calibration | None = None) -> None:
    """Give each check the confidence its verdict and strength earned on the development
    sets (``table``, default the shipped one); none for ``unverifiable``."""
    table = table or calibration.shipped()
    for check in checks:
        check.confidence = table.confidence(check.verdict, check.strength)


def rank_for_review(checks: Sequence[QuoteCheck]) -> None:
    """Number the unverifiable quotes for a person to replay, most doubtful first: the most
    stretches the audio left undecided, then the furthest it leans from the quote at one
    of them; ties keep the quotes' order."""
    doubtful = sorted((c for c in checks if c.verdict is Verdict.UNVERIFIABLE),
                      key=lambda c: (-c.doubtful_spans, -c.doubt))
    for n, c in enumerate(doubtful, 1):
        c.review_rank = n


def check_quote(quote: Quote, index: WordIndex, samples_for: Callable[[str], np.ndarray],
                scorers: Sequence[TextScorer], options: VerifyOptions) -> QuoteCheck:
    """Locate one quote and judge each of its parts on the audio."""
    found = index.locate(quote)
    if not any(found) and quote.too_short:
        return QuoteCheck(quote=quote, verdict=Verdict.UNVERIFIABLE,
                          strength=options.adjudicate.too_short_confidence,
                          doubt=options.adjudicate.too_short_doubt,
                          reasons=["too short to verify on its own"])
    if not any(found):
        return _second_chance(quote, index, samples_for, scorers, options)
    best = _fill_missing_parts(quote, [c[0] if c else None for c in found], index, options)
    judged = _judge_parts(quote, best, index, samples_for, scorers, options)
    note = None
    if len(judged) == 1:
        judged[0], note = _best_place(quote, judged[0], index, samples_for, scorers, options)
    check = _join(quote, judged, index)
    if note:
        check.reasons.append(note)
    if len(judged) == 1 and check.verdict in (Verdict.VERBATIM, Verdict.MINOR):
        _mark_cut_short(check, judged[0], index, options.excerpt)
    return check


def _mark_cut_short(check: QuoteCheck, part: JudgedPart, index: WordIndex,
                    options: ExcerptOptions) -> None:
    """A confirmed quote that stops a word or two short of what was said in one breath is
    a ``misquote`` (see :mod:`pipeline.excerpts`)."""
    region = part.region
    transcript = index.transcript(region.recording)
    cut = cut_short(transcript, region.word_start, region.word_end, split_words(part.text), options)
    if cut is None:
        return
    check.verdict = Verdict.MISQUOTE
    check.strength = options.strength
    check.differences.append(cut.difference())
    check.reasons.append("every word was said, but the quote is cut short mid-phrase")


def _best_place(quote: Quote, judged: JudgedPart, index: WordIndex, samples_for, scorers,
                options: VerifyOptions) -> tuple[JudgedPart, str | None]:
    """Where a quote was said, when the audio at its best match contradicts it.

    Formulaic lines recur ("Ten four, eight thirty-three"), so the transcript's best match
    may be another transmission that shares the quote's call signs, whose audio then
    "contradicts" a true quote. The next best regions are judged in full too, and the
    misquote stands unless one of them confirms the quote, or holds more of its words
    without contradicting it (then the better fit of those is reported). Quotes left
    ``unverifiable`` are not moved: on every benchmark set, scoring them at other places
    moved none of them.

    Returns:
        (the chosen part, a reason to report, or None).
    """
    if judged.judgement.verdict is not Verdict.MISQUOTE or not options.alternatives:
        return judged, None
    (near,) = index.locate(quote, top_k=options.alternatives + 2, min_score=options.alternative_score)
    others = [c for c in near if not _same_region(c, judged.region)][:options.alternatives]
    if not others:
        return judged, None
    tried = [JudgedPart(judged.text, c, _judge(judged.text, c, index.transcript(c.recording),
                                                samples_for, scorers, options))
             for c in others]
    better = [t for t in tried if _holds_more(t.judgement, judged.judgement)]
    if not better:
        return judged, (f"also judged at {len(tried)} other place(s) the transcript nearly "
                        "matches; none fits the quote better")
    best = max(better, key=lambda t: (t.judgement.verdict.confirms, t.judgement.fit))
    return best, (f"the transcript matched best at {_where(judged.region)}, where the audio "
                  "contradicts the quote; judged here instead")


def _holds_more(j: Judgement, first: Judgement) -> bool:
    """Whether another place speaks for a quote its best match contradicts: it confirms the
    quote, or holds more of its words than the first place without contradicting it."""
    verdict = Verdict(j.verdict)
    return verdict.confirms or (verdict is not Verdict.MISQUOTE and j.held > first.held)


def _same_region(a: Region, b: Region) -> bool:
    return a.recording == b.recording and a.start_s < b.end_s and b.start_s < a.end_s


def _where(c: Region) -> str:
    return f"{c.recording} {c.start_s:.1f}-{c.end_s:.1f} s"


def _judge_parts(quote: Quote, best: list[Region | None], index: WordIndex, samples_for, scorers,
                 options: VerifyOptions) -> list[JudgedPart]:
    """One judged part per part of the quote (unjudged where it was not found); a part that
    runs on into the next call of its talkgroup is judged call by call, each on its own
    audio, with the words said in it."""
    judged = []
    for text, region in zip(quote.parts or [quote.text], best):
        if region is None:
            judged.append(JudgedPart(text, None))
            continue
        for words, piece in _call_pieces(text, region):
            transcript = index.transcript(piece.recording)
            judgement = _judge(words, piece, transcript, samples_for, scorers, options)
            judged.append(_on_first_clock(JudgedPart(words, piece, judgement), index, region))
    return judged


def _call_pieces(text: str, region: Region) -> list[tuple[str, Region]]:
    """The quoted words said in each call a region runs across, with that call's region
    (the text and region as they are for a region inside one recording)."""
    if region.next_call is None:
        return [(text, region)]
    words, pieces, start = split_words(text), [], 0
    while region.next_call is not None:
        pieces.append((" ".join(words[start:region.next_call.split_word]), region))
        start, region = region.next_call.split_word, region.next_call
    return [*pieces, (" ".join(words[start:]), region)]


def _on_first_clock(part: JudgedPart, index: WordIndex, first: Region) -> JudgedPart:
    """A part said in a later call than ``first``'s, its times moved to count from the start
    of ``first``'s call (unchanged in ``first``'s own recording)."""
    if part.region.recording == first.recording:
        return part
    began = index.transcript(first.recording).call.started_at
    part.offset_s = off = round((index.transcript(part.region.recording).call.started_at
                                 - began).total_seconds(), 3)
    part.region = replace(part.region, start_s=part.region.start_s + off,
                          end_s=part.region.end_s + off)
    j = part.judgement
    part.judgement = replace(j, listen_start=j.listen_start + off, listen_end=j.listen_end + off,
                             words=[replace(w, start=w.start + off, end=w.end + off) for w in j.words])
    return part


def _fill_missing_parts(quote: Quote, best: list[Region | None], index: WordIndex,
                        options: VerifyOptions) -> list[Region | None]:
    """Look again, with a lower floor, for ellipsis parts not found, beside the found ones."""
    parts = quote.parts or [quote.text]
    for i, region in enumerate(best):
        if region is not None:
            continue
        before = next((c for c in reversed(best[:i]) if c is not None), None)
        after = next((c for c in best[i + 1:] if c is not None), None)
        anchor = before or after
        docs = [n for n, d in enumerate(index.docs) if d.transcript.recording == anchor.recording]
        lo = before.end_s if before else anchor.start_s - options.near_s
        hi = after.start_s if after else anchor.end_s + options.near_s
        near = [c for c in index.locate_text(parts[i], i, docs, top_k=options.part_regions,
                                             min_score=options.weak_score)
                if lo - 0.5 <= c.start_s and c.end_s <= hi + 0.5]
        best[i] = near[0] if near else None
    return best


def _second_chance(quote: Quote, index: WordIndex, samples_for, scorers,
                   options: VerifyOptions) -> QuoteCheck:
    """A quote the transcript barely matches, searched in the audio itself.

    The few stretches whose transcript shares most words with the quote (down to
    ``search_score``) are judged on the audio. Where the audio confirms the quote, it is
    found there. Otherwise the line may be there, misheard (``unverifiable``, with the span
    to replay), where the audio holds at least ``absent_held_share`` of its words, or where
    the audio of a stretch fits the quote ``held_fit_nats`` better than other
    transmissions' audio does (``_fit_elsewhere``), however few words were heard. Only
    where neither holds is it ``not_found``.
    """
    reason = "no recording holds words close enough to this quote"
    weak = index.locate(quote, top_k=options.search_regions, min_score=options.search_score)
    if not all(weak):
        if any(weak):
            reason += "; some of its parts match a region weakly, the others nowhere"
        return _unless_unheard(QuoteCheck(quote=quote, verdict=Verdict.NOT_FOUND,
                                          strength=options.unmatched_confidence, reasons=[reason]),
                               index, samples_for, scorers, options)
    tried = [_join(quote, _judge_parts(quote, list(regions), index, samples_for, scorers, options),
                   index) for regions in _region_choices(weak)]
    best = max(tried, key=lambda c: (c.verdict.confirms, _held_share(c), c.start_s))
    if best.verdict.confirms:
        best.reasons.append("the transcript barely matched here, but the audio confirms every word")
        return best
    fits = {id(c): _fit_elsewhere(quote, c, index, samples_for, scorers, options) for c in tried}
    fitted = max(tried, key=lambda c: fits[id(c)] if fits[id(c)] is not None else -math.inf)
    fit = fits[id(fitted)]  # the best fit of any stretch judged
    if fit is not None and fit >= options.held_fit_nats:
        best = fitted
    held = _held_share(best)
    where = f"{best.recording} {best.start_s:.1f}-{best.end_s:.1f} s"
    fit_note = "" if fit is None else (f"the audio fits the quote {fit:+.2f} nats per token "
                                       "against other transmissions at best")
    if held >= options.absent_held_share or (fit is not None and fit >= options.held_fit_nats):
        best.verdict = Verdict.UNVERIFIABLE
        best.strength = options.adjudicate.unverifiable_confidence
        best.doubt = max(best.doubt, 1.0)
        best.differences = []
        best.reasons.append(f"the transcript barely matches this quote; at {where} the audio "
                            f"holds {held:.0%} of its words{', ' + fit_note if fit_note else ''}, "
                            "and does not rule it out: replay it")
        _widen_listen_span(best)
        return best
    reason += (f"; searched in the audio at {len(tried)} stretch(es): the closest, {where} "
               f'(heard "{best.heard_text}"), holds {held:.0%} of its words'
               f"{', and ' + fit_note if fit_note else ''}")
    return _unless_unheard(QuoteCheck(quote=quote, verdict=Verdict.NOT_FOUND,
                                      strength=options.not_found_confidence, reasons=[reason]),
                           index, samples_for, scorers, options)


def _unless_unheard(absent: QuoteCheck, index: WordIndex, samples_for, scorers,
                    options: VerifyOptions) -> QuoteCheck:
    """A quote no transcript holds may still be in speech the recogniser barely wrote down
    (a 13 s transmission transcribed as ".C"): it is ``unverifiable`` there, with the span
    to replay, where the audio of such a stretch fits the quote ``held_fit_nats`` better
    than other transmissions' audio; else ``absent`` stands, saying what was tried."""
    tried = []
    for recording, start, end, words in _unheard_stretches(absent.quote, index, options):
        probe = QuoteCheck(quote=absent.quote, verdict=Verdict.UNVERIFIABLE,
                           strength=options.adjudicate.unverifiable_confidence,
                           recording=recording, start_s=start, end_s=end)
        fit = _fit_elsewhere(absent.quote, probe, index, samples_for, scorers, options)
        if fit is not None:
            tried.append((fit, words, probe))
    if not tried:
        return absent
    fit, words, best = max(tried, key=lambda t: t[0])
    where = f"{best.recording} {best.start_s:.1f}-{best.end_s:.1f} s"
    if fit < options.held_fit_nats:
        absent.reasons.append(f"{len(tried)} stretch(es) of speech the recogniser barely "
                              f"transcribed fit it no better than other audio ({fit:+.2f} nats "
                              "per token at best)")
        return absent
    best.doubt = 1.0
    best.reasons = absent.reasons + [
        f"but the recogniser wrote {words} word(s) for the speech at {where}, and the audio "
        f"there fits the quote {fit:+.2f} nats per token better than other transmissions: "
        "replay it"]
    _widen_listen_span(best)
    return best


def _unheard_stretches(quote: Quote, index: WordIndex,
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


def _fit_elsewhere(quote: Quote, check: QuoteCheck, index: WordIndex, samples_for, scorers,
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
        if key not in _ELSEWHERE:
            _ELSEWHERE[key] = scorer.encode(cut_window(samples_for(recording), start, end,
                                                       options.adjudicate)[0])
    return [_ELSEWHERE[(id(scorer), *seg)] for seg in segs]


_ELSEWHERE: dict = {}
"""Encoded windows of ``_other_audio``, for one ``verify_quotes`` run."""


def _plain(text: str) -> str:
    """Lower case, words only: how a quote is scored against other audio."""
    return " ".join(w.strip(".,;:!?\"“”‘’()[]") for w in text.lower().split()).strip()


def _region_choices(weak: list[list[Region]]) -> list[list[Region]]:
    """Places to judge a weakly matched quote: each part's n-th best region, n = 1, 2, ..."""
    return [[regions[min(n, len(regions) - 1)] for regions in weak]
            for n in range(max(len(r) for r in weak))]


def _held_share(check: QuoteCheck) -> float:
    """Share of the quote's words the audio holds where it was judged (heard, or won a
    pairwise test)."""
    words = [w for w in check.words if w.status is not WordStatus.MISSING]
    return sum(w.status.held for w in words) / len(words) if words else 0.0


def _widen_listen_span(check: QuoteCheck) -> None:
    """The whole located stretch to replay, where the line itself is in doubt."""
    check.listen_start_s = round(max(check.start_s - 0.5, 0.0), 3)
    check.listen_end_s = round(check.end_s + 0.5, 3)


def _judge(text: str, region: Region, transcript: Transcript, samples_for, scorers,
           options: VerifyOptions) -> Judgement:
    """Cut the audio around a located region once and adjudicate the part on it."""
    samples = samples_for(transcript.recording)
    window, start = cut_window(samples, region.start_s, region.end_s, options.adjudicate)
    heard = without_loops(heard_words_between(transcript, start, start + len(window) / SAMPLE_RATE),
                          options.loop_repeats)
    return adjudicate(text, heard, window, start, list(scorers), options.adjudicate,
                      span=(region.start_s, region.end_s))


def _join(quote: Quote, judged: list[JudgedPart], index: WordIndex) -> QuoteCheck:
    """One QuoteCheck from the judged parts of a quote."""
    located = [p for p in judged if p.region is not None]
    first, last = located[0].region, located[-1].region
    verdict = Verdict.worst(*(p.judgement.verdict for p in located))
    doubt = max(p.judgement.doubt for p in located)
    reasons, differences = [], []
    if len(located) < len(judged):
        missing = [i + 1 for i, p in enumerate(judged) if p.region is None]
        verdict = Verdict.worst(verdict, Verdict.UNVERIFIABLE)
        doubt = max(doubt, 1.0)
        reasons.append(f"part {', '.join(map(str, missing))} of the quote was not found")
    multi = len(judged) > 1
    for n, p in enumerate(located, 1):
        prefix = f"part {n}: " if multi else ""
        differences += [prefix + d for d in p.judgement.differences]
    transcript = index.transcript(first.recording)
    check = QuoteCheck(
        quote=quote,
        verdict=verdict,
        strength=round(min(p.judgement.confidence for p in located), 3),
        recording=first.recording,
        start_s=round(_edge(located[0].judgement, first.start_s, "start"), 3),
        end_s=round(_edge(located[-1].judgement, last.end_s, "end"), 3),
        heard_text=" / ".join(p.judgement.heard_text for p in located),
        differences=differences,
        context_before=first.context_before,
        context_after=last.context_after,
        reasons=reasons,
        words=_quote_words(quote.quote_id, located),
        doubtful_spans=sum(t.outcome is SpanOutcome.DOUBTFUL for p in located for t in p.judgement.spans),
        doubt=doubt,
    )
    _add_speaker(check, transcript, _later_calls(located, index))
    _add_splice(check, located, index)
    _add_listen_span(check, located)
    return check


def _edge(judgement: Judgement, fallback: float, side: str) -> float:
    """Where the quote starts (or ends) in the audio: the forced-aligned time of its first
    (or last) word the audio holds, else the recogniser's time."""
    held = [w for w in judgement.words if w.status.held and w.end > w.start]
    if not held:
        return fallback
    return held[0].start if side == "start" else held[-1].end


def _quote_words(quote_id: str, located: list[JudgedPart]) -> list[QuoteWord]:
    """quote_words.csv rows: every word of every located part, numbered through the quote."""
    rows, n = [], 0
    for p in located:
        for w in p.judgement.words:
            quoted = w.status is not WordStatus.MISSING
            rows.append(QuoteWord(
                quote_id=quote_id,
                word_index=n if quoted else max(n - 1, 0),
                word=w.word if quoted else w.heard,
                status=w.status,
                start_s=round(w.start, 3) if w.end > w.start else None,
                end_s=round(w.end, 3) if w.end > w.start else None,
                probability=round(w.probability, 4) if quoted else None,
                heard=w.heard if w.status in (WordStatus.CHANGED, WordStatus.FORM) else "",
            ))
            n += quoted
    return rows


def _later_calls(located: list[JudgedPart],
                 index: WordIndex) -> list[tuple[Transcript, float, float, float]]:
    """The transcripts, spans (in their own times) and clock offsets of a quote's stretches
    said in later calls than its first."""
    return [(index.transcript(p.region.recording), p.region.start_s - p.offset_s,
             p.region.end_s - p.offset_s, p.offset_s) for p in located if p.offset_s]


def _first_call_clock(later: list[tuple[Transcript, float, float, float]]) -> float:
    """The offset that moves the first later call's times onto the first call's clock."""
    return later[0][3]


def _add_speaker(check: QuoteCheck, transcript: Transcript,
                 later: list[tuple[Transcript, float, float, float]] = ()) -> None:
    """Who spoke the located span (and its stretches in later calls); a span across two
    speakers is flagged."""
    names = []
    end = min(check.end_s, later[0][1] + _first_call_clock(later)) if later else check.end_s
    spans = [(transcript, check.start_s, end), *((t, a, b) for t, a, b, _ in later)]
    for source, start, end in spans:
        for seg in source.segments:
            if seg.speaker and seg.end > start and seg.start < end:
                names.append(seg.speaker)
    names = list(dict.fromkeys(names))
    check.speaker = " + ".join(names)
    if len(names) > 1:
        check.reasons.append(f"the quote runs across {len(names)} speakers: {check.speaker}")


def _check_attribution(check: QuoteCheck, speakers: Sequence[Speaker]) -> None:
    """Does the article's attribution fit who spoke? A span across speakers does not."""
    from pipeline.speakers import attribution_matches, speaker_named

    if not check.quote.attributed_to or not check.speaker:
        return
    names = check.speaker.split(" + ")
    if len(names) > 1:
        check.attribution_ok = False
    else:
        check.attribution_ok = attribution_matches(check.quote.attributed_to,
                                                   speaker_named(names[0], speakers))


def _add_splice(check: QuoteCheck, located: list[JudgedPart], index: WordIndex) -> None:
    """Gaps between the parts of a quote, and between the transmissions a part runs
    across: seconds, words left out, out-of-order parts."""
    gaps, omitted = [], []
    regions = [p.region for p in located]
    for a, b in zip(regions, regions[1:]):
        if b.call_gap_s is not None and a.next_call is not None:
            talkgroup = index.transcript(a.recording).call.talkgroup
            check.reasons.append(f"the quote runs across two calls on talkgroup {talkgroup}: "
                                 f"{a.recording}, then {b.recording}, {b.call_gap_s:.2f} s later")
            gaps.append(max(0.0, b.call_gap_s))
            continue
        if a.recording != b.recording:
            check.reasons.append(f"the quote's parts come from two recordings: {a.recording}, "
                                 f"{b.recording}")
            continue
        if b.word_start < a.word_end:
            check.reasons.append("the quote's parts are out of order in the audio")
            check.verdict = Verdict.worst(check.verdict, Verdict.UNVERIFIABLE)
            check.doubt = max(check.doubt, 1.0)
            continue
        words = index.transcript(a.recording).words[a.word_end:b.word_start]
        gaps.append(max(0.0, b.start_s - a.end_s))
        omitted.append(" ".join(w.word for w in words))
    if omitted:
        check.omitted_text = " … ".join(o for o in omitted if o)
        if check.omitted_text:
            check.reasons.append(f"an ellipsis leaves out: {check.omitted_text}")
    across = [g for c in regions for g in c.transmission_gaps]
    if across:
        pauses = ", ".join(f"{g:.2f} s" for g in across)
        check.reasons.append(f"the quote runs across more than one transmission ({len(across) + 1}; "
                             f"paused between them: {pauses})")
    elif len({c.segment_ids for c in regions}) > 1:
        check.reasons.append("the quote's parts come from more than one transmission")
    if gaps or across:
        check.splice_gap_s = round(sum(gaps) + sum(across), 3)


def _add_listen_span(check: QuoteCheck, located: list[JudgedPart]) -> None:
    """For doubtful verdicts: the span a person should replay."""
    if check.verdict not in (Verdict.UNVERIFIABLE, Verdict.MISQUOTE):
        return
    spans = [(p.judgement.listen_start, p.judgement.listen_end) for p in located
             if p.judgement.listen_end > p.judgement.listen_start]
    if spans:
        check.listen_start_s = round(max(min(s for s, _ in spans), 0.0), 3)  # not before the file
        check.listen_end_s = round(max(e for _, e in spans), 3)


def without_loops(words: list[Word], repeats: int = 3) -> list[Word]:
    """The recogniser's words with looping stretches cut to their first pass: a run of one
    to four words said ``repeats`` or more times over in a row is a decoder loop, no
    evidence of what was said.

    >>> said = [Word(i, i + 1, w, 0.9) for i, w in enumerate("go go go go to the car".split())]
    >>> [w.word for w in without_loops(said)]
    ['go', 'to', 'the', 'car']
    """
    plain = [spoken.strip_edges(w.word.strip()).lower() for w in words]
    keep = [True] * len(words)
    i = 0
    while i < len(words):
        for n in range(1, 5):
            times = 1
            while plain[i:i + n] == plain[i + times * n:i + (times + 1) * n] and len(plain[i:i + n]) == n:
                times += 1
            if times >= repeats:
                for k in range(i + n, i + times * n):
                    keep[k] = False
                i += times * n - 1
                break
        i += 1
    return [w for w, k in zip(words, keep) if k]


def heard_words_between(transcript: Transcript, start: float, end: float) -> list[Word]:
    """The recogniser's words overlapping [start, end]."""
    return [w for w in transcript.words if w.end > start and w.start < end]


def load_scorers(options: VerifyOptions) -> list[TextScorer]:
    """The judge and, if any, the witness, each loaded once.

    Raises:
        VerifyError: A model cannot be loaded (an unknown name, a missing weight package).
    """
    from pipeline.models import ModelError
    from pipeline.scoring import Scorer

    names = [options.judge_model] + ([options.witness_model] if options.witness_model else [])
    scorers = []
    for name in dict.fromkeys(names):
        try:
            scorers.append(Scorer.load(name))
        except ModelError as e:
            raise VerifyError(f"cannot load the judging model {name!r}: {e}") from e
    return scorers


def load_quote_files(quote_paths: Iterable[str | Path], encoding: str | None = None) -> list[Quote]:
    """The quotes of articles and quotes tables (see :func:`pipeline.quotes.load_quotes`;
    ``encoding`` is that of articles that are not UTF-8 and do not declare one).

    Raises:
        VerifyError: A path does not exist, or a file cannot be read as quotes.
    """
    from pipeline.quotes import load_quotes

    try:
        return load_quotes(quote_paths, encoding=encoding)
    except DispatchError:
        raise
    except (OSError, ValueError) as e:
        raise VerifyError(f"cannot read quotes: {e}") from e


def verify_paths(quote_paths: Iterable[str | Path], paths: Iterable[str | Path],
                 out_dir: str | Path, options: VerifyOptions, transcribe: TranscribeOptions, *,
                 jobs: int = 1, threads: int = 0, speakers=None, progress: bool = True,
                 cluster=None, encoding: str | None = None, calls=None) -> VerifyRun:
    """Check the quotes of articles and quotes tables against recordings, end to end.

    Reads the quotes, transcribes what the workspace in ``out_dir`` lacks (writing
    segments.csv and words.csv, labelling speakers unless ``speakers`` is None), locates
    and judges every quote, and writes quotes.csv and quote_words.csv into ``out_dir``.

    Args:
        quote_paths: Articles (.txt .md .html), quotes tables (.csv .json), or folders.
        paths: Recordings, or folders of them.
        out_dir: The output folder (it holds the workspace).
        options: How quotes are located and judged.
        transcribe: How recordings are transcribed.
        jobs: Worker processes for transcription.
        threads: CPU threads per worker (0: automatic).
        speakers: Speaker settings passed on to :func:`pipeline.batch.transcribe_paths`
            (None: no speaker labels).
        progress: Show progress bars on stderr.
        cluster: A ``pipeline.executors.ClusterSpec`` to transcribe on (None: this machine).
        encoding: The encoding of articles that are not UTF-8 and do not declare one.
        calls: A ``pipeline.calls.CallOptions``: how call metadata is read (unit tags,
            zone), and the talkgroup and time quotes are searched in (None: defaults).

    Returns:
        The batch summary, the verdicts, and the tables written.

    Raises:
        VerifyError: The quotes cannot be read, or a judging model cannot be loaded.
    """
    from pipeline import export
    from pipeline.batch import AudioCache, transcribe_paths
    from pipeline.review.store import apply_decisions
    from pipeline.workspace import FILENAME

    quotes = scope_quotes(load_quote_files(quote_paths, encoding), calls)
    cache = AudioCache()
    summary = transcribe_paths(paths, transcribe, out_dir, jobs=jobs, threads=threads,
                               speakers=speakers, progress=progress, samples_for=cache,
                               cluster=cluster, calls=calls)
    judges = " and the witness " + options.witness_model if options.witness_model else ""
    stage(f"loading the judge {options.judge_model}{judges}", progress)
    scorers = load_scorers(options)
    checks = verify_quotes(quotes, summary.transcripts, cache, scorers, options,
                           progress=progress, speakers=summary.speakers)
    out = Path(out_dir)
    quotes_table = apply_decisions(export.quotes_frame(checks, summary.transcripts), out / FILENAME)
    export.keep_earlier(out, ("quotes.csv", "quote_words.csv"))
    paths = summary.table_paths
    written = [export.write_table(export.with_table_paths(quotes_table, paths), out / "quotes.csv"),
               export.write_table(export.with_table_paths(export.quote_words_frame(checks), paths),
                                  out / "quote_words.csv")]
    return VerifyRun(summary, checks, written)
