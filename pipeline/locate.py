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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

from pipeline.records import Quote, Transcript, Word
from pipeline.text import (
    FILLERS,
    Token,
    expand_contraction,
    normalize,
    normalize_word,
    phonetic_key,
    split_words,
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

def _similarity(quote: Sequence[Token], heard: Sequence[Token]) -> np.ndarray:
    """Word similarity matrix in [0, 1]: rapidfuzz ratio, sound-alikes, exact numbers."""
    qt = [t.text for t in quote]
    ht = [t.text for t in heard]
    sim = process.cdist(qt, ht, scorer=fuzz.ratio, dtype=np.float32, workers=1) / 100.0
    q_num = np.array([t.isdigit() for t in qt])
    h_num = np.array([t.isdigit() for t in ht])
    exact = np.array(qt, dtype=object)[:, None] == np.array(ht, dtype=object)[None, :]
    either_num = q_num[:, None] | h_num[None, :]
    sim = np.where(either_num, exact.astype(np.float32), sim)
    qk = np.array([phonetic_key(t) if len(t) > 2 and t.isalpha() else f"#{t}" for t in qt],
                  dtype=object)
    hk = np.array([phonetic_key(t) if len(t) > 2 and t.isalpha() else f"@{t}" for t in ht],
                  dtype=object)
    sound = qk[:, None] == hk[None, :]
    return np.where(sound, np.maximum(sim, SOUND_ALIKE), sim)


def _squash(text: str) -> str:
    """A word with apostrophes and hyphens removed, for spacing comparisons."""
    return text.replace("'", "").replace("-", "")


def _one_to_two(quote: Sequence[Token], heard: Sequence[Token]) -> dict[tuple[int, int], str]:
    """Quote word i said as heard words j-1, j: ``(i, j) -> reason``."""
    expanded: dict[tuple[str, ...], list[int]] = {}
    squashed: dict[str, list[int]] = {}
    for i, token in enumerate(quote):
        if "'" in token.text:
            expanded.setdefault(expand_contraction(token.text), []).append(i)
        if len(token.text) > 3:
            squashed.setdefault(_squash(token.text), []).append(i)
    lengths = {len(k) + extra for k in squashed for extra in (0, 1, 2)}
    out: dict[tuple[int, int], str] = {}
    for j in range(1, len(heard)):
        a, b = heard[j - 1].text, heard[j].text
        for i in expanded.get((a, b), ()):
            out[(i, j)] = "contraction"
        if len(a) + len(b) in lengths:
            for i in squashed.get(_squash(a + b), ()):
                out.setdefault((i, j), "spacing")
    return out


def _two_to_one(quote: Sequence[Token], heard: Sequence[Token]) -> dict[tuple[int, int], str]:
    """Quote words i-1, i heard as one word j: ``(i, j) -> reason``."""
    swapped = _one_to_two(heard, quote)
    return {(i, j): reason for (j, i), reason in swapped.items()}


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


def _scores(quote: Sequence[Token], heard: Sequence[Token], opts: LocateOptions) -> _Scores:
    """Build the scoring tables for aligning ``quote`` against ``heard``."""
    weights = [weight(t) for t in quote]
    sim = _similarity(quote, heard)
    w = np.array(weights)[:, None]
    sub = w * np.maximum(2.0 * sim - 1.0, -1.0)
    gap_q = [-opts.gap_quote * x for x in weights]
    gap_h = np.array([0.0 if t.text in FILLERS else -opts.gap_heard for t in heard])
    return _Scores(sub, gap_q, gap_h, weights, sim, _one_to_two(quote, heard),
                   _two_to_one(quote, heard))


def _fill(sc: _Scores, n: int, m: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Alignment table, back-pointers (0 stop, 1 diag, 2 up, 3 left, 4 split, 5 merge)
    and the best end cell.

    Semi-global: every quote word is accounted for (unheard ones cost a gap), while
    the heard stretch may start and end anywhere. Each row is computed with numpy: the
    left (heard-gap) moves are a running maximum over ``row[k] - cost(k..j)``, which
    ``np.maximum.accumulate`` does in one pass.
    """
    h = np.zeros((n + 1, m + 1))
    back = np.zeros((n + 1, m + 1), dtype=np.int8)
    cost = np.concatenate(([0.0], np.cumsum(sc.gap_h)))
    for i in range(1, n + 1):
        prev = h[i - 1]
        diag = prev[:-1] + sc.sub[i - 1]
        up = prev[1:] + sc.gap_q[i - 1]
        base = np.concatenate(([prev[0] + sc.gap_q[i - 1]], np.maximum(diag, up)))
        ptr = np.concatenate(([2], np.where(diag > up, 1, 2))).astype(np.int8)
        for col, (value, step) in _extra_steps(sc, h, i).items():
            if value > base[col]:
                base[col], ptr[col] = value, step
        row = cost + np.maximum.accumulate(base - cost)
        ptr[row > base + 1e-9] = 3
        h[i], back[i] = row, ptr
    return h, back, n, int(np.argmax(h[n]))


def _extra_steps(sc: _Scores, h: np.ndarray, i: int) -> dict[int, tuple[float, int]]:
    """Split and merge steps ending in row ``i``: ``column -> (score, pointer)``."""
    extra: dict[int, tuple[float, int]] = {}
    for (qi, hj), _ in sc.split.items():
        if qi == i - 1:
            extra[hj + 1] = (h[i - 1][hj - 1] + sc.weights[qi], 4)
    for (qi, hj), _ in sc.merge.items():
        if qi == i - 1 and i >= 2:
            value = h[i - 2][hj] + sc.weights[qi - 1] + sc.weights[qi]
            if value > extra.get(hj + 1, (-1.0, 0))[0]:
                extra[hj + 1] = (value, 5)
    return extra


def _traceback(sc: _Scores, h, back, i: int, j: int, quote, heard) -> list[AlignOp]:
    """Walk back from cell (i, j) to the first quote word."""
    ops: list[AlignOp] = []
    while i > 0:
        ptr = back[i][j] if j > 0 else 2
        if ptr == 1:
            sim = float(sc.sim[i - 1][j - 1])
            if quote[i - 1].text == heard[j - 1].text:
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
            filler = heard[j - 1].text in FILLERS
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
    credit = np.clip((sc.sim.max(axis=1) - 0.4) / 0.6, 0.0, 1.0)
    for i, _ in list(sc.split) + list(sc.merge):
        credit[i] = 1.0
    return float(np.dot(sc.weights, credit) / total)


def _align(quote_tokens: Sequence[Token], heard_tokens: Sequence[Token], opts: LocateOptions,
           floor: float = 0.0) -> tuple[float, list[AlignOp]] | None:
    """:func:`align`, or None when no alignment could reach ``floor``."""
    n, m = len(quote_tokens), len(heard_tokens)
    if n == 0 or m == 0:
        return 0.0, [AlignOp(ADDED, (i,), (), 0.0) for i in range(n)]
    sc = _scores(quote_tokens, heard_tokens, opts)
    if floor > 0 and _upper_bound(sc) < floor:
        return None
    h, back, bi, bj = _fill(sc, n, m)
    ops = _traceback(sc, h, back, bi, bj, quote_tokens, heard_tokens)
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
    result = _align(quote_tokens, heard_tokens, options or LocateOptions())
    assert result is not None
    return result


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


class WordIndex:
    """An inverted index over transcripts' normalised words, to locate quotes fast.

    Positions are word positions (a word of several pieces, ``10-4``, posts each piece
    at its position); tokens for alignment are made only for shortlisted regions.
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
        keys_of = [[self._vocab.setdefault(k, len(self._vocab)) for k in _word_keys(s)]
                   for s in spellings]
        counts = np.array([len(k) for k in keys_of], dtype=np.int64)
        flat = np.array([k for ks in keys_of for k in ks], dtype=np.int64)
        first = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        per_word = counts[spelled] if self.size else np.zeros(0, dtype=np.int64)
        positions = np.repeat(np.arange(self.size, dtype=np.int64), per_word)
        within = np.arange(len(positions)) - np.repeat(np.cumsum(per_word) - per_word, per_word)
        keys = flat[np.repeat(first[spelled], per_word) + within] if len(positions) else flat
        self._sounds: dict[str, int] = {}
        sound_of = np.array([self._sounds.setdefault(_sound(w), len(self._sounds))
                             for w in self._vocab], dtype=np.int64)
        self._words = _postings(keys, positions)
        self._sound = _postings(sound_of[keys] if len(keys) else keys, positions)

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
        found: list[Candidate] = []
        for doc_i, lo, hi in self._windows(text, len(quote), docs):
            scores = sorted((c.score for c in found), reverse=True)
            floor = max(min_score, scores[top_k - 1] if len(scores) >= top_k else 0.0)
            cand = self._candidate(quote, doc_i, lo, hi, part_index, floor)
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
                        lists.append((len(pos) > cap, pos - i, idf))
        usable = [x for x in lists if not x[0]] or lists
        if not usable:
            return np.empty(0, dtype=np.int64), np.empty(0)
        diags = np.concatenate([d for _, d, _ in usable])
        votes = np.concatenate([np.full(len(d), w) for _, d, w in usable])
        return diags, votes

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
        buckets = np.floor_divide(diags, width)
        uniq, inverse = np.unique(buckets, return_inverse=True)
        sums = np.bincount(inverse, weights=votes)
        nxt = np.searchsorted(uniq, uniq + 1).clip(max=len(uniq) - 1)
        paired = sums + np.where(uniq[nxt] == uniq + 1, sums[nxt], 0.0)
        top = np.argsort(-paired, kind="stable")[: self.options.windows]
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

    def _candidate(self, quote: list[Token], doc_i: int, lo: int, hi: int,
                   part_index: int, floor: float = 0.0) -> Candidate | None:
        """Align a quote with one region and describe the best local match (None when it
        cannot reach ``floor``)."""
        doc = self.docs[doc_i]
        window = tokens_from_words(doc.words[lo:hi], start=lo)
        result = _align(quote, window, self.options, floor)
        if result is None:
            return None
        score, ops = result
        heard = [j for op in ops for j in op.heard_tokens]
        if not heard:
            return None
        a, b = min(heard), max(heard) + 1
        for op in ops:
            op.heard_tokens = tuple(j - a for j in op.heard_tokens)
        tokens = window[a:b]
        w0, w1 = tokens[0].index, tokens[-1].index + tokens[-1].span
        return Candidate(
            recording=doc.transcript.recording, part_index=part_index,
            word_start=w0, word_end=w1, start_s=doc.words[w0].start, end_s=doc.words[w1 - 1].end,
            score=round(score, 4), ops=ops,
            context_before=self._context(doc, w0 - 1, -1),
            context_after=self._context(doc, w1, 1),
            quote_tokens=quote, heard_tokens=tokens,
            segment_ids=tuple(dict.fromkeys(doc.groups[w0:w1])))

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
