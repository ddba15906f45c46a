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

from pipeline import calibration
from pipeline.adjudicate import (
    AdjudicateOptions,
    Judgement,
    adjudicate,
    cut_window,
)
from pipeline.assemble import (
    JudgedPart,
    check_attribution,
    heard_words_between,
    held_share,
    join_parts,
    widen_listen_span,
    without_loops,
)
from pipeline.audio import SAMPLE_RATE
from pipeline.calibration import Calibration
from pipeline.calls import scope_quotes
from pipeline.elsewhere import fit_elsewhere, forget, unheard_stretches
from pipeline.errors import DispatchError
from pipeline.excerpts import ExcerptOptions, cut_short
from pipeline.lines import assign_lines, compare_line_versions
from pipeline.locate import LocateOptions, Region, WordIndex
from pipeline.progress import bar as progress_bar
from pipeline.progress import stage
from pipeline.records import Quote, QuoteCheck, Speaker, Transcript, Verdict
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
        forget()
    for check in checks:
        check_attribution(check, speakers)
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
    check = join_parts(quote, judged, index)
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
    transmissions' audio does (``fit_elsewhere``), however few words were heard. Only
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
    tried = [join_parts(quote, _judge_parts(quote, list(regions), index, samples_for, scorers, options),
                   index) for regions in _region_choices(weak)]
    best = max(tried, key=lambda c: (c.verdict.confirms, held_share(c), c.start_s))
    if best.verdict.confirms:
        best.reasons.append("the transcript barely matched here, but the audio confirms every word")
        return best
    fits = {id(c): fit_elsewhere(quote, c, index, samples_for, scorers, options) for c in tried}
    fitted = max(tried, key=lambda c: fits[id(c)] if fits[id(c)] is not None else -math.inf)
    fit = fits[id(fitted)]  # the best fit of any stretch judged
    if fit is not None and fit >= options.held_fit_nats:
        best = fitted
    held = held_share(best)
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
        widen_listen_span(best)
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
    for recording, start, end, words in unheard_stretches(absent.quote, index, options):
        probe = QuoteCheck(quote=absent.quote, verdict=Verdict.UNVERIFIABLE,
                           strength=options.adjudicate.unverifiable_confidence,
                           recording=recording, start_s=start, end_s=end)
        fit = fit_elsewhere(absent.quote, probe, index, samples_for, scorers, options)
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
    widen_listen_span(best)
    return best












def _region_choices(weak: list[list[Region]]) -> list[list[Region]]:
    """Places to judge a weakly matched quote: each part's n-th best region, n = 1, 2, ..."""
    return [[regions[min(n, len(regions) - 1)] for regions in weak]
            for n in range(max(len(r) for r in weak))]






def _judge(text: str, region: Region, transcript: Transcript, samples_for, scorers,
           options: VerifyOptions) -> Judgement:
    """Cut the audio around a located region once and adjudicate the part on it."""
    samples = samples_for(transcript.recording)
    window, start = cut_window(samples, region.start_s, region.end_s, options.adjudicate)
    heard = without_loops(heard_words_between(transcript, start, start + len(window) / SAMPLE_RATE),
                          options.loop_repeats)
    return adjudicate(text, heard, window, start, list(scorers), options.adjudicate,
                      span=(region.start_s, region.end_s))
























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
