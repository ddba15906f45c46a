"""Local alignment of a quote's words inside what the recogniser heard.

The recogniser is wrong often (about half the words on P25 dispatch audio), so a
quote is matched word by word, not as a string: both sides are normalised the same
way (:mod:`pipeline.text`) and aligned by a local alignment (Smith-Waterman, made
semi-global: all of the quote against any stretch of what was heard) whose word
similarity is rapidfuzz's ratio, so ``cheif``/``chief`` still count and
``trash``/``price`` do not.

The alignment is told from the quote's point of view, as
:class:`pipeline.records.WordStatus` values:

- ``match``: the same normalised word;
- ``form``: the same words in another form (``we're``/``we are``, ``anybody``/``any
  body``, a filler heard but not quoted);
- ``changed``: a quote word aligned to a different heard word;
- ``added``: a quote word that was not heard (the quote added it);
- ``missing``: a heard word that the quote leaves out.

The score is the share of the quote's weight (fillers 0, function words 0.3, other
words 1) that was heard, with partial credit for near misses, so a long quote or a
written statement cannot reach it on a few chance words of radio chatter.

:func:`align` aligns one quote with one stretch; :func:`prepare`, :func:`tables_for`
and :func:`align_filled` align one quote with many stretches at once, as
:mod:`pipeline.locate` does with the regions it shortlists.

What it does not do: choose where to look (:mod:`pipeline.locate` does), or listen
to the audio (adjudication does that).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from pipeline.records import WordStatus
from pipeline.spoken import number_name
from pipeline.text import FILLERS, Token, expand_contraction, phonetic_key, weight

SOUND_ALIKE = 0.8
"""Similarity given to two words with the same phonetic key (and three letters or more)."""
NUMBER_ALIKE = 80
"""Lowest rapidfuzz ratio between a quoted number's name and a heard word for the two to
count as sound-alikes (``four``/``for``, ``ten``/``then``); a heard word of four letters or
more may instead match a part of the name this well (``twelve``/``well``)."""
GAP_QUOTE = 0.6
"""Default cost, per unit of weight, of a quote word that was not heard."""
GAP_HEARD = 0.4
"""Default cost of a heard word that the quote leaves out (fillers cost nothing)."""
CREDIT_FLOOR = 0.4
"""Word similarity at or below which a changed word counts as not heard at all; above it,
credit grows linearly to 1 at similarity 1."""


@dataclass
class AlignOp:
    """One step of a word alignment between a quote and what was heard."""

    op: WordStatus
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
class Words:
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

    def take(self, ids: np.ndarray) -> Words:
        """The words with these text ids (this being the whole lexicon's table)."""
        return Words([self.texts[i] for i in ids.tolist()], self.facts[:, ids])


class Lexicon:
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
        """The facts of :class:`Words` about one text."""
        sound = -1
        if len(text) > 2 and text.isalpha():
            sound = self._sounds.setdefault(phonetic_key(text), len(self._sounds))
        squashed = _squash(text)
        return (text_id, sound, text.isdigit(), text in FILLERS, "'" in text, len(text) > 3,
                _first(squashed), len(squashed))

    def words(self, texts: Sequence[str]) -> Words:
        """Texts with their facts."""
        ids = [self.id(t) for t in texts]
        facts = [[column[i] for i in ids] for column in self._facts]
        return Words(list(texts), np.array(facts, dtype=np.int64).reshape(8, len(ids)))

    def table(self) -> Words:
        """Every text so far, in id order (see :meth:`Words.take`)."""
        return Words(list(self.ids), np.array(self._facts, dtype=np.int64).reshape(8, -1))


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


def _forms(texts: list[str], lexicon: Lexicon) -> _Forms:
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


def _similarity(quote: Words, heard: Words) -> np.ndarray:
    """Word similarity matrix in [0, 1]: rapidfuzz ratio, sound-alikes, exact numbers."""
    sim = process.cdist(quote.texts, heard.texts, scorer=fuzz.ratio, dtype=np.float32,
                        workers=1) / 100.0
    exact = sim == 1.0  # fuzz.ratio is 100 only for equal texts
    either_num = quote.digit[:, None] | heard.digit[None, :]
    sim = np.where(either_num, exact.astype(np.float32), sim)
    sound = (quote.sound[:, None] == heard.sound[None, :]) & (quote.sound[:, None] >= 0)
    sim = np.where(sound, np.maximum(sim, SOUND_ALIKE), sim)
    return _misheard_numbers(quote, heard, sim)


def _misheard_numbers(quote: Words, heard: Words, sim: np.ndarray) -> np.ndarray:
    """Sound-alike credit for a quoted number heard as a word that sounds like its name
    ("Eight twelve" heard as "8th, well", "ten four" as "ten for"): radio clips and blurs the
    call signs that open most transmissions. Numbers heard as other numbers still count only
    when equal."""
    named = [(i, number_name(text)) for i, text in enumerate(quote.texts)]
    rows, names = [i for i, name in named if name], [name for _, name in named if name]
    if not rows or not heard.texts:
        return sim
    near = process.cdist(names, heard.texts, scorer=fuzz.ratio, dtype=np.float32, workers=1) >= NUMBER_ALIKE
    longer = np.array([len(h) >= 4 for h in heard.texts])
    near |= longer & (process.cdist(names, heard.texts, scorer=fuzz.partial_ratio, dtype=np.float32,
                                    workers=1) >= NUMBER_ALIKE - 5)
    ordinal = np.array([[h[:-2] == quote.texts[i] and h[-2:] in ("st", "nd", "rd", "th")
                         for h in heard.texts] for i in rows])
    alike = (near | ordinal) & ~heard.digit[None, :]
    sim[rows] = np.where(alike, np.maximum(sim[rows], SOUND_ALIKE), sim[rows])
    return sim


def _one_to_two(forms: _Forms, heard: Words, edges: list[int]) -> dict[tuple[int, int], str]:
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


def _two_to_one(forms: _Forms, heard: Words, edges: list[int]) -> dict[tuple[int, int], str]:
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
class PreparedQuote:
    """A quote (or part) prepared once for aligning with many stretches of transcript."""

    tokens: list[Token]
    """Its normalised tokens."""
    words: Words
    """Their texts and facts."""
    weights: list[float]
    """Weight of each token."""
    forms: _Forms
    """Its words by the forms they could be heard in."""


def prepare(tokens: list[Token], lexicon: Lexicon) -> PreparedQuote:
    """Prepare a quote's tokens for :func:`align_filled`."""
    texts = [t.text for t in tokens]
    return PreparedQuote(tokens, lexicon.words(texts), [weight(t) for t in tokens], _forms(texts, lexicon))


@dataclass
class Scores:
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


def _scores(quote: PreparedQuote, heards: Sequence[Words], gap_quote: float,
            gap_heard: float) -> list[Scores]:
    """Build the scoring tables for aligning ``quote`` against each of ``heards``.

    The similarities and scores of all of them are computed at once, over the stretches
    laid end to end, and each stretch gets views of its columns.
    """
    heard = Words([t for h in heards for t in h.texts],
                  np.concatenate([h.facts for h in heards], axis=1))
    weights = quote.weights
    sim = _similarity(quote.words, heard)
    w = np.array(weights)[:, None]
    sub = w * np.maximum(2.0 * sim - 1.0, -1.0)
    gap_q = [-gap_quote * x for x in weights]
    gap_h = np.where(heard.filler, 0.0, -gap_heard)
    edges = np.cumsum([0] + [len(h.texts) for h in heards]).tolist()
    splits = _by_stretch(_one_to_two(quote.forms, heard, edges), edges)
    merges = _by_stretch(_two_to_one(quote.forms, heard, edges), edges)
    return [Scores(sub[:, a:b], gap_q, gap_h[a:b], weights, sim[:, a:b], split, merge)
            for a, b, split, merge in zip(edges, edges[1:], splits, merges)]


@dataclass
class Filled:
    """A filled alignment table, as far as the traceback needs it."""

    back: np.ndarray
    """Back-pointers: 0 stop, 1 diag, 2 up, 3 left, 4 split, 5 merge."""
    i: int
    """Row of the best end cell (the last quote word)."""
    j: int
    """Column of the best end cell."""


def _fill(tables: Sequence[Scores], n: int) -> list[Filled]:
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
    return [Filled(back[t, :, :w + 1], n, int(np.argmax(h[t, n, :w + 1])))
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


def _extra_steps(sc: Scores, h: np.ndarray, i: int, splits: dict[int, list[int]],
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


def _traceback(sc: Scores, back: np.ndarray, i: int, j: int, quote: list[str],
               heard: list[str]) -> list[AlignOp]:
    """Walk back from cell (i, j) to the first quote word."""
    ops: list[AlignOp] = []
    while i > 0:
        ptr = back[i, j] if j > 0 else 2
        if ptr == 1:
            sim = float(sc.sim[i - 1, j - 1])
            if quote[i - 1] == heard[j - 1]:
                ops.append(AlignOp(WordStatus.MATCH, (i - 1,), (j - 1,)))
            else:
                ops.append(AlignOp(WordStatus.CHANGED, (i - 1,), (j - 1,), round(sim, 3)))
            i, j = i - 1, j - 1
        elif ptr == 2:
            filler = sc.weights[i - 1] == 0.0
            ops.append(AlignOp(WordStatus.FORM if filler else WordStatus.ADDED, (i - 1,), (), 0.0,
                               "filler" if filler else ""))
            i -= 1
        elif ptr == 3:
            filler = heard[j - 1] in FILLERS
            ops.append(AlignOp(WordStatus.FORM if filler else WordStatus.MISSING, (), (j - 1,), 0.0,
                               "filler" if filler else ""))
            j -= 1
        elif ptr == 4:
            ops.append(AlignOp(WordStatus.FORM, (i - 1,), (j - 2, j - 1), 1.0, sc.split[(i - 1, j - 1)]))
            i, j = i - 1, j - 2
        else:
            ops.append(AlignOp(WordStatus.FORM, (i - 2, i - 1), (j - 1,), 1.0, sc.merge[(i - 1, j - 1)]))
            i, j = i - 2, j - 1
    return ops[::-1]


def _credit(op: AlignOp) -> float:
    """How much of a quote word an operation counts as heard."""
    if op.op.held:
        return 1.0
    if op.op is WordStatus.CHANGED:
        return max(0.0, (op.similarity - CREDIT_FLOOR) / (1 - CREDIT_FLOOR))
    return 0.0


def _score(ops: list[AlignOp], weights: list[float]) -> float:
    """Share of the quote's weight that was heard, 0 to 1."""
    total = sum(weights)
    if total <= 0:
        return 0.0
    heard = sum(weights[q] * _credit(op) for op in ops for q in op.quote_tokens)
    return min(1.0, heard / total)


def _upper_bound(sc: Scores) -> float:
    """The best score any alignment could reach: each quote word at its most similar."""
    total = sum(sc.weights)
    if total <= 0 or sc.sim.size == 0:
        return 0.0
    credit = np.minimum(np.maximum((sc.sim.max(axis=1) - CREDIT_FLOOR) / (1 - CREDIT_FLOOR), 0.0),
                        1.0)  # np.clip, faster
    for i, _ in list(sc.split) + list(sc.merge):
        credit[i] = 1.0
    return float(np.dot(sc.weights, credit) / total)


def align_filled(quote: PreparedQuote, heard: Words, sc: Scores,
                 filled: Filled) -> tuple[float, list[AlignOp]]:
    """:func:`align`, given its scoring tables and filled table (from :func:`tables_for`)."""
    n, m = len(quote.tokens), len(heard.texts)
    if n == 0 or m == 0:
        return 0.0, [AlignOp(WordStatus.ADDED, (i,), (), 0.0) for i in range(n)]
    ops = _traceback(sc, filled.back, filled.i, filled.j, quote.words.texts, heard.texts)
    covered = {q for op in ops for q in op.quote_tokens}
    first = min(covered, default=n)
    lead = [AlignOp(WordStatus.ADDED, (i,), (), 0.0) for i in range(first) if i not in covered]
    tail = [AlignOp(WordStatus.ADDED, (i,), (), 0.0) for i in range(first, n) if i not in covered]
    return _score(ops, sc.weights), lead + ops + tail


def align(quote_tokens: Sequence[Token], heard_tokens: Sequence[Token], gap_quote: float = GAP_QUOTE,
          gap_heard: float = GAP_HEARD) -> tuple[float, list[AlignOp]]:
    """Align a quote's tokens with heard tokens, tolerating many recogniser errors.

    Semi-global alignment (all of the quote against any stretch of what was heard)
    with fuzzy word similarity, plus one-to-two and two-to-one steps for contractions
    and split or joined words.

    Args:
        quote_tokens: the quote (or part), from :func:`pipeline.text.normalize`.
        heard_tokens: a stretch of transcript, from :func:`pipeline.text.tokens_from_words`.
        gap_quote: cost, per unit of weight, of a quote word that was not heard.
        gap_heard: cost of a heard word that the quote leaves out.

    Returns:
        ``(score, ops)``: the share of the quote heard (0 to 1) and the operations in
        order, covering every quote token (those outside the aligned region as
        ``added``) and the heard tokens inside it.
    """
    lexicon = Lexicon()
    quote = prepare(list(quote_tokens), lexicon)
    heard = lexicon.words([t.text for t in heard_tokens])
    sc = _scores(quote, [heard], gap_quote, gap_heard)[0]
    return align_filled(quote, heard, sc, _fill([sc], len(quote.tokens))[0])


def tables_for(quote: PreparedQuote, heards: Sequence[Words], gap_quote: float, gap_heard: float,
               min_score: float) -> list[tuple[Scores, float, Filled | None]]:
    """Scoring tables, upper bounds (:func:`_upper_bound`) and filled tables of a quote
    against several stretches; filled (together) only where the bound reaches ``min_score``."""
    tables = _scores(quote, heards, gap_quote, gap_heard)
    bounds = [_upper_bound(sc) for sc in tables]
    wanted = [t for t, bound in enumerate(bounds) if min_score <= 0 or bound >= min_score]
    filled: dict[int, Filled] = {}
    if wanted:
        filled = dict(zip(wanted, _fill([tables[t] for t in wanted], len(quote.tokens))))
    return [(sc, bound, filled.get(t)) for t, (sc, bound) in enumerate(zip(tables, bounds))]
