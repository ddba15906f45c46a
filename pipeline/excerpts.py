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
from pipeline import text as textmod
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
    strength: float = 0.9
    """The strength of a cut-short verdict (see :mod:`pipeline.calibration`)."""


@dataclass
class CutShort:
    """Words the speaker said in the same breath as one edge of a quote."""

    side: str
    """``start`` or ``end``: which edge of the quote they continue."""
    words: list[str]
    """The left-off words, as heard (or the heard word the quote's edge word is part of)."""
    part_of: str = ""
    """The quote's edge word, where the quote cuts a heard word ("thirty-three" of "833")."""

    def difference(self) -> str:
        said = " ".join(self.words)
        if self.part_of:
            return f'audio says "{said}", the quote only "{self.part_of}" of it'
        if self.side == "end":
            return f'audio goes on "{said}" in the same breath; the quote stops before it'
        return f'audio begins "{said}" in the same breath; the quote leaves it off'


def cut_short(transcript: Transcript, word_start: int, word_end: int, quoted: list[str],
              options: ExcerptOptions | None = None) -> CutShort | None:
    """Whether the quote ``quoted`` (its words), heard at
    ``transcript.words[word_start:word_end]``, stops short of a boundary at its end (checked
    first) or its start. An edge is looked at only where the heard word there is the
    quote's edge word, or holds it and more (the quote's "thirty-three" of a heard "833").

    >>> from pipeline.records import Segment
    >>> said = "Eight thirty-three, do you want a canine unit?".split()
    >>> words = [Word(i * 0.4, i * 0.4 + 0.35, w, 0.9) for i, w in enumerate(said)]
    >>> t = Transcript("a.wav", "", 4.0, "base", "", [Segment(0, 0.0, 4.0, " ".join(said), words)])
    >>> cut_short(t, 0, 7, said[:7]).words
    ['unit?']
    >>> cut_short(t, 2, 8, said[2:]) is None  # starts after the call sign's comma: an excerpt
    True
    """
    options = options or ExcerptOptions()
    words, segment_of = _words_by_segment(transcript)
    if not quoted or not words or not any(w.word.rstrip().endswith(BOUNDARY) for w in words):
        return None
    for side, edge, step, quoted_word in (("end", word_end - 1, +1, quoted[-1]),
                                          ("start", word_start, -1, quoted[0])):
        heard, said = _tokens(words[edge].word), _tokens(quoted_word)
        if heard == said:
            run = _run(words, segment_of, edge, step, options)
            if run:
                return CutShort(side, [words[i].word.strip() for i in sorted(run)])
        elif _holds_more(heard, said, side) and _clear(words[edge], options) \
                and len(heard) - len(said) <= options.max_words \
                and _run(words, segment_of, edge, step, options, bounded=True) == []:
            return CutShort(side, [words[edge].word.strip()], quoted_word)
    return None


def _tokens(word: str) -> list[str]:
    return [t.text for t in textmod.normalize(word)]


def _holds_more(heard: list[str], said: list[str], side: str) -> bool:
    """Whether a heard word holds the quote's edge word and more beyond the quote's edge."""
    if not said or len(heard) <= len(said):
        return False
    return heard[:len(said)] == said if side == "end" else heard[-len(said):] == said


def _run(words: list[Word], segment_of: list[int], edge: int, step: int,
         options: ExcerptOptions, bounded: bool = False) -> list[int] | None:
    """The indices of the words that run on from ``words[edge]`` (in direction ``step``)
    up to a boundary, if there are at most ``max_words`` of them, all heard clearly; else
    none (``[]``, or None with ``bounded``, which tells a boundary right at the edge,
    ``[]``, from none)."""
    run, last = [], edge
    while len(run) <= options.max_words:
        nxt = last + step
        if nxt < 0 or nxt >= len(words) or segment_of[nxt] != segment_of[last]:
            return run  # the transmission ends: a boundary
        before, after = (words[last], words[nxt]) if step > 0 else (words[nxt], words[last])
        gap = after.start - before.end
        if before.word.rstrip().endswith(BOUNDARY) or gap >= options.pause_s:
            return run
        if bounded or (not run and gap > options.glued_s) or not _clear(words[nxt], options):
            return None if bounded else []
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
