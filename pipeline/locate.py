"""Finding each quote's best region in the transcripts.

The recogniser is wrong often (about half the words on P25 dispatch audio), so a
quote is looked up word by word, not as a string: candidate regions are shortlisted
from an inverted index of normalised words (:mod:`pipeline.text`) and crude
sound-alike keys (votes on the alignment diagonal, rare words counting more), and
the quote's words are aligned inside each region (:mod:`pipeline.align`, which also
says what the score means). The best regions become :class:`Region` records, with
their times, transmissions and the words said around them.

The calls of one talkgroup are searched as one stream, in wall-clock order: a quote whose
words run from the end of one call into the start of the next (a dispatcher's question,
the unit's answer in the next call) is found across the two, as a region of the first
call whose ``next_call`` holds the rest. Recordings without a talkgroup are searched alone.

What it does not do: align words (:mod:`pipeline.align` does), listen to the audio
(adjudication does that), or judge splices between parts (the parts are located
independently; their regions carry the times and transmissions needed to do so).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.align import (
    GAP_HEARD,
    GAP_QUOTE,
    AlignOp,
    Filled,
    Lexicon,
    PreparedQuote,
    Scores,
    Words,
    align_filled,
    prepare,
    tables_for,
)
from pipeline.records import Quote, Transcript, Word
from pipeline.text import (
    FILLERS,
    SCALES,
    Token,
    normalize,
    normalize_word,
    phonetic_key,
    split_words,
    tokens_from_strings,
    tokens_from_words,
    weight,
)

log = logging.getLogger(__name__)


@dataclass
class LocateOptions:
    """How hard to look and what to accept."""

    top_k: int = 3
    """Regions kept per quote part, best first."""
    min_score: float = 0.5
    """Regions scoring below this are dropped (the quote is then not found). At 0.5
    the synthetic benchmark finds ~93% of quotes through 50% word errors and ~2-4% of
    absent quotes made of the same radio phrases."""
    windows: int = 8
    """Regions aligned per part, the best shortlisted by the index."""
    pad: int = 6
    """Extra transcript tokens aligned on each side of a shortlisted region."""
    common: float = 0.002
    """Words on more than this share of positions (and on more than ``common_floor``) do
    not vote, unless nothing else does: radio's most frequent words ("ten", "four",
    "copy") add many diagonals and little evidence. Set with ``bench/bench_locate.py``'s
    synthetic 100-hour index when the index was written, unchanged since; higher makes
    the shortlist slower, lower leaves more quotes only their rarer words to vote with."""
    common_floor: int = 50
    """Positions a word may hold and still vote, however small the index (a short batch
    has no common words to drop)."""
    context_words: int = 8
    """Words of ``context_before``/``context_after``, within the same transmission."""
    gap_quote: float = GAP_QUOTE
    """Cost, per unit of weight, of a quote word that was not heard."""
    gap_heard: float = GAP_HEARD
    """Cost of a heard word that the quote leaves out (fillers cost nothing)."""


@dataclass
class Region:
    """One region of one transcript where a quote part may have been said: a located place."""

    recording: str
    """The transcript's recording."""
    part_index: int
    """Which part of the quote (0 when it has no ellipsis)."""
    word_start: int
    """First word of the region, an index into ``Transcript.words``."""
    word_end: int
    """One past the last word of the region (end exclusive)."""
    start_s: float
    """Start of the region's first word, seconds."""
    end_s: float
    """End of the region's last word, seconds."""
    score: float
    """Share of the quote part that was heard, 0 to 1."""
    ops: list[AlignOp] = field(default_factory=list)
    """The word alignment; indices into ``quote_tokens`` and ``heard_tokens``."""
    context_before: str = ""
    """Words said just before the region in the same transmission."""
    context_after: str = ""
    """Words said just after the region in the same transmission."""
    quote_tokens: list[Token] = field(default_factory=list)
    """The part's normalised tokens."""
    heard_tokens: list[Token] = field(default_factory=list)
    """The region's tokens; ``Token.index`` is the index into ``Transcript.words``."""
    segment_ids: tuple[int, ...] = ()
    """Transmissions the region covers (``-1 - segment id`` for a segment whose transmission
    is unknown)."""
    transmission_gaps: tuple[float, ...] = ()
    """Seconds between the last word of one of those transmissions and the first of the
    next, for each place the region runs from one into another."""
    next_call: Region | None = None
    """Where the match runs on into the next call of the same talkgroup (calls of one
    talkgroup are searched as one stream, in wall-clock order): that call's stretch, with
    its own recording, words and times. This region then holds only this call's words;
    ``score``, ``ops`` and the tokens are the whole match's."""
    call_gap_s: float | None = None
    """For the stretch in the next call: seconds by the wall clock between the last word
    heard in the call before and its own first word."""
    split_word: int = 0
    """For the stretch in the next call: the first word of the quoted text (a
    :func:`pipeline.text.split_words` position) said in it."""


# ---------------------------------------------------------------- the index

@dataclass
class _Doc:
    """One transcript as the index holds it."""

    transcript: Transcript
    """The transcript."""
    words: list[Word]
    """Its words, flattened."""
    groups: list[int]
    """Transmission (or segment) id of each word."""
    offset: int
    """Position of its first word in the index's global word numbering."""
    next_call: int | None = None
    """The index of the next call of its talkgroup, by wall-clock start, where it has one."""


def _groups(transcript: Transcript) -> list[int]:
    """Transmission id of every word (``-1 - segment id`` where the transmission is unknown)."""
    return [s.transmission_id if s.transmission_id >= 0 else -1 - s.segment_id
            for s in transcript.segments for _ in s.words]


def _pause(doc: _Doc, k: int) -> float:
    """Seconds of pause between word ``k`` and the next, which opens another transmission:
    as segmentation measured the silence between them where it did, else between the
    recogniser's word times (which run into pauses)."""
    a, b = doc.groups[k], doc.groups[k + 1]
    spans = doc.transcript.transmissions
    known = 0 <= a < len(spans) and 0 <= b < len(spans)
    if known and spans[a].speech_end is not None and spans[b].speech_start is not None:
        return round(max(0.0, spans[b].speech_start - spans[a].speech_end), 3)
    return round(max(0.0, doc.words[k + 1].start - doc.words[k].end), 3)


def _postings(keys: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR postings: positions sorted by key, and where each key's run starts."""
    order = np.argsort(keys, kind="stable")
    starts = np.searchsorted(keys[order], np.arange(int(keys.max()) + 2 if len(keys) else 1))
    return positions[order], starts


def _word_keys(word: str) -> list[str]:
    """The normalised pieces of one written word, as index keys."""
    return [text for text, _ in normalize_word(word) if text not in FILLERS]


def _spread(values_of: Iterable[list[int]], spelled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lists of values per spelling laid out by position: the values in position order, and
    how many each position has."""
    sizes: list[int] = []
    flat: list[int] = []
    for values in values_of:
        sizes.append(len(values))
        flat.extend(values)
    counts = np.array(sizes, dtype=np.int64)
    first = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    per_word = counts[spelled] if len(spelled) else np.zeros(0, dtype=np.int64)
    within = np.arange(per_word.sum()) - np.repeat(np.cumsum(per_word) - per_word, per_word)
    values = np.array(flat, dtype=np.int64)
    return (values[np.repeat(first[spelled], per_word) + within] if len(within) else values), per_word


@dataclass
class _Tokens:
    """Every indexed word normalised once, so that most windows' tokens are a slice."""

    lexicon: Lexicon
    """Ids of token texts (quotes' words are added as they come)."""
    table: Words
    """Facts of every text in the index, by text id."""
    ids: np.ndarray
    """Text id of every token, in position order."""
    first: np.ndarray
    """First token of each position (one more entry: the number of tokens)."""
    joins: np.ndarray
    """Positions whose word may join the word before it, or join pieces inside it, as
    spelled numbers (``twenty five`` -> ``25``): a window with one is normalised on its
    own, as what joins depends on where the window starts."""


def _tokens(spellings: list[str], spelled: np.ndarray) -> _Tokens:
    """Normalise every spelling once and lay the tokens out by position."""
    lexicon = Lexicon()
    ids, per_word = _spread(([lexicon.id(text) for text, _ in normalize_word(s)]
                             for s in spellings), spelled)
    first = np.concatenate(([0], np.cumsum(per_word))).astype(np.int64)
    return _Tokens(lexicon, lexicon.table(), ids, first, _joins(spellings, spelled))


def _joins(spellings: list[str], spelled: np.ndarray) -> np.ndarray:
    """:attr:`_Tokens.joins`: words whose pieces join, and words that join the word before
    them (checked by normalising the two, where both have number pieces)."""
    inside, head, tail = [], [], []
    for s in spellings:
        texts = [text for text, _ in normalize_word(s)]
        numeric = [t.isdigit() or t in SCALES for t in texts]
        inside.append(sum(numeric) > 1 and len(tokens_from_strings([s])) < len(texts))
        head.append(bool(numeric) and numeric[0])
        tail.append(bool(numeric) and numeric[-1])
    joins = np.array(inside, dtype=bool)[spelled]
    after = np.array(tail, dtype=bool)[spelled][:-1] & np.array(head, dtype=bool)[spelled][1:]
    for w in (np.flatnonzero(after) + 1).tolist():
        pair = [spellings[spelled[w - 1]], spellings[spelled[w]]]
        alone = len(tokens_from_strings(pair[:1])) + len(tokens_from_strings(pair[1:]))
        joins[w] |= len(tokens_from_strings(pair)) < alone
    return joins


@dataclass
class _Stretch:
    """A stretch of one transcript, normalised for alignment."""

    heard: Words
    """Its tokens' texts and facts."""
    lo: int
    """Its first word, an index into the transcript's words."""
    starts: np.ndarray | None = None
    """First token of each of its words (one more entry), where the tokens are made when cut."""
    tokens: list[Token] | None = None
    """The tokens, where they were made for this stretch."""

    def cut(self, words: list[Word], a: int, b: int) -> list[Token]:
        """Tokens ``a`` to ``b`` (end exclusive), given the transcript's words."""
        if self.tokens is not None:
            return self.tokens[a:b]
        first, last = np.searchsorted(self.starts, [a, b - 1], side="right").tolist()
        w0, skip = self.lo + first - 1, a - int(self.starts[first - 1])
        return tokens_from_words(words[w0:self.lo + last], start=w0)[skip:skip + b - a]


class WordIndex:
    """An inverted index over transcripts' normalised words, to locate quotes fast.

    Positions are word positions (a word of several pieces, ``10-4``, posts each piece
    at its position). Every distinct spelling is normalised once, so the tokens of a
    shortlisted region are a slice of integer ids; token records are made only for the
    regions a quote is found in.
    """

    def __init__(self, transcripts: Sequence[Transcript], options: LocateOptions | None = None):
        """Index transcripts.

        Args:
            transcripts: the transcripts to search.
            options: search options; defaults when None.
        """
        self.options = options or LocateOptions()
        self.docs: list[_Doc] = []
        offset = 0
        for t in transcripts:
            words = t.words
            self.docs.append(_Doc(t, words, _groups(t), offset))
            offset += len(words)
        self.size = offset
        _link_calls(self.docs)
        self._prev_call = {d.next_call: i for i, d in enumerate(self.docs) if d.next_call is not None}
        self._starts = np.array([d.offset for d in self.docs], dtype=np.int64)
        spellings: dict[str, int] = {}
        spelled = np.fromiter((spellings.setdefault(w.word.strip(), len(spellings))
                               for d in self.docs for w in d.words), np.int64, self.size)
        self._vocab: dict[str, int] = {}
        keys, per_word = _spread(([self._vocab.setdefault(k, len(self._vocab))
                                   for k in _word_keys(s)] for s in spellings), spelled)
        positions = np.repeat(np.arange(self.size, dtype=np.int64), per_word)
        self._sounds: dict[str, int] = {}
        sound_of = np.array([self._sounds.setdefault(_sound(w), len(self._sounds))
                             for w in self._vocab], dtype=np.int64)
        self._words = _postings(keys, positions)
        self._sound = _postings(sound_of[keys] if len(keys) else keys, positions)
        self._tokens = _tokens(list(spellings), spelled)

    def transcript(self, recording: str) -> Transcript:
        """The indexed transcript of a recording (KeyError when absent)."""
        for doc in self.docs:
            if doc.transcript.recording == recording:
                return doc.transcript
        raise KeyError(recording)

    def locate(self, quote: Quote, top_k: int | None = None,
               min_score: float | None = None) -> list[list[Region]]:
        """Find the best regions for each part of a quote.

        Args:
            quote: the quote; its ``recording``, when set, restricts the search.
            top_k: regions per part (default from the options).
            min_score: lowest score kept (default from the options).

        Returns:
            One list per part (``quote.parts``, or the text when there are none), each
            best first; an empty list means that part was not found.
        """
        parts = quote.parts or [quote.text]
        docs = docs_in_scope(self.docs, self._docs_for(quote.recording), quote)
        return [self.locate_text(part, i, docs, top_k, min_score) for i, part in enumerate(parts)]

    def locate_text(self, text: str, part_index: int = 0, docs: Sequence[int] | None = None,
                    top_k: int | None = None, min_score: float | None = None) -> list[Region]:
        """Find the best regions for one stretch of quoted text.

        Args:
            text: the words to look for.
            part_index: recorded in the regions.
            docs: indices of the transcripts to search (all when None).
            top_k: regions kept (default from the options).
            min_score: lowest score kept (default from the options).

        Returns:
            Regions, best first.
        """
        opts = self.options
        top_k = opts.top_k if top_k is None else top_k
        min_score = opts.min_score if min_score is None else min_score
        quote = normalize(text)
        if not any(weight(t) for t in quote) or not self.size:
            return []
        prepared = prepare(quote, self._tokens.lexicon)
        spans = self._windows(text, len(quote), docs)
        stretches = [self._stretch(self.docs[doc_i], lo, hi) for doc_i, lo, hi in spans]
        heards = [w.heard for w in stretches]
        tables = tables_for(prepared, heards, opts.gap_quote, opts.gap_heard, min_score) if spans else []
        found: list[Region] = []
        for (doc_i, _, _), stretch, (sc, bound, filled) in zip(spans, stretches, tables):
            scores = sorted((c.score for c in found), reverse=True)
            floor = max(min_score, scores[top_k - 1] if len(scores) >= top_k else 0.0)
            if floor > 0 and bound < floor:
                continue  # no alignment here could reach the floor (nor was it filled)
            cand = self._region(prepared, self.docs[doc_i], stretch, sc, filled, part_index, floor)
            if cand is not None and cand.score >= min_score:
                found.append(cand)
        for first, second in self._seams(spans, docs):
            cand = self._across_calls(prepared, len(quote), first, second, part_index, min_score)
            if cand is not None:
                found.append(cand)
        return _best(found, top_k)

    # -- one talkgroup as one stream

    def _seams(self, spans: list[tuple[int, int, int]],
               docs: Sequence[int] | None) -> list[tuple[int, int]]:
        """Pairs of consecutive calls of one talkgroup where a shortlisted region meets the
        end of the first or the start of the second (both in ``docs``)."""
        pairs = set()
        for doc_i, lo, hi in spans:
            d = self.docs[doc_i]
            if hi >= len(d.words) and d.next_call is not None:
                pairs.add((doc_i, d.next_call))
            if lo == 0 and doc_i in self._prev_call:
                pairs.add((self._prev_call[doc_i], doc_i))
        return sorted(p for p in pairs if docs is None or (p[0] in docs and p[1] in docs))

    def _across_calls(self, quote: PreparedQuote, n: int, first: int, second: int,
                      part_index: int, min_score: float) -> Region | None:
        """The quote aligned with the end of one call and the start of the next, laid end to
        end; None unless the match reaches ``min_score`` with quoted words in both."""
        a, b = self.docs[first], self.docs[second]
        reach = n + 2 * self.options.pad
        lo = max(0, len(a.words) - reach)
        joined = a.words[lo:] + b.words[:reach]
        tokens = tokens_from_words(joined)
        heard = self._tokens.lexicon.words([t.text for t in tokens])
        ((sc, _, filled),) = tables_for(quote, [heard], self.options.gap_quote,
                                        self.options.gap_heard, min_score)
        if filled is None:
            return None
        score, ops = align_filled(quote, heard, sc, filled)
        seam = len(a.words) - lo
        heard_at = [j for op in ops for j in op.heard_tokens]
        if round(score, 4) < min_score or not heard_at:
            return None
        split = next((quote.tokens[op.quote_tokens[0]].index for op in ops
                      if op.quote_tokens and op.heard_tokens
                      and tokens[op.heard_tokens[0]].index >= seam), None)
        said_before = any(op.quote_tokens and op.heard_tokens and tokens[op.heard_tokens[0]].index < seam
                          for op in ops)
        if split is None or not said_before or split == quote.tokens[0].index:
            return None  # every quoted word heard in one call: that call's own region holds it
        words = sorted({tokens[j].index + k for j in heard_at for k in range(tokens[j].span)})
        in_a = [w for w in words if w < seam]
        in_b = [w - seam for w in words if w >= seam]
        head = self._piece(a, lo + in_a[0], lo + in_a[-1] + 1, part_index, score, before=True)
        tail = self._piece(b, in_b[0], in_b[-1] + 1, part_index, score, before=False)
        head.ops, head.quote_tokens = ops, quote.tokens
        head.heard_tokens = tokens[min(heard_at):max(heard_at) + 1]
        tail.call_gap_s = _call_gap(a, head.word_end - 1, b, tail.word_start)
        tail.split_word = split
        head.next_call = tail
        return head

    def _piece(self, doc: _Doc, w0: int, w1: int, part_index: int, score: float,
               before: bool) -> Region:
        """The stretch of one call that a match across calls holds, words ``w0`` to ``w1``."""
        return Region(
            recording=doc.transcript.recording, part_index=part_index, word_start=w0, word_end=w1,
            start_s=doc.words[w0].start, end_s=doc.words[w1 - 1].end, score=round(score, 4),
            context_before=self._context(doc, w0 - 1, -1) if before else "",
            context_after="" if before else self._context(doc, w1, 1),
            segment_ids=tuple(dict.fromkeys(doc.groups[w0:w1])),
            transmission_gaps=tuple(_pause(doc, k) for k in range(w0, w1 - 1)
                                    if doc.groups[k] != doc.groups[k + 1]))

    # -- shortlist

    def _docs_for(self, recording: str) -> list[int] | None:
        """Transcripts a quote's ``recording`` names (by path, name or stem); None for all."""
        if not recording:
            return None
        want = Path(recording)
        hits = [i for i, d in enumerate(self.docs)
                if d.transcript.recording == recording
                or Path(d.transcript.recording).name == want.name
                or Path(d.transcript.recording).stem == want.stem]
        if not hits:
            log.warning("recording %r is not among the transcripts; searching all", recording)
        return hits or None

    def _lookup(self, postings, table: dict[str, int], key: str) -> np.ndarray:
        """Positions of a key (empty when unknown)."""
        kid = table.get(key)
        if kid is None:
            return np.empty(0, dtype=np.int64)
        order, starts = postings
        return order[starts[kid]:starts[kid + 1]]

    def _votes(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Diagonals (heard word position minus quote word position) and vote weights."""
        cap = max(self.options.common_floor, int(self.options.common * self.size))
        lists = []
        for i, word in enumerate(split_words(text)):
            for key in _word_keys(word):
                for postings, table, k, scale in (
                        (self._words, self._vocab, key, 1.0),
                        (self._sound, self._sounds, _sound(key), 0.5)):
                    pos = self._lookup(postings, table, k)
                    if len(pos):
                        idf = scale * weight(key) * math.log(1 + self.size / len(pos))
                        lists.append((len(pos) > cap, pos, i, idf))
        usable = [x for x in lists if not x[0]] or lists
        if not usable:
            return np.empty(0, dtype=np.int64), np.empty(0)
        sizes = [len(pos) for _, pos, _, _ in usable]
        diags = np.concatenate([pos for _, pos, _, _ in usable])
        diags -= np.repeat([i for _, _, i, _ in usable], sizes)
        return diags, np.repeat([idf for _, _, _, idf in usable], sizes)

    def _windows(self, text: str, n: int,
                 docs: Sequence[int] | None) -> list[tuple[int, int, int]]:
        """Shortlisted regions ``(doc, lo, hi)`` in word positions of that doc."""
        diags, votes = self._votes(text)
        if docs is not None and len(diags):
            keep = np.zeros(len(diags), dtype=bool)
            for i in docs:
                d = self.docs[i]
                keep |= (diags >= d.offset - n) & (diags < d.offset + len(d.words))
            diags, votes = diags[keep], votes[keep]
        if not len(diags):
            return []
        width = max(8, n)
        uniq, paired = _paired_votes(np.floor_divide(diags, width), votes)
        top = _top(paired, self.options.windows)
        spans = []
        for b in uniq[top]:
            lo = int(b) * width - self.options.pad
            hi = (int(b) + 2) * width + n + self.options.pad
            spans += [s for s in self._clip(lo, hi) if docs is None or s[0] in docs]
        return _merge_spans(spans)

    def _clip(self, lo: int, hi: int) -> list[tuple[int, int, int]]:
        """A global position range cut into per-transcript ranges."""
        out = []
        first = max(0, int(np.searchsorted(self._starts, max(lo, 0), side="right")) - 1)
        for i in range(first, len(self.docs)):
            d = self.docs[i]
            if d.offset >= hi:
                break
            a, b = max(lo, d.offset) - d.offset, min(hi, d.offset + len(d.words)) - d.offset
            if a < b:
                out.append((i, a, b))
        return out

    # -- regions

    def _region(self, quote: PreparedQuote, doc: _Doc, stretch: _Stretch, sc: Scores,
                    filled: Filled, part_index: int, floor: float = 0.0) -> Region | None:
        """Align a quote with one region and describe the best local match (None when it
        does not reach ``floor``: below it, the region would be dropped or outranked)."""
        score, ops = align_filled(quote, stretch.heard, sc, filled)
        if round(score, 4) < floor:
            return None
        heard = [j for op in ops for j in op.heard_tokens]
        if not heard:
            return None
        a, b = min(heard), max(heard) + 1
        for op in ops:
            op.heard_tokens = tuple(j - a for j in op.heard_tokens)
        tokens = stretch.cut(doc.words, a, b)
        w0, w1 = tokens[0].index, tokens[-1].index + tokens[-1].span
        return Region(
            recording=doc.transcript.recording, part_index=part_index,
            word_start=w0, word_end=w1, start_s=doc.words[w0].start, end_s=doc.words[w1 - 1].end,
            score=round(score, 4), ops=ops,
            context_before=self._context(doc, w0 - 1, -1),
            context_after=self._context(doc, w1, 1),
            quote_tokens=quote.tokens, heard_tokens=tokens,
            segment_ids=tuple(dict.fromkeys(doc.groups[w0:w1])),
            transmission_gaps=tuple(_pause(doc, k) for k in range(w0, w1 - 1)
                                    if doc.groups[k] != doc.groups[k + 1]))

    def _stretch(self, doc: _Doc, lo: int, hi: int) -> _Stretch:
        """Words ``lo`` to ``hi`` of a transcript as tokens, sliced from the index where the
        slice is what normalising them would give."""
        t, g0, g1 = self._tokens, doc.offset + lo, doc.offset + hi
        if t.joins[g0:g1].any():
            tokens = tokens_from_words(doc.words[lo:hi], start=lo)
            return _Stretch(t.lexicon.words([x.text for x in tokens]), lo, tokens=tokens)
        starts = t.first[g0:g1 + 1]
        return _Stretch(t.table.take(t.ids[starts[0]:starts[-1]]), lo, starts - starts[0])

    def _context(self, doc: _Doc, start: int, step: int) -> str:
        """Words from ``start`` going ``step`` within the same transmission."""
        if not 0 <= start < len(doc.words):
            return ""
        group = doc.groups[start - step] if 0 <= start - step < len(doc.words) else None
        out = []
        i = start
        while 0 <= i < len(doc.words) and len(out) < self.options.context_words:
            if group is not None and doc.groups[i] != group:
                break
            out.append(doc.words[i].word.strip())
            i += step
        return " ".join(out[::step])


def _link_calls(docs: list[_Doc]) -> None:
    """Set each call's :attr:`_Doc.next_call`: the next call of its system and talkgroup
    by wall-clock start. Recordings without a talkgroup or a start are left alone."""
    streams: dict[tuple[str, str], list[int]] = {}
    for i, d in enumerate(docs):
        call = d.transcript.call
        if call is not None and call.talkgroup and call.started_at is not None and d.words:
            streams.setdefault((call.system, call.talkgroup), []).append(i)
    for calls in streams.values():
        calls.sort(key=lambda i: (docs[i].transcript.call.started_at, docs[i].transcript.recording))
        for i, j in zip(calls, calls[1:]):
            docs[i].next_call = j


def _call_gap(a: _Doc, last: int, b: _Doc, first: int) -> float:
    """Seconds by the wall clock from word ``last`` of call ``a`` to word ``first`` of ``b``."""
    ended = a.transcript.call.at(a.words[last].end)
    began = b.transcript.call.at(b.words[first].start)
    return round((began - ended).total_seconds(), 3)


def docs_in_scope(docs: Sequence[_Doc], picked: list[int] | None,
                  quote: Quote) -> list[int] | None:
    """The transcripts a quote's ``talkgroup`` and ``near``/``within_s`` allow, among
    ``picked`` (all when None), by their calls (``pipeline.calls.in_scope``); ``picked``
    again, with a warning, when none is in scope."""
    if not quote.talkgroup and quote.near is None:
        return picked
    from pipeline.calls import in_scope

    pool = range(len(docs)) if picked is None else picked
    hits = [i for i in pool
            if in_scope(docs[i].transcript.call, quote.talkgroup, quote.near, quote.within_s)]
    if not hits:
        log.warning("no call on talkgroup %r near %s; searching without that restriction",
                    quote.talkgroup, quote.near)
    return hits or picked


def _sound(text: str) -> str:
    """Index key for sound-alikes (numbers and short words keep their text)."""
    return phonetic_key(text) if len(text) > 2 and text.isalpha() else f"={text}"


def _paired_votes(buckets: np.ndarray, votes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct buckets, ascending, and the votes in each plus those in the next one.

    Sums by ``np.bincount`` over the buckets' range, or over ``np.unique`` (a sort) where
    the range is much wider than the votes are many; both add in the same order.
    """
    low = int(buckets.min())
    span = int(buckets.max()) - low + 2
    if span > 8 * len(buckets) + 100_000:
        uniq, inverse = np.unique(buckets, return_inverse=True)
        sums = np.bincount(inverse, weights=votes)
        nxt = np.searchsorted(uniq, uniq + 1).clip(max=len(uniq) - 1)
        return uniq, sums + np.where(uniq[nxt] == uniq + 1, sums[nxt], 0.0)
    at = buckets - low
    sums = np.bincount(at, weights=votes, minlength=span)
    seen = np.zeros(span, dtype=bool)
    seen[at] = True
    present = np.flatnonzero(seen)
    return present + low, sums[present] + sums[present + 1]


def _top(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest values, largest first, ties in index order (as
    ``np.argsort(-values, kind="stable")[:k]``, without sorting them all)."""
    if 0 < k < len(values):
        kth = -np.partition(-values, k - 1)[k - 1]
        best = np.flatnonzero(values >= kth)
        return best[np.argsort(-values[best], kind="stable")][:k]
    return np.argsort(-values, kind="stable")[:k]


def _merge_spans(spans: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Merge overlapping ranges of the same transcript."""
    out: list[tuple[int, int, int]] = []
    for doc, lo, hi in sorted(spans):
        if out and out[-1][0] == doc and lo <= out[-1][2]:
            out[-1] = (doc, out[-1][1], max(hi, out[-1][2]))
        else:
            out.append((doc, lo, hi))
    return out


def _best(found: list[Region], top_k: int) -> list[Region]:
    """Best first, overlapping regions of one recording reduced to the best."""
    kept: list[Region] = []
    for cand in sorted(found, key=lambda c: (-c.score, c.recording, c.word_start)):
        if any(k.recording == cand.recording and cand.word_start < k.word_end
               and k.word_start < cand.word_end for k in kept):
            continue
        kept.append(cand)
        if len(kept) == top_k:
            break
    return kept
