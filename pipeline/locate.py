"""Finding each quote's best region in the transcripts.

The recogniser is wrong often (about half the words on P25 dispatch audio), so a
quote is matched word by word, not as a string: both sides are normalised the same
way (:mod:`pipeline.text`), candidate regions are shortlisted from an inverted index
of normalised words and crude sound-alike keys (votes on the alignment diagonal, rare
words counting more), and each region is scored by a local alignment
(Smith-Waterman, made semi-global: all of the quote against any stretch of the
transcript) whose word similarity is rapidfuzz's ratio, so ``cheif``/``chief``
still count and ``trash``/``price`` do not.

The alignment is told from the quote's point of view:

- ``match``: the same normalised word;
- ``form``: the same words in another form (``we're``/``we are``, ``anybody``/``any
  body``, a filler heard but not quoted);
- ``changed``: a quote word aligned to a different heard word;
- ``added``: a quote word that was not heard (the quote added it);
- ``missing``: a heard word that the quote leaves out.

The score is the share of the quote's weight (fillers 0, function words 0.3, other
words 1) that was heard, with partial credit for near misses, so a long quote or a
written statement cannot reach it on a few chance words of radio chatter.

What it does not do: listen to the audio (adjudication does that), or judge splices
between parts (the parts are located independently; their candidates carry the
times and transmissions needed to do so).
"""

from __future__ import annotations

import logging
import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

from pipeline.records import Quote, Transcript, Word
from pipeline.text import (
    FILLERS,
    SCALES,
    Token,
    expand_contraction,
    normalize,
    normalize_word,
    phonetic_key,
    split_words,
    tokens_from_strings,
    tokens_from_words,
    weight,
)

log = logging.getLogger(__name__)

MATCH, FORM, CHANGED, ADDED, MISSING = "match", "form", "changed", "added", "missing"
"""Alignment operations, named from the quote's point of view."""
SOUND_ALIKE = 0.8
"""Similarity given to two words with the same phonetic key (and three letters or more)."""


@dataclass
class LocateOptions:
    """How hard to look and what to accept."""

    top_k: int = 3
    """Candidates kept per quote part, best first."""
    min_score: float = 0.5
    """Candidates scoring below this are dropped (the quote is then not found). At 0.5
    the synthetic benchmark finds ~93% of quotes through 50% word errors and ~2-4% of
    absent quotes made of the same radio phrases."""
    windows: int = 8
    """Regions aligned per part, the best shortlisted by the index."""
    pad: int = 6
    """Extra transcript tokens aligned on each side of a shortlisted region."""
    common: float = 0.002
    """Words on more than this share of positions do not vote (unless nothing else does)."""
    context_words: int = 8
    """Words of ``context_before``/``context_after``, within the same transmission."""
    gap_quote: float = 0.6
    """Cost, per unit of weight, of a quote word that was not heard."""
    gap_heard: float = 0.4
    """Cost of a heard word that the quote leaves out (fillers cost nothing)."""


@dataclass
class AlignOp:
    """One step of a word alignment between a quote and what was heard."""

    op: str
    """``match``, ``form``, ``changed``, ``added`` (quote word not heard) or ``missing``
    (heard word not in the quote)."""
    quote_tokens: tuple[int, ...]
    """Indices into the quote's tokens (empty for ``missing``)."""
    heard_tokens: tuple[int, ...]
    """Indices into the heard tokens (empty for ``added``)."""
    similarity: float = 1.0
    """Word similarity in [0, 1] for ``changed`` (1 for match and form, 0 for gaps)."""
    reason: str = ""
    """For ``form``: ``filler``, ``contraction`` or ``spacing``."""


@dataclass
class Candidate:
    """One region of one transcript where a quote part may have been said."""

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
    """Transmissions (or segments, where transmissions are unknown) the region covers."""


# ---------------------------------------------------------------- alignment

_CODES = 128 * 64
"""Size of a filter table over (first character, length) codes of squashed words."""


def _squash(text: str) -> str:
    """A word with apostrophes and hyphens removed, for spacing comparisons."""
    return text.replace("'", "").replace("-", "")


def _code(first: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Filter codes of squashed words from their first character (below 128) and length."""
    return first * 64 + np.minimum(size, 63)


def _first(squashed: str) -> int:
    """The first character of a squashed word as a number below 128 (0 when empty)."""
    return min(ord(squashed[0]), 127) if squashed else 0


def _spacing_lengths(sizes: Iterable[int]) -> set[int]:
    """Lengths two words may have to be, squashed, one word of one of these lengths."""
    return {k + extra for k in sizes for extra in (0, 1, 2)}


@dataclass
class _Words:
    """Token texts and, as rows of one integer array, the facts alignment compares."""

    texts: list[str]
    """The normalised texts."""
    facts: np.ndarray
    """One column per token; rows: text id, sound-alike key id (-1 for numbers and words
    of two letters or less), digits only, filler, has an apostrophe, longer than three
    letters, and the first character and length of the word squashed (:func:`_squash`)."""

    ids = property(lambda self: self.facts[0])
    sound = property(lambda self: self.facts[1])
    digit = property(lambda self: self.facts[2].astype(bool))
    filler = property(lambda self: self.facts[3].astype(bool))
    apostrophe = property(lambda self: self.facts[4])
    long = property(lambda self: self.facts[5].astype(bool))
    first = property(lambda self: self.facts[6])
    size = property(lambda self: self.facts[7])

    def take(self, ids: np.ndarray) -> _Words:
        """The words with these text ids (this being the whole lexicon's table)."""
        return _Words([self.texts[i] for i in ids.tolist()], self.facts[:, ids])


class _Lexicon:
    """Integer ids for token texts and sound-alike keys, so that windows compare as arrays."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        """Text -> id, in order of first sight."""
        self._sounds: dict[str, int] = {}
        self._facts: list[list[int]] = [[] for _ in range(8)]

    def id(self, text: str) -> int:
        """The id of a text, given one when new."""
        found = self.ids.get(text)
        if found is None:
            found = self.ids[text] = len(self.ids)
            for column, value in zip(self._facts, self._describe(text, found)):
                column.append(value)
        return found

    def _describe(self, text: str, text_id: int) -> tuple[int, ...]:
        """The facts of :class:`_Words` about one text."""
        sound = -1
        if len(text) > 2 and text.isalpha():
            sound = self._sounds.setdefault(phonetic_key(text), len(self._sounds))
        squashed = _squash(text)
        return (text_id, sound, text.isdigit(), text in FILLERS, "'" in text, len(text) > 3,
                _first(squashed), len(squashed))

    def words(self, texts: Sequence[str]) -> _Words:
        """Texts with their facts."""
        ids = [self.id(t) for t in texts]
        facts = [[column[i] for i in ids] for column in self._facts]
        return _Words(list(texts), np.array(facts, dtype=np.int64).reshape(8, len(ids)))

    def table(self) -> _Words:
        """Every text so far, in id order (see :meth:`_Words.take`)."""
        return _Words(list(self.ids), np.array(self._facts, dtype=np.int64).reshape(8, -1))


@dataclass
class _Forms:
    """A quote's words as they could be heard in another form (split, joined, contracted)."""

    contractions: list[tuple[int, int, list[int]]]
    """Text ids of the two words a contraction stands for, and the quote words it is."""
    squashed: dict[str, list[int]]
    """Quote words longer than three letters, squashed (heard as two words run together)."""
    lengths: set[int]
    """Lengths that two heard words must have together to be one of ``squashed``."""
    split_codes: np.ndarray
    """Filter table: codes (:func:`_code`) of ``squashed``."""
    pairs: dict[tuple[str, str], list[int]]
    """Adjacent quote words i-1, i by their texts, to meet a heard contraction."""
    joined: dict[str, list[tuple[int, int]]]
    """Adjacent quote words squashed together: ``(i, their unsquashed length)``."""
    join_codes: np.ndarray
    """Filter table: codes of ``joined``."""


def _forms(texts: list[str], lexicon: _Lexicon) -> _Forms:
    """Index a quote's words by the forms they could be heard in."""
    expanded: dict[tuple[str, ...], list[int]] = {}
    squashed: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        if "'" in text:
            expanded.setdefault(expand_contraction(text), []).append(i)
        if len(text) > 3:
            squashed.setdefault(_squash(text), []).append(i)
    contractions = [(lexicon.id(pair[0]), lexicon.id(pair[1]), idx)
                    for pair, idx in expanded.items() if len(pair) == 2]
    pairs: dict[tuple[str, str], list[int]] = {}
    joined: dict[str, list[tuple[int, int]]] = {}
    for i in range(1, len(texts)):
        a, b = texts[i - 1], texts[i]
        pairs.setdefault((a, b), []).append(i)
        joined.setdefault(_squash(a + b), []).append((i, len(a) + len(b)))
    return _Forms(contractions, squashed, _spacing_lengths(len(k) for k in squashed),
                  _codes(squashed), pairs, joined, _codes(joined))


def _codes(squashed: Iterable[str]) -> np.ndarray:
    """A filter table with the codes of these squashed words set."""
    words = list(squashed)
    table = np.zeros(_CODES, dtype=bool)
    table[_code(np.array([_first(s) for s in words], dtype=np.int64),
                np.array([len(s) for s in words], dtype=np.int64))] = True
    return table


def _similarity(quote: _Words, heard: _Words) -> np.ndarray:
    """Word similarity matrix in [0, 1]: rapidfuzz ratio, sound-alikes, exact numbers."""
    sim = process.cdist(quote.texts, heard.texts, scorer=fuzz.ratio, dtype=np.float32,
                        workers=1) / 100.0
    exact = sim == 1.0  # fuzz.ratio is 100 only for equal texts
    either_num = quote.digit[:, None] | heard.digit[None, :]
    sim = np.where(either_num, exact.astype(np.float32), sim)
    sound = (quote.sound[:, None] == heard.sound[None, :]) & (quote.sound[:, None] >= 0)
    return np.where(sound, np.maximum(sim, SOUND_ALIKE), sim)


def _one_to_two(forms: _Forms, heard: _Words, edges: list[int]) -> dict[tuple[int, int], str]:
    """Quote word i said as heard words j-1, j: ``(i, j) -> reason``, within each of the
    stretches that start at ``edges`` (the last edge is the end)."""
    out: dict[tuple[int, int], str] = {}
    starts = set(edges)
    ids = heard.ids
    for x, y, quote_i in forms.contractions:
        for j in (np.flatnonzero((ids[:-1] == x) & (ids[1:] == y)) + 1).tolist():
            out.update(((i, j), "contraction") for i in quote_i if j not in starts)
    if not forms.squashed or len(heard.texts) < 2:
        return out
    size, first = heard.size, heard.first
    codes = _code(np.where(size[:-1] > 0, first[:-1], first[1:]), size[:-1] + size[1:])
    for j in (np.flatnonzero(forms.split_codes[codes]) + 1).tolist():
        a, b = heard.texts[j - 1], heard.texts[j]
        if len(a) + len(b) in forms.lengths and j not in starts:
            for i in forms.squashed.get(_squash(a + b), ()):
                out.setdefault((i, j), "spacing")
    return out


def _two_to_one(forms: _Forms, heard: _Words, edges: list[int]) -> dict[tuple[int, int], str]:
    """Quote words i-1, i heard as one word j: ``(i, j) -> reason``, the heard words taken
    as stretches that start at ``edges`` (for the lengths in :func:`_spacing_lengths`)."""
    out: dict[tuple[int, int], str] = {}
    for j in np.flatnonzero(heard.apostrophe).tolist():
        out.update(((i, j), "contraction")
                   for i in forms.pairs.get(expand_contraction(heard.texts[j]), ()))
    long = heard.long
    lengths: dict[int, set[int]] = {}
    for j in np.flatnonzero(long & forms.join_codes[_code(heard.first, heard.size)]).tolist():
        for i, size in forms.joined.get(_squash(heard.texts[j]), ()):
            k = bisect_right(edges, j) - 1
            if k not in lengths:
                a, b = edges[k], edges[k + 1]
                lengths[k] = _spacing_lengths(heard.size[a:b][long[a:b]].tolist())
            if size in lengths[k]:
                out.setdefault((i, j), "spacing")
    return out


def _by_stretch(steps: dict[tuple[int, int], str], edges: list[int]) -> list[dict[tuple[int, int], str]]:
    """Steps ``(i, j)`` over stretches laid end to end, per stretch with ``j`` from its start."""
    out: list[dict[tuple[int, int], str]] = [{} for _ in edges[:-1]]
    for (i, j), reason in steps.items():
        k = bisect_right(edges, j) - 1
        out[k][(i, j - edges[k])] = reason
    return out


@dataclass
class _Quote:
    """A quote (or part) prepared once for aligning with many stretches of transcript."""

    tokens: list[Token]
    """Its normalised tokens."""
    words: _Words
    """Their texts and facts."""
    weights: list[float]
    """Weight of each token."""
    forms: _Forms
    """Its words by the forms they could be heard in."""


def _prepare(tokens: list[Token], lexicon: _Lexicon) -> _Quote:
    """Prepare a quote's tokens for :func:`_align`."""
    texts = [t.text for t in tokens]
    return _Quote(tokens, lexicon.words(texts), [weight(t) for t in tokens], _forms(texts, lexicon))


@dataclass
class _Scores:
    """Scoring tables for one alignment."""

    sub: np.ndarray
    """Score of aligning quote word i with heard word j."""
    gap_q: list[float]
    """Score of leaving quote word i unheard."""
    gap_h: np.ndarray
    """Score of leaving heard word j out of the quote."""
    weights: list[float]
    """Weight of each quote word."""
    sim: np.ndarray
    """Word similarities."""
    split: dict[tuple[int, int], str]
    """One quote word, two heard words."""
    merge: dict[tuple[int, int], str]
    """Two quote words, one heard word."""


def _scores(quote: _Quote, heards: Sequence[_Words], opts: LocateOptions) -> list[_Scores]:
    """Build the scoring tables for aligning ``quote`` against each of ``heards``.

    The similarities and scores of all of them are computed at once, over the stretches
    laid end to end, and each stretch gets views of its columns.
    """
    heard = _Words([t for h in heards for t in h.texts],
                   np.concatenate([h.facts for h in heards], axis=1))
    weights = quote.weights
    sim = _similarity(quote.words, heard)
    w = np.array(weights)[:, None]
    sub = w * np.maximum(2.0 * sim - 1.0, -1.0)
    gap_q = [-opts.gap_quote * x for x in weights]
    gap_h = np.where(heard.filler, 0.0, -opts.gap_heard)
    edges = np.cumsum([0] + [len(h.texts) for h in heards]).tolist()
    splits = _by_stretch(_one_to_two(quote.forms, heard, edges), edges)
    merges = _by_stretch(_two_to_one(quote.forms, heard, edges), edges)
    return [_Scores(sub[:, a:b], gap_q, gap_h[a:b], weights, sim[:, a:b], split, merge)
            for a, b, split, merge in zip(edges, edges[1:], splits, merges)]


@dataclass
class _Filled:
    """A filled alignment table, as far as the traceback needs it."""

    back: np.ndarray
    """Back-pointers: 0 stop, 1 diag, 2 up, 3 left, 4 split, 5 merge."""
    i: int
    """Row of the best end cell (the last quote word)."""
    j: int
    """Column of the best end cell."""


def _fill(tables: Sequence[_Scores], n: int) -> list[_Filled]:
    """Fill the alignment tables of several stretches at once, for a quote of ``n`` words.

    Semi-global: every quote word is accounted for (unheard ones cost a gap), while
    the heard stretch may start and end anywhere. Each row is computed with numpy: the
    left (heard-gap) moves are a running maximum over ``row[k] - cost(k..j)``, which
    ``np.maximum.accumulate`` does in one pass. The stretches are stacked, padded on the
    right to the widest (no step leads from the padding to a real cell), and
    back-pointers are worked out afterwards for everything at once (:func:`_pointers`).
    """
    widths = [sc.sub.shape[1] for sc in tables]
    k, m = len(tables), max(widths)
    sub, cost = np.zeros((k, n, m)), np.zeros((k, m + 1))
    for t, sc in enumerate(tables):
        sub[t, :, :widths[t]] = sc.sub
        cost[t, 1:widths[t] + 1] = np.cumsum(sc.gap_h)
    gap_q = tables[0].gap_q
    extras = [(t, _by_row(sc.split), _by_row(sc.merge)) for t, sc in enumerate(tables)
              if sc.split or sc.merge]
    h, base = np.zeros((k, n + 1, m + 1)), np.zeros((k, n + 1, m + 1))
    jumps: dict[tuple[int, int, int], int] = {}
    for i in range(1, n + 1):
        prev, row = h[:, i - 1], base[:, i]
        np.add(prev[:, :-1], sub[:, i - 1], out=row[:, 1:])
        np.maximum(row[:, 1:], prev[:, 1:] + gap_q[i - 1], out=row[:, 1:])
        row[:, 0] = prev[:, 0] + gap_q[i - 1]
        for t, splits, merges in extras:
            for col, (value, step) in _extra_steps(tables[t], h[t], i, splits, merges).items():
                if value > row[t, col]:
                    row[t, col], jumps[(t, i, col)] = value, step
        np.add(cost, np.maximum.accumulate(row - cost, axis=1), out=h[:, i])
    back = _pointers(sub, gap_q, h, base, jumps)
    return [_Filled(back[t, :, :w + 1], n, int(np.argmax(h[t, n, :w + 1])))
            for t, w in enumerate(widths)]


def _pointers(sub: np.ndarray, gap_q: list[float], h: np.ndarray, base: np.ndarray,
              jumps: dict[tuple[int, int, int], int]) -> np.ndarray:
    """Back-pointers of filled tables, given each row's best step before left moves."""
    diag = h[:, :-1, :-1] + sub
    up = h[:, :-1, 1:] + np.array(gap_q)[:, None]
    back = np.zeros(h.shape, dtype=np.int8)
    back[:, 1:, 0] = 2
    back[:, 1:, 1:] = np.where(diag > up, 1, 2)
    for cell, step in jumps.items():
        back[cell] = step
    back[:, 1:][h[:, 1:] > base[:, 1:] + 1e-9] = 3
    return back


def _by_row(steps: dict[tuple[int, int], str]) -> dict[int, list[int]]:
    """Split or merge steps by quote word: ``i -> [heard j]``."""
    rows: dict[int, list[int]] = {}
    for qi, hj in steps:
        rows.setdefault(qi, []).append(hj)
    return rows


def _extra_steps(sc: _Scores, h: np.ndarray, i: int, splits: dict[int, list[int]],
                 merges: dict[int, list[int]]) -> dict[int, tuple[float, int]]:
    """Split and merge steps ending in row ``i``: ``column -> (score, pointer)``."""
    extra: dict[int, tuple[float, int]] = {}
    qi = i - 1
    for hj in splits.get(qi, ()):
        extra[hj + 1] = (h[i - 1][hj - 1] + sc.weights[qi], 4)
    for hj in merges.get(qi, ()) if i >= 2 else ():
        value = h[i - 2][hj] + sc.weights[qi - 1] + sc.weights[qi]
        if value > extra.get(hj + 1, (-1.0, 0))[0]:
            extra[hj + 1] = (value, 5)
    return extra


def _traceback(sc: _Scores, back: np.ndarray, i: int, j: int, quote: list[str],
               heard: list[str]) -> list[AlignOp]:
    """Walk back from cell (i, j) to the first quote word."""
    ops: list[AlignOp] = []
    while i > 0:
        ptr = back[i, j] if j > 0 else 2
        if ptr == 1:
            sim = float(sc.sim[i - 1, j - 1])
            if quote[i - 1] == heard[j - 1]:
                ops.append(AlignOp(MATCH, (i - 1,), (j - 1,)))
            else:
                ops.append(AlignOp(CHANGED, (i - 1,), (j - 1,), round(sim, 3)))
            i, j = i - 1, j - 1
        elif ptr == 2:
            filler = sc.weights[i - 1] == 0.0
            ops.append(AlignOp(FORM if filler else ADDED, (i - 1,), (), 0.0,
                               "filler" if filler else ""))
            i -= 1
        elif ptr == 3:
            filler = heard[j - 1] in FILLERS
            ops.append(AlignOp(FORM if filler else MISSING, (), (j - 1,), 0.0,
                               "filler" if filler else ""))
            j -= 1
        elif ptr == 4:
            ops.append(AlignOp(FORM, (i - 1,), (j - 2, j - 1), 1.0, sc.split[(i - 1, j - 1)]))
            i, j = i - 1, j - 2
        else:
            ops.append(AlignOp(FORM, (i - 2, i - 1), (j - 1,), 1.0, sc.merge[(i - 1, j - 1)]))
            i, j = i - 2, j - 1
    return ops[::-1]


def _credit(op: AlignOp) -> float:
    """How much of a quote word an operation counts as heard."""
    if op.op in (MATCH, FORM):
        return 1.0
    if op.op == CHANGED:
        return max(0.0, (op.similarity - 0.4) / 0.6)
    return 0.0


def _score(ops: list[AlignOp], weights: list[float]) -> float:
    """Share of the quote's weight that was heard, 0 to 1."""
    total = sum(weights)
    if total <= 0:
        return 0.0
    heard = sum(weights[q] * _credit(op) for op in ops for q in op.quote_tokens)
    return min(1.0, heard / total)


def _upper_bound(sc: _Scores) -> float:
    """The best score any alignment could reach: each quote word at its most similar."""
    total = sum(sc.weights)
    if total <= 0 or sc.sim.size == 0:
        return 0.0
    credit = np.minimum(np.maximum((sc.sim.max(axis=1) - 0.4) / 0.6, 0.0), 1.0)  # np.clip, faster
    for i, _ in list(sc.split) + list(sc.merge):
        credit[i] = 1.0
    return float(np.dot(sc.weights, credit) / total)


def _align(quote: _Quote, heard: _Words, sc: _Scores, filled: _Filled) -> tuple[float, list[AlignOp]]:
    """:func:`align`, given its scoring tables (:func:`_scores`) and filled table (:func:`_fill`)."""
    n, m = len(quote.tokens), len(heard.texts)
    if n == 0 or m == 0:
        return 0.0, [AlignOp(ADDED, (i,), (), 0.0) for i in range(n)]
    ops = _traceback(sc, filled.back, filled.i, filled.j, quote.words.texts, heard.texts)
    covered = {q for op in ops for q in op.quote_tokens}
    first = min(covered, default=n)
    lead = [AlignOp(ADDED, (i,), (), 0.0) for i in range(first) if i not in covered]
    tail = [AlignOp(ADDED, (i,), (), 0.0) for i in range(first, n) if i not in covered]
    return _score(ops, sc.weights), lead + ops + tail


def align(quote_tokens: Sequence[Token], heard_tokens: Sequence[Token],
          options: LocateOptions | None = None) -> tuple[float, list[AlignOp]]:
    """Align a quote's tokens with heard tokens, tolerating many recogniser errors.

    Semi-global alignment (all of the quote against any stretch of what was heard)
    with fuzzy word similarity, plus one-to-two and two-to-one steps for contractions
    and split or joined words.

    Args:
        quote_tokens: the quote (or part), from :func:`pipeline.text.normalize`.
        heard_tokens: a stretch of transcript, from :func:`pipeline.text.tokens_from_words`.
        options: gap costs; defaults when None.

    Returns:
        ``(score, ops)``: the share of the quote heard (0 to 1) and the operations in
        order, covering every quote token (those outside the aligned region as
        ``added``) and the heard tokens inside it.
    """
    lexicon = _Lexicon()
    quote = _prepare(list(quote_tokens), lexicon)
    heard = lexicon.words([t.text for t in heard_tokens])
    sc = _scores(quote, [heard], options or LocateOptions())[0]
    return _align(quote, heard, sc, _fill([sc], len(quote.tokens))[0])


def _tables(quote: _Quote, heards: Sequence[_Words], opts: LocateOptions,
            min_score: float) -> list[tuple[_Scores, float, _Filled | None]]:
    """Scoring tables, upper bounds (:func:`_upper_bound`) and filled tables of a quote
    against several stretches; filled (together) only where the bound reaches ``min_score``."""
    tables = _scores(quote, heards, opts)
    bounds = [_upper_bound(sc) for sc in tables]
    wanted = [t for t, bound in enumerate(bounds) if min_score <= 0 or bound >= min_score]
    filled: dict[int, _Filled] = {}
    if wanted:
        filled = dict(zip(wanted, _fill([tables[t] for t in wanted], len(quote.tokens))))
    return [(sc, bound, filled.get(t)) for t, (sc, bound) in enumerate(zip(tables, bounds))]


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


def _groups(transcript: Transcript) -> list[int]:
    """Transmission id of every word (segment id where the transmission is unknown)."""
    return [s.transmission_id if s.transmission_id >= 0 else s.segment_id
            for s in transcript.segments for _ in s.words]


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

    lexicon: _Lexicon
    """Ids of token texts (quotes' words are added as they come)."""
    table: _Words
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
    lexicon = _Lexicon()
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
class _Window:
    """A stretch of one transcript, normalised for alignment."""

    heard: _Words
    """Its tokens' texts and facts."""
    lo: int
    """Its first word, an index into the transcript's words."""
    starts: np.ndarray | None = None
    """First token of each of its words (one more entry), where the tokens are made when cut."""
    tokens: list[Token] | None = None
    """The tokens, where they were made for this window."""

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
               min_score: float | None = None) -> list[list[Candidate]]:
        """Find the best regions for each part of a quote.

        Args:
            quote: the quote; its ``recording``, when set, restricts the search.
            top_k: candidates per part (default from the options).
            min_score: lowest score kept (default from the options).

        Returns:
            One list per part (``quote.parts``, or the text when there are none), each
            best first; an empty list means that part was not found.
        """
        parts = quote.parts or [quote.text]
        docs = self._docs_for(quote.recording)
        return [self.locate_text(part, i, docs, top_k, min_score) for i, part in enumerate(parts)]

    def locate_text(self, text: str, part_index: int = 0, docs: Sequence[int] | None = None,
                    top_k: int | None = None, min_score: float | None = None) -> list[Candidate]:
        """Find the best regions for one stretch of quoted text.

        Args:
            text: the words to look for.
            part_index: recorded in the candidates.
            docs: indices of the transcripts to search (all when None).
            top_k: candidates kept (default from the options).
            min_score: lowest score kept (default from the options).

        Returns:
            Candidates, best first.
        """
        opts = self.options
        top_k = opts.top_k if top_k is None else top_k
        min_score = opts.min_score if min_score is None else min_score
        quote = normalize(text)
        if not any(weight(t) for t in quote) or not self.size:
            return []
        prepared = _prepare(quote, self._tokens.lexicon)
        spans = self._windows(text, len(quote), docs)
        windows = [self._window(self.docs[doc_i], lo, hi) for doc_i, lo, hi in spans]
        tables = _tables(prepared, [w.heard for w in windows], opts, min_score) if spans else []
        found: list[Candidate] = []
        for (doc_i, _, _), window, (sc, bound, filled) in zip(spans, windows, tables):
            scores = sorted((c.score for c in found), reverse=True)
            floor = max(min_score, scores[top_k - 1] if len(scores) >= top_k else 0.0)
            if floor > 0 and bound < floor:
                continue  # no alignment here could reach the floor (nor was it filled)
            cand = self._candidate(prepared, self.docs[doc_i], window, sc, filled, part_index, floor)
            if cand is not None and cand.score >= min_score:
                found.append(cand)
        return _best(found, top_k)

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
        cap = max(50, int(self.options.common * self.size))
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

    # -- candidates

    def _candidate(self, quote: _Quote, doc: _Doc, window: _Window, sc: _Scores,
                   filled: _Filled, part_index: int, floor: float = 0.0) -> Candidate | None:
        """Align a quote with one region and describe the best local match (None when it
        does not reach ``floor``: below it, a candidate would be dropped or outranked)."""
        score, ops = _align(quote, window.heard, sc, filled)
        if round(score, 4) < floor:
            return None
        heard = [j for op in ops for j in op.heard_tokens]
        if not heard:
            return None
        a, b = min(heard), max(heard) + 1
        for op in ops:
            op.heard_tokens = tuple(j - a for j in op.heard_tokens)
        tokens = window.cut(doc.words, a, b)
        w0, w1 = tokens[0].index, tokens[-1].index + tokens[-1].span
        return Candidate(
            recording=doc.transcript.recording, part_index=part_index,
            word_start=w0, word_end=w1, start_s=doc.words[w0].start, end_s=doc.words[w1 - 1].end,
            score=round(score, 4), ops=ops,
            context_before=self._context(doc, w0 - 1, -1),
            context_after=self._context(doc, w1, 1),
            quote_tokens=quote.tokens, heard_tokens=tokens,
            segment_ids=tuple(dict.fromkeys(doc.groups[w0:w1])))

    def _window(self, doc: _Doc, lo: int, hi: int) -> _Window:
        """Words ``lo`` to ``hi`` of a transcript as tokens, sliced from the index where the
        slice is what normalising them would give."""
        t, g0, g1 = self._tokens, doc.offset + lo, doc.offset + hi
        if t.joins[g0:g1].any():
            tokens = tokens_from_words(doc.words[lo:hi], start=lo)
            return _Window(t.lexicon.words([x.text for x in tokens]), lo, tokens=tokens)
        starts = t.first[g0:g1 + 1]
        return _Window(t.table.take(t.ids[starts[0]:starts[-1]]), lo, starts - starts[0])

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


def _best(found: list[Candidate], top_k: int) -> list[Candidate]:
    """Best first, overlapping regions of one recording reduced to the best."""
    kept: list[Candidate] = []
    for cand in sorted(found, key=lambda c: (-c.score, c.recording, c.word_start)):
        if any(k.recording == cand.recording and cand.word_start < k.word_end
               and k.word_start < cand.word_end for k in kept):
            continue
        kept.append(cand)
        if len(kept) == top_k:
            break
    return kept
