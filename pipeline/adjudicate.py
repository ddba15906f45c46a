"""Adjudicating a located quote on its audio: the audio decides, and says when it cannot.

Where a quote and the recogniser's words differ, either the recogniser misheard or
the article misquoted. Whisper's decoder is the judge, through teacher-forced
scoring (``scoring.py``):

1. Every word of the quote, and every junction between two neighbouring words, that a
   recogniser heard (the transcript's words, a scorer's top prediction teacher-forced in
   the quote's context, or a beam hypothesis of any scorer, the witnesses' included)
   counts as heard. The rest form *doubtful spans*.
2. For each doubtful span, the quote is scored against its strongest alternatives,
   each the quote with only that span changed: to what each hypothesis heard there,
   to the model's top prediction in the quote's own context (a word inserted or put in
   place, or one token swapped: ``They're`` -> ``We're``), to every number one digit
   away from a number there (``843`` -> ``833``), or with the span left out. Texts share
   casing and punctuation, and are compared by mean log-probability per token (the sum
   rewards shorter text).
3. A span is *supported* when the quote beats every alternative by ``margin_nats``
   with the first scorer; *contradicted* when every scorer prefers one local alternative
   (at most ``max_span_words`` words each way) by ``contradict_nats`` and the quote's own
   token there is near-impossible (``min_prob``); else it stays doubtful. Spans at the
   quote's edges are never contradicted (a quote cut short, or a transmission clipped as
   the radio keyed up, is not a misquote) unless the audio plainly says another number
   there; a number at an edge that the recognisers heard as no number is supported when
   it beats every number one digit away (reported, with lower confidence), nor are spans
   longer than ``max_span_words`` judged.
4. Any contradicted span makes a ``misquote``; all spans supported make ``verbatim``
   (``minor`` if the words differ from what was heard only in form); anything else is
   ``unverifiable``, with the span a person should replay.

A single model is self-biased (where it mishears, it scores its own words far above
the truth), so nothing here is called ``misquote`` on one model's say-so alone unless
the margin is large, and nothing unheard is called ``verbatim`` without a pairwise win.

This module is pure apart from the scorers it is handed: no files, no model loading.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from pipeline import text as textmod
from pipeline.align import align
from pipeline.audio import SAMPLE_RATE
from pipeline.records import Word

logger = logging.getLogger(__name__)


VERDICTS = ("verbatim", "minor", "misquote", "unverifiable")
"""Verdicts :func:`adjudicate` gives (``not_found`` is the caller's, before adjudicating)."""


@dataclass
class AdjudicateOptions:
    """How a located quote part is judged on its audio."""

    margin_nats: float = 1.0
    """The quote must beat each alternative by this much (nats, over the whole text) to
    count a doubtful span as supported by the audio."""
    contradict_nats: float = 6.0
    """Every scorer must prefer one alternative by at least this much to contradict the quote."""
    single_contradict_nats: float = 10.0
    """The margin needed when only one scorer judges (one witness, so a larger margin)."""
    function_word_factor: float = 1.0
    """Contradicting margins are multiplied by this where only function words differ
    (``in``/``and``, ``a``/``the``). 1: on the four benchmark sets the worst true
    function-word span loses by 3.5 nats, while edited ones (``to``/``from``, an added
    ``all``, a dropped ``the``) lose by 6.5-12 with both scorers; 2 left those unflagged."""
    min_prob: float = 0.05
    """The quote's own token in a contradicted span must get less than this probability."""
    context_s: float = 1.0
    """Seconds of audio kept on each side of the located span (see :func:`cut_window`)."""
    beam_size: int = 5
    """Beam hypotheses the judge adds as evidence of what was heard, decoded only when the
    transcript's words and the judge's top predictions (``top1_prob``) leave part of the
    quote unheard, once per window (cached on it); 0 turns it off."""
    top1_prob: float = 0.3
    """A quote word counts as heard by the judge when, teacher-forced in the quote's
    context, each of its tokens is the judge's top prediction and the first gets at least
    this probability (what greedy decoding would have written there); 0 turns this off."""
    witness_evidence: bool = True
    """Whether the witnesses' top predictions and beam hypotheses also count as heard."""
    max_span_words: int = 4
    """Doubtful spans longer than this stay doubtful: a pairwise test judges local
    differences, not a stretch the recognisers did not hear at all."""
    top_k: int = 5
    """Tokens considered at each position when taking the model's top prediction."""
    token_alternatives: int = 2
    """Per token of a doubtful span, how many of the judge's likeliest other tokens of the
    same kind (word or digits) are swapped in as alternatives; 0 turns this off."""
    max_alternatives: int = 24
    """Most alternative texts scored per quote (nearest spans first), besides the numbers
    one digit away from a number in a doubtful span (all of those are scored)."""
    min_words: int = 3
    """Quotes with fewer words are ``unverifiable`` (too short to judge)."""
    max_contradicted_share: float = 0.34
    """A ``misquote`` needs the audio to contradict at most this share of the quote's words
    (a junction counts as one). Where it contradicts more, this is likely another
    transmission that shares the quote's call signs ("Eight twelve, we're on scene" for
    "Eight twelve, we're turning around"), not a misquote of it: ``unverifiable``."""
    listen_pad_s: float = 0.5
    """Seconds added on each side of a doubtful span's times for the replay span."""


@dataclass
class WordJudgement:
    """What the audio says about one word of the quote (or one the quote lacks)."""

    word: str
    """The word as quoted; empty for a ``missing`` word (one the audio has and the quote lacks)."""
    index: int
    """Position of the word in the quote's words; for a ``missing`` word, the position
    it would take."""
    status: str
    """``match``, ``form`` (same word, other form), ``changed``, ``added`` (in the quote,
    not the audio) or ``missing`` (in the audio, not the quote)."""
    heard: str
    """What the audio seems to say there (empty for ``added``)."""
    start: float
    """Start in seconds, absolute in the recording, from forced alignment of the quote."""
    end: float
    """End in seconds, absolute in the recording (equal to ``start`` suggests absence)."""
    probability: float
    """Teacher-forced probability of the word in the quote's context, in [0, 1]."""
    supported: bool | None = None
    """True when heard or won its pairwise test, False when the audio contradicts it,
    None when undecided."""


@dataclass
class SpanTest:
    """One doubtful span of the quote and the pairwise test that judged it."""

    word_start: int
    """First quote word of the span."""
    word_end: int
    """One past the last quote word (equal to ``word_start`` for a junction)."""
    quoted: str
    """The quote's words there (empty for a junction)."""
    heard: str
    """The strongest alternative's words there."""
    margins: list[float] = field(default_factory=list)
    """Per scorer, the quote's score minus the strongest alternative's (nats; positive
    favours the quote)."""
    quote_prob: float = 1.0
    """Lowest teacher-forced probability of the quote's tokens in the span (first scorer)."""
    outcome: str = "doubtful"
    """``supported``, ``contradicted``, ``doubtful``, or ``form`` (heard, in another form)."""
    unclear: str = ""
    """For a number at the quote's edge supported against every other number while the
    recognisers heard no number there: what they heard instead (``Hey well`` for ``Eight
    twelve``, a transmission's first syllable clipped as the radio keyed up)."""


@dataclass
class Judgement:
    """The verdict on one located quote part, with the evidence a person can read."""

    verdict: str
    """``verbatim``, ``minor``, ``misquote`` or ``unverifiable``."""
    confidence: float
    """How sure the verdict is, in [0, 1]."""
    words: list[WordJudgement] = field(default_factory=list)
    """One judgement per quote word, plus ``missing`` words, in order."""
    differences: list[str] = field(default_factory=list)
    """Readable differences: ``audio says "anybody out to", quote says "anybody to"``."""
    heard_text: str = ""
    """What the recogniser heard over the quote's span."""
    listen_start: float = 0.0
    """Start of the span to replay (seconds, absolute), for doubtful verdicts."""
    listen_end: float = 0.0
    """End of the span to replay (seconds, absolute)."""
    doubt: float = 0.0
    """Ranking key for review: higher is more doubtful."""
    spans: list[SpanTest] = field(default_factory=list)
    """The pairwise tests behind the verdict."""
    said_before: str = ""
    """Words heard just before the quote (a quote cut short is not a misquote)."""
    said_after: str = ""
    """Words heard just after the quote."""
    fit: float = float("-inf")
    """How well the quote fits this audio: the judge's mean log-probability per token of
    the quote's own tokens, in context. Of two places a quote may come from, the audio
    fits it better where it was said."""

    @property
    def held(self) -> int:
        """Quote words the audio holds here (heard, or won their pairwise test)."""
        return sum(1 for w in self.words if w.word and w.supported)


# --------------------------------------------------------------------------- windows


def cut_window(samples: np.ndarray, start_s: float, end_s: float,
               options: AdjudicateOptions | None = None) -> tuple[np.ndarray, float]:
    """The audio to judge a located span on: the span, padded, at most 30 s.

    Returns:
        (window samples, window start in seconds).
    """
    options = options or AdjudicateOptions()
    start = max(0.0, start_s - options.context_s)
    end = min(len(samples) / SAMPLE_RATE, end_s + options.context_s, start + 30.0)
    return samples[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)], start


# --------------------------------------------------------------------------- text helpers


@dataclass
class _Side:
    """One word sequence, normalised for matching (fillers dropped)."""

    words: list[str]
    """The words as written."""
    toks: list[str]
    """Normalised tokens."""
    word_of: list[int]
    """For each token, the index of its word."""
    tokens: list[textmod.Token] = field(default_factory=list)
    """The normalised tokens themselves (what ``toks`` holds the text of)."""

    def is_name(self, w: int) -> bool:
        """Whether word ``w`` is written as a name: capitalised inside a sentence, not ``I``
        and not a number (``Laramie``, ``Mount Sinai``)."""
        word = _strip(self.words[w])
        after_stop = w == 0 or self.words[w - 1].rstrip("\"')\u201d\u2019")[-1:] in ".?!:;"
        return (word[:1].isupper() and not after_stop and word.split("'")[0] != "I"
                and not _all_numbers([word]))

    @classmethod
    def of(cls, words: list[str]) -> _Side:
        kept = [t for t in textmod.tokens_from_strings(words) if not textmod.is_filler(t)]
        return cls(words, [t.text for t in kept], [t.index for t in kept], kept)


@dataclass
class _Evidence:
    """What one recogniser pass heard, aligned to the quote."""

    label: str
    """Which model heard it (``transcript`` for the recogniser's own words)."""
    side: _Side
    """Its words."""
    match: dict[int, int]
    """Quote token → its token, where the two are equal."""


def _evidence(label: str, words: list[str], quote: _Side) -> _Evidence:
    side = _Side.of(words)
    _, ops = align(quote.tokens, side.tokens)  # the quote inside what was heard
    match = {op.quote_tokens[0]: op.heard_tokens[0] for op in ops
             if len(op.quote_tokens) == len(op.heard_tokens) == 1
             and quote.toks[op.quote_tokens[0]] == side.toks[op.heard_tokens[0]]}
    return _Evidence(label, side, match)


def _unheard_runs(quote: _Side, evidence: list[_Evidence]) -> list[tuple[int, int]]:
    """Doubtful spans as quote token ranges (empty range: an unheard junction)."""
    n = len(quote.toks)
    heard_tok = [any(i in e.match for e in evidence) for i in range(n)]
    # a word the judge predicts teacher-forced after the quote's own words (evidence whose
    # side is the quote) also hears the junction before it
    heard_join = [True] + [any(e.match.get(i) == e.match[i - 1] + 1 if i - 1 in e.match
                               else e.side is quote and i in e.match
                               for e in evidence) for i in range(1, n)] + [True]
    slots = []  # slot 2i: junction before token i; 2i+1: token i
    for i in range(n):
        slots += [heard_join[i], heard_tok[i]]
    slots.append(True)
    runs, s = [], 0
    while s < len(slots):
        if slots[s]:
            s += 1
            continue
        e = s
        while e < len(slots) and not slots[e]:
            e += 1
        a, b = s // 2, e // 2  # tokens covered: odd slots in [s, e)
        runs.append((a, max(a, b)))
        s = e
    return runs


def _reading(e: _Evidence, quote: _Side, a: int, b: int) -> tuple[int, int, list[str]] | None:
    """What evidence ``e`` heard in place of quote tokens [a, b), between matched anchors.

    Returns:
        (first quote token replaced, one past the last, the words heard there), or None
        when the evidence has no anchor on either side.
    """
    left = [i for i in range(a - 1, -1, -1) if i in e.match][:1]
    right = [i for i in range(b, len(quote.toks)) if i in e.match][:1]
    if not left and not right:
        return None
    ia = left[0] if left else -1
    ib = right[0] if right else len(quote.toks)
    span = ib - ia - 1
    jl = e.match[ia] if left else max(-1, e.match[ib] - span - 1)
    jr = e.match[ib] if right else min(len(e.side.toks), jl + 1 + span)
    indices = list(dict.fromkeys(e.side.word_of[j] for j in range(jl + 1, jr)))
    return ia + 1, ib, [e.side.words[k] for k in indices]


def _strip(word: str) -> str:
    return word.strip(".,!?;:\"'()[]")


def _replace(words: list[str], wa: int, wb: int, new: list[str]) -> list[str]:
    """Quote words with [wa, wb) replaced, keeping the replaced words' edge punctuation
    (a hyphen left at a heard word's edge, ``-33``, is dropped)."""
    new = [_strip(w).strip("-") for w in new if _strip(w).strip("-")]
    if new and wb > wa:
        tail = words[wb - 1][len(words[wb - 1].rstrip(".,!?;:")):]
        new[-1] += tail
        if words[wa][:1].isupper():
            new[0] = new[0][:1].upper() + new[0][1:]
    return words[:wa] + new + words[wb:]


def _word_range(quote: _Side, a: int, b: int) -> tuple[int, int]:
    """Quote word range covering tokens [a, b) (empty at the word of token a)."""
    if b > a:
        return quote.word_of[a], quote.word_of[b - 1] + 1
    wa = quote.word_of[a] if a < len(quote.toks) else len(quote.words)
    return wa, wa


# --------------------------------------------------------------------------- candidates


@dataclass
class _Candidate:
    """The quote with one doubtful span changed."""

    span: int
    """Which doubtful span it tests."""
    words: list[str]
    """The whole text's words."""
    heard: list[str]
    """The words put in place of the span."""
    wa: int
    """First quote word replaced."""
    wb: int
    """One past the last quote word replaced."""
    label: str
    """Where the alternative came from (an evidence label, ``top``, ``token`` or ``drop``)."""
    text: str = ""
    """The text to score, where it is not ``words`` in the frame (a token swapped in the
    scored text itself)."""


def _candidates(quote: _Side, runs, evidence, top_words) -> list[_Candidate]:
    out: list[_Candidate] = []
    seen = {" ".join(quote.words).lower()}

    def add(k, wa, wb, new, label):
        if _same_sound(quote.words[wa:wb], new):
            return  # a homophone is no alternative: the audio cannot tell them apart
        words = _replace(quote.words, wa, wb, new)
        key = " ".join(words).lower()
        if key not in seen:
            seen.add(key)
            out.append(_Candidate(k, words, [_strip(w) for w in new], wa, wb, label))

    for k, (a, b) in enumerate(runs):
        for e in evidence:
            if e.side is quote:
                continue  # the judge's own top words are the quote's: no alternative
            got = _reading(e, quote, a, b)
            if got is not None:
                wa, wb = _word_range(quote, got[0], got[1])
                add(k, wa, wb, got[2], e.label)
        wa, wb = _word_range(quote, a, b)
        for w in range(wa, min(wb + 1, len(quote.words))):
            if top_words.get(w):
                add(k, w, w, [top_words[w]], "top")  # a word the quote may have dropped
                if w < wb:
                    add(k, w, w + 1, [top_words[w]], "top")  # or changed
        if 0 < wb - wa <= 2:
            add(k, wa, wb, [], "drop")
    return out


def _token_kind(token: str) -> str | None:
    """What a scored token stands for, where a swap for another of the kind is a fair
    alternative: a word (``" they"``), or digits at a number's start or inside it."""
    core = token.strip()
    if core.isdigit():
        return "digits" + (" start" if token.startswith(" ") else "")
    if token.startswith(" ") and core.isalpha():
        return "word"
    return None


def _digit_variants(token: str) -> list[str]:
    """A digits token with one digit changed, every way (``" 8"`` -> ``" 0"`` ... ``" 9"``)."""
    lead = token[:len(token) - len(token.lstrip())]
    core = token.strip()
    return [lead + core[:i] + d + core[i + 1:] for i in range(len(core))
            for d in "0123456789" if d != core[i]]


def _token_candidates(quote: _Side, runs, own, alts, spans: list[tuple[int, int]],
                      per_token: int) -> list[_Candidate]:
    """The judge's likeliest other tokens inside each doubtful span, each swapped into the
    scored text on its own (``They're`` -> ``We're``), and every number one digit away from
    a number there (``843`` -> ``833``): the strongest local alternatives, in the quote's
    context, casing and punctuation.

    Args:
        spans: For each quote word, the token range of its rendered word in ``own``.
        per_token: Alternatives kept per word token (the judge's likeliest of that kind).
    """
    out: list[_Candidate] = []
    strs = own.token_strs[:-1]
    for k, (a, b) in enumerate(runs):
        wa, wb = _word_range(quote, a, b)
        for p in range(spans[wa][0] if wb > wa else 0, spans[wb - 1][1] if wb > wa else 0):
            kind, taken = _token_kind(strs[p]), []
            rest = strs[p + 1:spans[next(w for w in range(wa, wb) if spans[w][1] > p)][1]]
            if kind == "word" and any(t[:1].isalpha() for t in rest):
                continue  # a word's first piece swapped leaves its other pieces: no word
            if kind and kind.startswith("digits"):
                choices = _digit_variants(strs[p])  # every other number one digit away
            else:
                choices = [tok for tok, _lp in alts[p]] if kind else []
            for tok in choices:
                if strs[p].strip()[:1].isupper():
                    tok = tok[:len(tok) - len(tok.lstrip())] + tok.lstrip()[:1].upper() + tok.lstrip()[1:]
                if tok == strs[p] or tok in taken or _token_kind(tok) != kind \
                        or len(taken) >= per_token and kind == "word":
                    continue
                words = [w for w in range(wa, wb) if spans[w][0] <= p < spans[w][1]]
                s0, s1 = spans[words[0]]
                heard = "".join(strs[s0:p] + [tok] + strs[p + 1:s1]).strip()
                if _same_sound(quote.words[words[0]:words[-1] + 1], [heard]):
                    continue
                taken.append(tok)
                out.append(_Candidate(k, _replace(quote.words, words[0], words[-1] + 1, [heard]),
                                      [_strip(heard)], words[0], words[-1] + 1,
                                      "digit" if kind != "word" else "token",
                                      "".join(strs[:p] + [tok] + strs[p + 1:]).strip()))
    return out


def _word_token_positions(scorer, words: list[str]) -> list[int]:
    """Index of each word's first Whisper token in ``scorer.tokens(" ".join(words))``."""
    positions, pos = [], 0
    for i in range(len(words)):
        positions.append(pos)
        pos = len(scorer.tokens(" ".join(words[:i + 1])))
    return positions


def _top_words(alts, token_strs: list[str], positions: list[int]) -> dict[int, str]:
    """The model's likeliest other word at each word's first token, where it is one."""
    top = {}
    for w, p in enumerate(positions):
        for tok, _lp in alts[p]:
            if tok == token_strs[p]:
                break
            if tok.startswith(" ") and tok.strip().isalnum():
                top[w] = tok.strip()
                break
    return top


@dataclass
class _Frame:
    """The quote inside the words heard around it, so texts are scored in context."""

    before: list[str]
    """Heard words kept before the quote."""
    after: list[str]
    """Heard words kept after the quote."""

    def text(self, words: list[str]) -> str:
        """The words in context, numbers written as digits."""
        return " ".join(textmod.render_numbers(self.before + words + self.after)[0])

    def positions(self, scorer, words: list[str]) -> list[int]:
        """Token index of each of ``words``' first token in :meth:`text`, then the end."""
        rendered, owner = textmod.render_numbers(self.before + words + self.after)
        starts = _word_token_positions(scorer, rendered)
        own = [starts[owner[len(self.before) + w]] for w in range(len(words))]
        after = owner[len(self.before) + len(words)] if self.after else None
        end = starts[after] if after is not None else len(scorer.tokens(" ".join(rendered)))
        return own + [end]

    def rendered_spans(self, scorer, words: list[str]) -> list[tuple[int, int]]:
        """Token range [start, end) in :meth:`text` of the rendered word each of ``words``
        went into (words merged into one number share it)."""
        rendered, owner = textmod.render_numbers(self.before + words + self.after)
        starts = _word_token_positions(scorer, rendered)
        starts.append(len(scorer.tokens(" ".join(rendered))))
        return [(starts[owner[len(self.before) + w]], starts[owner[len(self.before) + w] + 1])
                for w in range(len(words))]

    def aligned(self, scorer, ctx, words: list[str]) -> list[Word]:
        """Forced-alignment times of each of ``words`` (merged numbers share times), the
        quote's edge words cut where the alignment stretched them (:func:`_clamp_edges`)."""
        rendered, owner = textmod.render_numbers(self.before + words + self.after)
        timings = scorer.align(ctx, " ".join(rendered))
        mine = [owner[len(self.before) + w] for w in range(len(words))]
        kept = _clamp_edges({r: timings[r] for r in mine}, {r: mine.count(r) for r in mine})
        return [kept[r] for r in mine]


def _clamp_edges(timings: dict[int, Word], counts: dict[int, int]) -> dict[int, Word]:
    """The first and last of a quote's words (``timings`` in order, ``counts`` quote words
    each: a number like "Eight twelve" is one) cut to at most twice the median length of a
    word (at most 0.7 s): forced alignment stretches an edge word over the silence or the
    context word beside it. Whisper cuts its own words at sentence edges the same way."""
    keys = list(timings)
    spoken = [(w.end - w.start) / counts[r] for r, w in timings.items() if w.end > w.start]
    if len(keys) < 2 or not spoken:
        return timings
    longest = 2 * min(0.7, float(np.median(spoken)))
    first, last = keys[0], keys[-1]
    w = timings[first]
    if w.end - w.start > longest * counts[first]:
        timings[first] = Word(w.end - longest * counts[first], w.end, w.word, w.probability)
    w = timings[last]
    if w.end - w.start > longest * counts[last]:
        timings[last] = Word(w.start, w.start + longest * counts[last], w.word, w.probability)
    return timings


def _frame(quote: _Side, transcript: _Evidence, heard_words: list[Word],
           span: tuple[float, float] | None) -> _Frame:
    """Heard words before and after the quote: outside ``span`` when it is known, else
    outside the quote's match, less the words its unmatched edges took."""
    if span is not None:
        before = [_strip(w.word) for w in heard_words if (w.start + w.end) / 2 < span[0]]
        after = [_strip(w.word) for w in heard_words if (w.start + w.end) / 2 > span[1]]
        return _Frame([w for w in before if w], [w for w in after if w])
    if not transcript.match:
        return _Frame([], [])
    first_q, last_q = min(transcript.match), max(transcript.match)
    first_h = transcript.side.word_of[transcript.match[first_q]]
    last_h = transcript.side.word_of[transcript.match[last_q]]
    edge_before = len(set(quote.word_of[:first_q]))
    edge_after = len(set(quote.word_of[last_q + 1:]))
    words = [_strip(w) for w in transcript.side.words]
    return _Frame(words[:max(0, first_h - edge_before)], words[last_h + 1 + edge_after:])


# --------------------------------------------------------------------------- the verdict


def adjudicate(quote_text: str, heard_words: list[Word], window: np.ndarray,
               window_start_s: float, scorers: list, options: AdjudicateOptions | None = None,
               span: tuple[float, float] | None = None) -> Judgement:
    """Judge one located quote part on its audio.

    Args:
        quote_text: The quote part as published.
        heard_words: The recogniser's words over the window (absolute times); the quote
            is found inside them, the rest is context.
        window: The audio (float32 mono 16 kHz, at most 30 s), see :func:`cut_window`.
        window_start_s: Where the window starts in the recording, seconds.
        scorers: ``scoring.Scorer`` objects, the judge first (base), optional second
            witnesses after it (tiny.en).
        options: Thresholds; defaults when None.
        span: Where the quote was located (absolute seconds), when known: heard words
            outside it are the context the texts are scored in.

    Returns:
        The :class:`Judgement`.
    """
    options = options or AdjudicateOptions()
    quote = _Side.of(textmod.split_words(quote_text))
    heard_text = " ".join(w.word.strip() for w in heard_words)
    if len(quote.toks) < options.min_words:
        return _too_short(quote, heard_text, heard_words, window_start_s, len(window))
    judge = scorers[0]
    jctx = judge.encode(window)
    evidence = [_evidence("transcript", [w.word.strip() for w in heard_words], quote)]
    heard_frame = _frame(quote, evidence[0], heard_words, span)
    frame = _best_frame(judge, jctx, quote, heard_frame, evidence[0])
    positions = frame.positions(judge, quote.words)
    own, alts = _listen(judge, jctx, quote, frame, evidence, options)
    for witness in scorers[1:] if options.witness_evidence else []:
        if not _unheard_runs(quote, evidence):
            break
        _listen(witness, witness.encode(window), quote, frame, evidence, options)
    probs = [math.exp(v) for v in own.logprobs]
    runs, forms = _split_forms(quote, _unheard_runs(quote, evidence), evidence)
    runs = _split_edges(quote, runs)
    top = _top_words(alts, own.token_strs, positions[:-1])
    spans = frame.rendered_spans(judge, quote.words)
    swaps = _token_candidates(quote, runs, own, alts, spans, options.token_alternatives)
    candidates = _distinct(_candidates(quote, runs, evidence, top) + [c for c in swaps if c.label == "token"],
                           frame, own.text)[:options.max_alternatives]
    candidates = _distinct(candidates + [c for c in swaps if c.label == "digit"], frame, own.text)
    texts = [c.text or frame.text(c.words) for c in candidates]
    scores = [[own] + (judge.score(jctx, texts) if texts else [])]
    judged = [(k, run) for k, run in enumerate(runs)]
    tests = [_test_span(k, run, quote, candidates, scores, probs, positions, options, len(scorers))
             for k, run in judged]
    if len(scorers) > 1 and any(t.outcome == "contradicted" for t in tests):
        # a second witness is asked only where the judge alone would contradict the quote
        for witness in scorers[1:]:
            wctx = witness.encode(window)
            scores.append(witness.score(wctx, [frame.text(quote.words)] + texts))
        tests = [_test_span(k, run, quote, candidates, scores, probs, positions, options,
                            len(scorers)) for k, run in judged]
    # times come from the heard words' frame: a quote with nothing before it in the text
    # is stretched back to the window's start by the alignment
    aligned = heard_frame.aligned(judge, jctx, quote.words)
    tests += [SpanTest(*_word_range(quote, a, b), " ".join(quote.words[slice(*_word_range(quote, a, b))]),
                       " ".join(reading), outcome="form") for (a, b), reading in forms]
    tests.sort(key=lambda t: t.word_start)
    judgement = _judgement(quote, tests, evidence[0], heard_words, aligned, window_start_s, options)
    judgement.fit = _fit(own, positions)
    return judgement


def _fit(own, positions: list[int], extra: int = 0) -> float:
    """Mean log-probability of the quote's own tokens (``positions``: each word's first
    token, then the end), and of ``extra`` tokens after them."""
    values = own.logprobs[positions[0]:positions[-1] + extra]
    return float(np.mean(values)) if values else float("-inf")


def _best_frame(scorer, ctx, quote: _Side, frame: _Frame, transcript: _Evidence) -> _Frame:
    """The heard words around the quote, less the one next to an edge word of the quote the
    recogniser did not hear, where the audio fits the quote better without it: the
    recogniser may have split that word in two ("This batch" for "Dispatch"), and the half
    outside the quote's match would take the audio of the quote's own word.

    Variants are compared on the quote's tokens and the one token after them (the next
    heard word, or end-of-text), one decoder pass for all.
    """
    variants = [frame]
    if frame.before and 0 not in transcript.match:
        variants.append(_Frame(frame.before[:-1], frame.after))
    if frame.after and len(quote.toks) - 1 not in transcript.match:
        variants += [_Frame(v.before, frame.after[1:]) for v in list(variants)]
    if len(variants) == 1:
        return frame  # both edge words heard: nothing to compare
    scores = scorer.score(ctx, [v.text(quote.words) for v in variants])
    positions = [v.positions(scorer, quote.words) for v in variants]
    best = max(range(len(variants)), key=lambda i: _fit(scores[i], positions[i], extra=1))
    return variants[best]


def _listen(scorer, ctx, quote: _Side, frame: _Frame, evidence: list, options: AdjudicateOptions):
    """Add what one scorer hears of the quote to ``evidence``: the quote words it would
    write itself (its top predictions), then, while words stay unheard, its beam.

    Returns:
        The quote's score and the top-k tokens at each position, under this scorer.
    """
    own, alts = scorer.score_with_alternatives(ctx, frame.text(quote.words), k=options.top_k)
    if options.top1_prob:
        evidence.append(_top1_evidence(scorer.name, quote, frame.rendered_spans(scorer, quote.words),
                                       own, alts, options.top1_prob))
    if options.beam_size and _unheard_runs(quote, evidence):
        evidence += [_evidence(scorer.name, h.split(), quote)
                     for h in scorer.hypotheses(ctx, beam_size=options.beam_size)]
    return own, alts


def _distinct(candidates: list[_Candidate], frame: _Frame, quote_text: str) -> list[_Candidate]:
    """Candidates by span (nearest first), each text once, none that reads as the quote
    once numbers are written as digits (``Eight twenty-one`` and ``821``)."""
    seen, out = {quote_text}, []
    for c in sorted(candidates, key=lambda c: c.span):
        text = c.text or frame.text(c.words)
        if text not in seen:
            seen.add(text)
            out.append(c)
    return out


def _top1_evidence(label: str, quote: _Side, spans: list[tuple[int, int]], own, alts,
                   min_prob: float) -> _Evidence:
    """The quote words the judge would have written itself, teacher-forced in the quote's
    context: every token its top prediction, the first with at least ``min_prob``."""
    heard_words = set()
    for w, (a, b) in enumerate(spans):
        if b <= a:
            continue
        top = all(alts[p][0][0] == own.token_strs[p] for p in range(a, b))
        if top and math.exp(own.logprobs[a]) >= min_prob:
            heard_words.add(w)
    match = {i: i for i in range(len(quote.toks)) if quote.word_of[i] in heard_words}
    return _Evidence(label + " top", quote, match)


def _split_edges(quote: _Side, runs):
    """Doubtful runs with the quote's first and last word set apart from the words inside:
    an edge may be clipped (never contradicted) while an edit beside it can be."""
    out = []
    last_word = len(quote.words) - 1
    group = textmod.render_numbers(quote.words)[1]  # words written as one number stay together
    first = [w for w in range(len(quote.words)) if group[w] == group[0]][-1]
    last = [w for w in range(len(quote.words)) if group[w] == group[-1]][0]
    for a, b in runs:
        cuts = {a, b}
        if b > a and quote.word_of[a] <= first < quote.word_of[b - 1]:
            cuts.add(next(i for i in range(a, b) if quote.word_of[i] > first))
        if b > a and quote.word_of[a] < last <= quote.word_of[b - 1] <= last_word:
            cuts.add(next(i for i in range(a, b) if quote.word_of[i] >= last))
        edges = sorted(cuts)
        out += list(zip(edges, edges[1:])) if len(edges) > 2 else [(a, b)]
    return out


def _same_digits(a: list[str], b: list[str]) -> bool:
    """Whether two word lists read the same once numbers are digits (``eighth``/``8th``)."""
    def key(words):
        return "".join(textmod.render_numbers(words)[0]).lower().replace("-", "").replace(",", "")
    return key(a) == key(b)


_HOMOPHONES = [set(g.split()) for g in (
    "to too two", "there their they're", "for four", "no know", "here hear", "its it's",
    "your you're", "whose who's", "by buy bye", "one won", "new knew", "right write",
    "whether weather", "wait weight", "see sea", "break brake")]


def _same_sound(a: list[str], b: list[str]) -> bool:
    """Whether two word lists differ only by homophones (``too``/``to``): the audio cannot
    tell them apart, so neither supports nor contradicts the quote's spelling."""
    a = [_strip(w).lower() for w in a if _strip(w)]
    b = [_strip(w).lower() for w in b if _strip(w)]
    return len(a) == len(b) and a != b and all(
        x == y or any(x in g and y in g for g in _HOMOPHONES) for x, y in zip(a, b))


def _split_forms(quote: _Side, runs, evidence):
    """Set apart the doubtful spans some evidence heard in another form (``812`` for
    ``eight twelve``, ``we are`` for ``we're``).

    Returns:
        (runs still doubtful, [(run, the words heard)] for runs heard in another form).
    """
    doubtful, forms = [], []
    for a, b in runs:
        wa, wb = _word_range(quote, a, b)
        for e in evidence:
            got = None if e.side is quote else _reading(e, quote, a, b)
            if got is None or wb == wa:
                continue
            ga, gb = _word_range(quote, got[0], got[1])
            heard = [_strip(w) for w in got[2] if _strip(w)]
            quoted = [_strip(w) for w in quote.words[ga:gb]]
            if heard and (textmod.same_form(quoted, heard) or _same_digits(quoted, heard)
                          or _same_sound(quoted, heard)):
                forms.append(((a, b), heard))
                break
        else:
            doubtful.append((a, b))
    return doubtful, forms


def _test_span(k, run, quote, candidates, scores, probs, positions, options,
               n_scorers: int = 0) -> SpanTest:
    """The pairwise test of one doubtful span against its alternatives.

    ``scores`` holds, per scorer asked so far, the quote's score then each candidate's;
    ``n_scorers`` is how many will judge a contradiction (the margin it needs depends on it).
    """
    wa, wb = _word_range(quote, *run)
    test = SpanTest(wa, wb, " ".join(quote.words[wa:wb]), "")
    mine = [i for i, c in enumerate(candidates) if c.span == k]
    test.quote_prob = float(min(probs[positions[wa]:max(positions[wb], positions[wa] + 1)]))
    if not mine:
        return test
    n = len(scores[0][0].tokens)
    per_alt = np.array([[(s[0].mean - s[i + 1].mean) * n for i in mine] for s in scores])
    # Leaving out a word at the quote's edge stands for a quote cut short, never a misquote.
    edge = [candidates[i].label == "drop" and (candidates[i].wa == 0 or candidates[i].wb == len(quote.words))
            for i in mine]
    best = int(np.argmin(per_alt[0]))
    test.heard = " ".join(candidates[mine[best]].heard)
    test.margins = [float(m) for m in per_alt.min(axis=1)]
    # only a local edit contradicts: an alternative rewriting a long stretch says the quote
    # was located or heard badly there, not that one word was misquoted
    local = [candidates[i].wb - candidates[i].wa <= options.max_span_words
             and len(candidates[i].heard) <= options.max_span_words for i in mine]
    inner = [k for k in range(len(mine)) if not edge[k] and local[k]]
    if inner:
        best = min(inner, key=lambda k: per_alt[0, k])
    against_best = per_alt[:, best]
    need = options.contradict_nats if (n_scorers or len(scores)) > 1 else options.single_contradict_nats
    changed = test.quoted.split() + candidates[mine[best]].heard
    if all(textmod.weight(_strip(w).lower()) < 1 for w in changed):
        need *= options.function_word_factor
    if wb - wa > options.max_span_words:
        return test
    # an edge word may be clipped by the radio keying up late: never contradicted, unless
    # the audio plainly says another number there (a unit number misquoted)
    inside = 0 < wa and wb < len(quote.words)
    numbers = _all_numbers(quote.words[wa:wb]) and _all_numbers(candidates[mine[best]].heard) \
        and not _same_digits(quote.words[wa:wb], candidates[mine[best]].heard)
    # a number at the edge, where the radio clips the first syllable and the recognisers
    # write no number, is tested against every other number one digit away: which unit
    # spoke is what the audio can still tell
    rivals = [k for k in range(len(mine)) if _all_numbers(candidates[mine[k]].heard)]
    edge_number = not inside and _all_numbers(quote.words[wa:wb]) and rivals
    if per_alt[0].min() >= options.margin_nats:
        test.outcome = "supported"
    elif edge_number and per_alt[0, rivals].min() >= options.margin_nats:
        test.outcome = "supported"
        test.unclear = test.heard
        test.margins = [float(m) for m in per_alt[:, rivals].min(axis=1)]
        test.heard = " ".join(candidates[mine[min(rivals, key=lambda k: per_alt[0, k])]].heard)
    elif inner and (inside or numbers) and (against_best <= -need).all() \
            and test.quote_prob < options.min_prob:
        test.outcome = "doubtful" if _unknown_name(quote, wa, wb, candidates[mine[best]].heard) \
            else "contradicted"
    return test


def _unknown_name(quote: _Side, wa: int, wb: int, heard: list[str]) -> bool:
    """Whether quote words ``wa:wb`` are a name (with function words beside it) that the
    models heard as common words: a name they do not know comes out as words that fit its
    sound ("at Laramie" as "that layering me"), which says nothing against the quote.
    Another name heard there ("Dallas" for "Texas") still does."""
    names = [w for w in range(wa, wb) if quote.is_name(w)]
    rest = [textmod.weight(_strip(quote.words[w]).lower()) for w in range(wa, wb) if w not in names]
    return bool(names) and all(x < 1 for x in rest) and not any(_strip(w)[:1].isupper() for w in heard)


def _all_numbers(words: list[str]) -> bool:
    """Whether words are all numbers, spelled or in digits (``Nine thirty-three``, ``833``)."""
    cores = [_strip(w) for w in words if _strip(w)]
    return bool(cores) and all(textmod.spelled_number(c) is not None or c.replace("-", "").isdigit()
                               for c in cores)


def _judgement(quote, tests, transcript, heard_words, aligned, window_start_s, options) -> Judgement:
    other_line = _contradicted_share(tests, quote) > options.max_contradicted_share
    for t in tests if other_line else []:
        t.outcome = "doubtful" if t.outcome == "contradicted" else t.outcome
    words = _word_judgements(quote, tests, transcript, aligned, window_start_s)
    outcomes = {t.outcome for t in tests} - {"form"}
    differences = [f'audio says "{t.heard}", quote says "{t.quoted}"'
                   + (" (same words, other form)" if t.outcome == "form" else "")
                   for t in tests if t.outcome != "supported"]
    differences += [f'recognisers heard "{t.unclear}" for "{t.quoted}" at the edge (clipped as '
                    f'the radio keyed up?); of the numbers one digit away, the audio favours the quote\'s'
                    for t in tests if t.unclear]
    if other_line:
        differences.append("the audio here differs in too many of the quote's words for one "
                           "misquote: it may be another transmission")
    before, after = _context(transcript, heard_words)
    margins = [m for t in tests for m in t.margins[:1]]
    if "contradicted" in outcomes:
        verdict = "misquote"
        worst = -min(m for t in tests if t.outcome == "contradicted" for m in t.margins)
        confidence = 1 - math.exp(-worst / 4)
        doubt = 0.0
    elif outcomes <= {"supported"}:
        formal = any(t.outcome == "form" for t in tests)
        verdict = "minor" if formal else _verbatim_or_minor(quote, transcript)
        confidence = 0.99 if not margins else 1 - 0.5 * math.exp(-min(margins) / 2)
        if any(t.unclear for t in tests):
            confidence = min(confidence, 0.75)  # the number is favoured, not heard
        doubt = 0.0
    else:
        verdict = "unverifiable"
        confidence = 0.5
        doubt = 1.0 + max(-t.margins[0] if t.margins else 0.0 for t in tests
                          if t.outcome == "doubtful")
    doubtful = [w for w in words if w.supported is not True and w.word]
    listen = doubtful or words
    return Judgement(
        verdict=verdict, confidence=float(confidence), words=words, differences=differences,
        heard_text=" ".join(w.word.strip() for w in heard_words),
        listen_start=min(w.start for w in listen) - options.listen_pad_s if listen else 0.0,
        listen_end=max(w.end for w in listen) + options.listen_pad_s if listen else 0.0,
        doubt=float(doubt), spans=tests, said_before=before, said_after=after)


def _contradicted_share(tests: list[SpanTest], quote: _Side) -> float:
    """Share of the quote's words the audio contradicts (a junction counts as one word)."""
    n = sum(max(1, t.word_end - t.word_start) for t in tests if t.outcome == "contradicted")
    return n / max(1, len(quote.words))


def _verbatim_or_minor(quote: _Side, transcript: _Evidence) -> str:
    """``minor`` when the quote's words differ from what was heard only in form."""
    matched = [j for j in transcript.match.values()]
    if not matched or len(transcript.match) < len(quote.toks):
        return "verbatim"
    heard = transcript.side.words[transcript.side.word_of[min(matched)]:
                                  transcript.side.word_of[max(matched)] + 1]
    reason = textmod.same_form(quote.words, heard) or "same"
    formal = {"contraction", "filler", "number format", "hyphenation", "spacing"}
    return "minor" if formal & set(reason.split(", ")) else "verbatim"


def _word_judgements(quote, tests, transcript, aligned, window_start_s) -> list[WordJudgement]:
    """One judgement per quote word (and per missing word), with aligned times."""
    out = []
    status_of = {}
    for t in tests:
        for w in range(t.word_start, t.word_end):
            if t.outcome == "form":
                status_of[w] = (t, "form")
            elif t.outcome != "supported":
                status_of[w] = (t, "added" if not t.heard else "changed")
    heard_by_word = {}
    for i, j in transcript.match.items():
        heard_by_word[quote.word_of[i]] = transcript.side.words[transcript.side.word_of[j]]
    for w, word in enumerate(quote.words):
        timing = aligned[w] if w < len(aligned) else None
        for t in tests:
            if t.word_start == t.word_end == w and t.heard and t.outcome == "doubtful" \
                    or t.word_start == t.word_end == w and t.outcome == "contradicted":
                out.append(_missing(t, w, timing, window_start_s))
        test, status = status_of.get(w, (None, "match"))
        supported = True if test is None else {"supported": True, "form": True,
                                               "contradicted": False}.get(test.outcome)
        heard = heard_by_word.get(w, word) if test is None else test.heard
        out.append(WordJudgement(
            word=word, index=w, status=status, heard=heard,
            start=window_start_s + (timing.start if timing else 0.0),
            end=window_start_s + (timing.end if timing else 0.0),
            probability=timing.probability if timing else 0.0, supported=supported))
    return out


def _missing(test: SpanTest, w: int, timing, window_start_s: float) -> WordJudgement:
    at = window_start_s + (timing.start if timing else 0.0)
    supported = {"supported": True, "contradicted": False}.get(test.outcome)
    return WordJudgement(word="", index=w, status="missing", heard=test.heard, start=at, end=at,
                         probability=0.0, supported=None if supported is None else not supported)


def _context(transcript: _Evidence, heard_words: list[Word], n: int = 4) -> tuple[str, str]:
    """A few words heard just before and after the quote."""
    if not transcript.match:
        return "", ""
    first = transcript.side.word_of[min(transcript.match.values())]
    last = transcript.side.word_of[max(transcript.match.values())]
    words = [w.word.strip() for w in heard_words]
    return " ".join(words[max(0, first - n):first]), " ".join(words[last + 1:last + 1 + n])


def _too_short(quote, heard_text, heard_words, window_start_s, n_samples) -> Judgement:
    start = heard_words[0].start if heard_words else window_start_s
    end = heard_words[-1].end if heard_words else window_start_s + n_samples / SAMPLE_RATE
    return Judgement(verdict="unverifiable", confidence=0.0,
                     words=[WordJudgement(w, i, "match", "", start, end, 0.0, None)
                            for i, w in enumerate(quote.words)],
                     differences=["too short to verify on its own"], heard_text=heard_text,
                     listen_start=start, listen_end=end, doubt=0.5)


def compare_versions(texts: list[str], window: np.ndarray, scorer) -> list[float]:
    """Mean log-probability per token of each version of one line, on its audio.

    Two articles quoting one line differently: the higher score is usually what was said
    (the mean, not the sum, so a version that drops a word gains nothing by being short).

    Args:
        texts: The versions, with the same casing and punctuation conventions.
        window: The line's audio (float32 mono 16 kHz, at most 30 s).
        scorer: A ``scoring.Scorer``.

    Returns:
        One mean log-probability per text, in order.
    """
    ctx = scorer.encode(window)
    return [s.mean for s in scorer.score(ctx, texts)]
