"""One ``QuoteCheck`` from the judged parts of a quote: where it was said and by whom, the
words that differ, what an ellipsis or a pause between transmissions left out, the words
said just before and after, and the span a person should replay."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline import spoken
from pipeline.adjudicate import Judgement, SpanOutcome
from pipeline.locate import Region, WordIndex
from pipeline.records import (
    Quote,
    QuoteCheck,
    QuoteWord,
    Speaker,
    Transcript,
    Verdict,
    Word,
    WordStatus,
)


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


def join_parts(quote: Quote, judged: list[JudgedPart], index: WordIndex) -> QuoteCheck:
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


def check_attribution(check: QuoteCheck, speakers: Sequence[Speaker]) -> None:
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


def held_share(check: QuoteCheck) -> float:
    """Share of the quote's words the audio holds where it was judged (heard, or won a
    pairwise test)."""
    words = [w for w in check.words if w.status is not WordStatus.MISSING]
    return sum(w.status.held for w in words) / len(words) if words else 0.0


def widen_listen_span(check: QuoteCheck) -> None:
    """The whole located stretch to replay, where the line itself is in doubt."""
    check.listen_start_s = round(max(check.start_s - 0.5, 0.0), 3)
    check.listen_end_s = round(check.end_s + 0.5, 3)
