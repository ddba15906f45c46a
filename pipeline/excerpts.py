"""Quotes cut short: a quote that stops a word or two before the speaker paused.

Every word of such a quote was said, in order, yet it leaves off the end (or the start)
of what was said in one breath: "Eight thirty-three, do you want a canine" where the
dispatcher asked for "a canine unit?", or "sending anybody to that location" where he
said "We're not sending anybody to that location." Reporters quote excerpts all the
time, but an excerpt ends where the speaker paused or at least marked a boundary (the
recogniser's punctuation); one that stops one or two words short of such a boundary,
mid-phrase, drops words that belong to the quoted phrase, and that is where misquotes
are made.

A quote is cut short when, at one of its edges, the recogniser heard clearly (each
word at ``min_probability``) at most ``max_words`` more words that run on from the
quote without a pause or a punctuation mark and end at a boundary: a punctuation mark,
a pause of ``pause_s``, or the end of the transmission. The rule needs the recogniser's
punctuation: a transcript without any says nothing about boundaries, and the rule is
not applied to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline import spoken
from pipeline.records import Transcript, Word

BOUNDARY = tuple(".,?!;:")
"""Marks the recogniser writes at the end of a word where the speaker set a boundary."""

FILLERS = frozenset({"uh", "um", "er", "ah", "hmm", "mm", "oh"})


@dataclass
class ExcerptOptions:
    """When a quote counts as cut short."""

    max_words: int = 2
    """Most words left off at an edge, up to the next boundary: more, and the quote is an
    excerpt that stops at a boundary of its own (a clause), not a cut phrase."""
    pause_s: float = 0.3
    """A silence this long between two words is a boundary."""
    glued_s: float = 0.15
    """The left-off words follow the quote's edge word within this many seconds."""
    min_probability: float = 0.5
    """Each left-off word is heard at least this clearly (the recogniser's probability)."""
    confidence: float = 0.9
    """How clearly a cut-short quote is decided (before calibration)."""


@dataclass
class CutShort:
    """Words the speaker said in the same breath as one edge of a quote."""

    side: str
    """``start`` or ``end``: which edge of the quote they continue."""
    words: list[str]
    """The left-off words, as heard."""

    def difference(self) -> str:
        said = " ".join(self.words)
        if self.side == "end":
            return f'audio goes on "{said}" in the same breath; the quote stops before it'
        return f'audio begins "{said}" in the same breath; the quote leaves it off'


def cut_short(transcript: Transcript, word_start: int, word_end: int,
              options: ExcerptOptions | None = None) -> CutShort | None:
    """Whether the quote heard at ``transcript.words[word_start:word_end]`` stops short of
    a boundary at its end (checked first) or its start.

    >>> from pipeline.records import Segment
    >>> said = "Eight thirty-three, do you want a canine unit?".split()
    >>> words = [Word(i * 0.4, i * 0.4 + 0.35, w, 0.9) for i, w in enumerate(said)]
    >>> t = Transcript("a.wav", "", 4.0, "base", "", [Segment(0, 0.0, 4.0, " ".join(said), words)])
    >>> cut_short(t, 0, 7).words
    ['unit?']
    >>> cut_short(t, 2, 8) is None  # starts after the call sign's comma: an excerpt
    True
    """
    options = options or ExcerptOptions()
    words, segment_of = _words_by_segment(transcript)
    if not words or not any(w.word.rstrip().endswith(BOUNDARY) for w in words):
        return None
    if word_end < len(words):
        run = _run(words, segment_of, word_end - 1, +1, options)
        if run:
            return CutShort("end", [words[i].word.strip() for i in run])
    if word_start > 0:
        run = _run(words, segment_of, word_start, -1, options)
        if run:
            return CutShort("start", [words[i].word.strip() for i in reversed(run)])
    return None


def _run(words: list[Word], segment_of: list[int], edge: int, step: int,
         options: ExcerptOptions) -> list[int]:
    """The indices of the words that run on from ``words[edge]`` (in direction ``step``)
    up to a boundary, if there are at most ``max_words`` of them, all heard clearly;
    else none."""
    run, last = [], edge
    while len(run) <= options.max_words:
        nxt = last + step
        if nxt < 0 or nxt >= len(words) or segment_of[nxt] != segment_of[last]:
            return run  # the transmission ends: a boundary
        before, after = (words[last], words[nxt]) if step > 0 else (words[nxt], words[last])
        gap = after.start - before.end
        if before.word.rstrip().endswith(BOUNDARY) or gap >= options.pause_s:
            return run
        if not run and gap > options.glued_s:
            return []
        if not _clear(words[nxt], options):
            return []
        run.append(nxt)
        last = nxt
    return []


def _clear(word: Word, options: ExcerptOptions) -> bool:
    plain = spoken.strip_edges(word.word.strip()).lower()
    return bool(plain) and plain not in FILLERS and word.probability >= options.min_probability


def _words_by_segment(transcript: Transcript) -> tuple[list[Word], list[int]]:
    """The transcript's words and, for each, the index of its segment."""
    words, segment_of = [], []
    for n, segment in enumerate(transcript.segments):
        words += segment.words
        segment_of += [n] * len(segment.words)
    return words, segment_of
