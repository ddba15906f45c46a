"""Proposing candidate readings: the quote with one doubtful span changed.

Each doubtful span is tested against its strongest alternatives: what each hypothesis
heard there, the judge's top prediction in the quote's own context (a word inserted or
put in place, or one token swapped: ``They're`` -> ``We're``), every number one digit
away from a number there (``843`` -> ``833``), or the span left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline import spoken
from pipeline.adjudicate.evidence import Evidence, Side
from pipeline.adjudicate.frame import Frame
from pipeline.records import TextEnum


class Source(TextEnum):
    """Where an alternative reading came from: what a recogniser heard there (the
    transcript, a beam hypothesis), the judge's likeliest word there (inserted or put in
    place), one of its likeliest tokens swapped into the scored text, a number one digit
    away, or the span dropped."""

    HEARD = "heard"
    TOP = "top"
    TOKEN = "token"
    DIGIT = "digit"
    DROP = "drop"


class TokenKind(TextEnum):
    """What a scored token stands for, where a swap for another of its kind is a fair
    alternative: a whole word's first piece (``" they"``), digits inside a number, or
    digits at a number's start (``" 8"``)."""

    WORD = "word"
    DIGITS = "digits"
    DIGITS_START = "digits start"


@dataclass
class Alternative:
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
    source: Source
    """Where the alternative came from."""
    text: str = ""
    """The text to score, where it is not ``words`` in the frame (a token swapped in the
    scored text itself)."""


def replace_words(words: list[str], wa: int, wb: int, new: list[str]) -> list[str]:
    """Quote words with [wa, wb) replaced, keeping the replaced words' edge punctuation
    (a hyphen left at a heard word's edge, ``-33``, is dropped).

    >>> replace_words(["Eight", "twelve,", "copy."], 1, 2, ["-33"])
    ['Eight', '33,', 'copy.']
    """
    strip = spoken.strip_edges
    new = [strip(w).strip("-") for w in new if strip(w).strip("-")]
    if new and wb > wa:
        tail = words[wb - 1][len(words[wb - 1].rstrip(".,!?;:")):]
        new[-1] += tail
        if words[wa][:1].isupper():
            new[0] = new[0][:1].upper() + new[0][1:]
    return words[:wa] + new + words[wb:]


def readings(quote: Side, runs: list[tuple[int, int]], evidence: list[Evidence],
             top_words: dict[int, str], max_dropped: int) -> list[Alternative]:
    """Alternatives from what was heard in each doubtful span, the judge's likeliest word
    there (inserted, or in place of a quote word), and the span left out (spans of at
    most ``max_dropped`` words)."""
    out: list[Alternative] = []
    seen = {" ".join(quote.words).lower()}

    def add(k, wa, wb, new, source):
        if spoken.same_sound(quote.words[wa:wb], new):
            return  # a homophone is no alternative: the audio cannot tell them apart
        words = replace_words(quote.words, wa, wb, new)
        key = " ".join(words).lower()
        if key not in seen:
            seen.add(key)
            out.append(Alternative(k, words, [spoken.strip_edges(w) for w in new], wa, wb, source))

    for k, (a, b) in enumerate(runs):
        for e in evidence:
            if e.side is quote:
                continue  # the judge's own top words are the quote's: no alternative
            got = e.reading(quote, a, b)
            if got is not None:
                wa, wb = quote.word_range(got[0], got[1])
                add(k, wa, wb, got[2], Source.HEARD)
        wa, wb = quote.word_range(a, b)
        for w in range(wa, min(wb + 1, len(quote.words))):
            if top_words.get(w):
                add(k, w, w, [top_words[w]], Source.TOP)  # a word the quote may have dropped
                if w < wb:
                    add(k, w, w + 1, [top_words[w]], Source.TOP)  # or changed
        if 0 < wb - wa <= max_dropped:
            add(k, wa, wb, [], Source.DROP)
    return out


def token_kind(token: str) -> TokenKind | None:
    """What a scored token stands for, where a swap for another of the kind is a fair
    alternative: a word (``" they"``), or digits at a number's start or inside it.

    >>> token_kind(" they"), token_kind(" 8"), token_kind("'re")
    (<TokenKind.WORD: 'word'>, <TokenKind.DIGITS_START: 'digits start'>, None)
    """
    core = token.strip()
    if core.isdigit():
        return TokenKind.DIGITS_START if token.startswith(" ") else TokenKind.DIGITS
    if token.startswith(" ") and core.isalpha():
        return TokenKind.WORD
    return None


def _capitalised_like(tok: str, model: str) -> str:
    """``tok`` with its first letter upper case where ``model``'s is."""
    if not model.strip()[:1].isupper():
        return tok
    lead = tok[:len(tok) - len(tok.lstrip())]
    return lead + tok.lstrip()[:1].upper() + tok.lstrip()[1:]


def token_swaps(quote: Side, runs: list[tuple[int, int]], strs: list[str],
                alts: list[list[tuple[str, float]]], spans: list[tuple[int, int]],
                per_token: int) -> list[Alternative]:
    """The judge's likeliest other tokens inside each doubtful span, each swapped into the
    scored text on its own (``They're`` -> ``We're``), and every number one digit away from
    a number there (``843`` -> ``833``): the strongest local alternatives, in the quote's
    context, casing and punctuation.

    Args:
        quote: The quote.
        runs: Doubtful spans, as quote token ranges.
        strs: The scored text's tokens (end-of-text left off).
        alts: The judge's likeliest tokens at each position.
        spans: For each quote word, the token range of its rendered word in ``strs``.
        per_token: Alternatives kept per word token (the judge's likeliest of that kind).
    """
    out: list[Alternative] = []
    for k, (a, b) in enumerate(runs):
        wa, wb = quote.word_range(a, b)
        for p in range(spans[wa][0] if wb > wa else 0, spans[wb - 1][1] if wb > wa else 0):
            kind, taken = token_kind(strs[p]), []
            rest = strs[p + 1:spans[next(w for w in range(wa, wb) if spans[w][1] > p)][1]]
            if kind is TokenKind.WORD and any(t[:1].isalpha() for t in rest):
                continue  # a word's first piece swapped leaves its other pieces: no word
            if kind in (TokenKind.DIGITS, TokenKind.DIGITS_START):
                choices = spoken.digit_variants(strs[p])  # every other number one digit away
            else:
                choices = [tok for tok, _lp in alts[p]] if kind else []
            for tok in choices:
                tok = _capitalised_like(tok, strs[p])
                if tok == strs[p] or tok in taken or token_kind(tok) != kind \
                        or len(taken) >= per_token and kind is TokenKind.WORD:
                    continue
                words = [w for w in range(wa, wb) if spans[w][0] <= p < spans[w][1]]
                s0, s1 = spans[words[0]]
                heard = "".join(strs[s0:p] + [tok] + strs[p + 1:s1]).strip()
                if spoken.same_sound(quote.words[words[0]:words[-1] + 1], [heard]):
                    continue
                taken.append(tok)
                out.append(Alternative(
                    k, replace_words(quote.words, words[0], words[-1] + 1, [heard]),
                    [spoken.strip_edges(heard)], words[0], words[-1] + 1,
                    Source.TOKEN if kind is TokenKind.WORD else Source.DIGIT,
                    "".join(strs[:p] + [tok] + strs[p + 1:]).strip()))
    return out


def top_words(alts: list[list[tuple[str, float]]], token_strs: list[str],
              positions: list[int]) -> dict[int, str]:
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


def distinct(alternatives: list[Alternative], frame: Frame, quote_text: str) -> list[Alternative]:
    """Alternatives by span (nearest first), each text once, none that reads as the quote
    once numbers are written as digits (``Eight twenty-one`` and ``821``)."""
    seen, out = {quote_text}, []
    for c in sorted(alternatives, key=lambda c: c.span):
        text = c.text or frame.text(c.words)
        if text not in seen:
            seen.add(text)
            out.append(c)
    return out
