"""Extracting quotations and their attributions from published text.

A quotation is any text between quotation marks in one of the usual typographic forms
(“ ” " „ « »; nested ‘ ’ and ' stay inside the outer quote). A quote whose paragraph
ends without a closing mark goes on when the next paragraph opens with a quotation mark
(the convention for quotes that run over several paragraphs); otherwise it ends with its
paragraph. An ellipsis (``…``, ``...``, ``[...]``) marks an omission and splits the quote
into parts; other bracketed text (``[the chief]``) is an editorial insertion and is left
out of the parts, since the speaker did not say it.

Attributions come from the same sentence ("…,” the dispatcher says", "One officer on
scene … responded:", "said a senior official") or, for a quote that follows straight on
from an attributed one in the same paragraph, from that one. "she"/"he" is resolved to
the last person named earlier in the paragraph. This is pattern matching, not parsing:
it finds what news prose usually says and leaves the field empty otherwise.

Text in, quotes out: no files are read here (articles: ``articles.py``; quotes tables,
folders and quote ids across files: ``quotes.py``). What it does not do: quotes without
marks (block quotes, reported speech), or telling a spoken quote from a written statement.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.records import Quote
from pipeline.text import split_words

log = logging.getLogger(__name__)

OPENERS = {"\u201c": "\u201d", "\u201e": "\u201c\u201d", "\u00ab": "\u00bb", '"': '"',
           "\u201d": "\u201d", "\u2018": "\u2019"}
"""Opening marks and the marks that close them (Swedish ”…” and British ‘…’ included)."""
TOO_SHORT_WORDS = 2
"""Quotes of at most this many words are kept but marked too short to verify alone."""

SPEECH_VERBS = (
    "says|said|say|saying|responded|responds|replied|replies|repeated|repeats|relayed|relays|"
    "writes|wrote|announces|announced|instructs|instructed|continues|continued|added|adds|"
    "told|tells|posted|posts|stated|states|asked|asks|explained|explains|noted|notes|"
    "radioed|radios|described|describes|went on|goes on|put it|puts it|declared|insisted|"
    "warned|recalled|yelled|shouted|ordered|orders|confirmed|claimed|claims|calls|called"
)
"""Verbs that introduce speech in news prose."""
INTRO_WORDS = frozenset(
    "in within after before moments minutes seconds then still but and so according on at "
    "when while during from for with however meanwhile later earlier by".split())
"""First words of a clause that sets the scene rather than naming the speaker."""
DETERMINERS = frozenset("the a an one some another two three several".split())
"""Leading words written in lower case in an attribution (``One officer`` -> ``one officer``)."""
PERSON_NOUNS = (
    "dispatcher|officer|agent|official|commander|chief|sergeant|lieutenant|captain|caller|"
    "spokesperson|spokesman|spokeswoman|woman|man|leader|organizer|voice|trooper|deputy|"
    "firefighter|supervisor|witness|resident"
)
"""Nouns a pronoun (she, he) can point back to."""

_VERB = re.compile(rf"\b(?:{SPEECH_VERBS})\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.?!][\u201d\u2019\"')\u00bb]*\s+")
_ELLIPSIS = re.compile(r"\s*(?:\[\s*(?:\u2026|\.\s?\.\s?\.)\s*\]|\u2026|\.\s?\.\s?\.)\s*")
_BRACKETS = re.compile(r"\s*\[[^\]]*\]\s*")
_AFTER_VERB_FIRST = re.compile(
    rf"^\s*,?\s*(?:{SPEECH_VERBS})\s+(?P<np>[^.,;:!?\u201c\u201d\"\n]{{1,80}}?)\s*(?:[.,;:!?]|$)")
_AFTER_NP_FIRST = re.compile(
    rf"^\s*,?\s*(?P<np>[^.,;:!?\u201c\u201d\"\n]{{1,60}}?)\s+(?:{SPEECH_VERBS})\b")
_LEAD_ACCORDING = re.compile(r"\baccording to (?P<np>[^,]+),(?P<bridge>[^,]*)$", re.IGNORECASE)
_LEAD_VERB_NP = re.compile(
    rf"[\u201d\"\u00bb]\s*,?\s*(?:{SPEECH_VERBS})\s+(?P<np>[^,\u201c\u201d\"]+),\s*$")
_LEAD_FROM = re.compile(r"\bfrom (?P<np>(?:a|an|the|one)\s[^:,]+):\s*$", re.IGNORECASE)
_CONTINUATION = re.compile(
    r"^\W*(?:(?:moments|seconds|minutes) later|then|later|and|but|adding)?\W*$", re.IGNORECASE)
_PRONOUN_REF = re.compile(
    rf"\b(?:a|an|the|one)\s+(?:[\w\u2011-]+\s+){{0,2}}?(?:{PERSON_NOUNS})\b", re.IGNORECASE)
_VERB_WITH_OBJECT = re.compile(r"\s+\w+ed\s+(?:a|an|the|its|their|his|her)\b.*$")

@dataclass
class Span:
    """Where one quotation sits in the text, before attribution."""

    open_at: int
    """Offset of the opening mark."""
    close_at: int
    """Offset of the closing mark, or of the paragraph end when there is none."""
    content: str
    """The text between the marks; paragraphs of a multi-paragraph quote joined by a space."""
    closed: bool = True
    """Whether a closing mark was found."""


def _paragraph_end(text: str, pos: int) -> int:
    """Offset of the newline ending the paragraph that holds ``pos`` (or the text's end)."""
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def _next_paragraph_opens(text: str, pos: int) -> int | None:
    """Offset of an opening mark that starts the next non-blank paragraph, if any."""
    match = re.compile(r"\n\s*").match(text, pos)
    if match and match.end() < len(text) and text[match.end()] in "\u201c\u201e\u00ab\"":
        return match.end()
    return None


def _is_opening(text: str, i: int) -> bool:
    """Whether the mark at ``i`` can open a quote here (not an apostrophe or a closer)."""
    char = text[i]
    if char in "\u201c\u201e\u00ab":
        return True
    before = text[i - 1] if i else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    if char in "\"\u201d\u2018":
        return (before.isspace() or before in "([{\u2014-/") and not after.isspace()
    return False


def _find_close(text: str, start: int, closers: str) -> tuple[int, list[str], bool]:
    """Scan from ``start`` for a closing mark, following multi-paragraph quotes.

    Returns:
        (offset of the closing mark or paragraph end, content pieces, whether closed).
    """
    pieces = []
    pos = start
    while True:
        end = _paragraph_end(text, pos)
        for i in range(pos, end):
            if text[i] in closers and not _inside_word(text, i, closers):
                pieces.append(text[pos:i])
                return i, pieces, True
        pieces.append(text[pos:end])
        reopen = _next_paragraph_opens(text, end)
        if reopen is None:
            return end, pieces, False
        pos = reopen + 1


def _inside_word(text: str, i: int, closers: str) -> bool:
    """Whether a single-quote closer at ``i`` is really an apostrophe (``we’re``)."""
    if "\u2019" not in closers:
        return False
    after = text[i + 1] if i + 1 < len(text) else " "
    return after.isalnum()


def find_spans(text: str) -> list[Span]:
    """Find every top-level quotation in a text.

    Args:
        text: plain text, paragraphs separated by newlines.

    Returns:
        The quotations in order of their opening marks.
    """
    spans = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in OPENERS and _is_opening(text, i):
            close, pieces, closed = _find_close(text, i + 1, OPENERS[char])
            if not closed:
                log.warning("quote at offset %d has no closing mark; ended at its paragraph", i)
            content = " ".join(p.strip() for p in pieces)
            if re.search(r"\w", content):
                spans.append(Span(i, close, content, closed))
            i = close + 1
        else:
            i += 1
    return spans


def split_parts(content: str) -> list[str]:
    """Split quoted text at omissions (ellipses); drop editorial insertions in brackets.

    >>> split_parts("wearing all black … wanted for [the] hit-and-run")
    ['wearing all black', 'wanted for hit-and-run']
    """
    parts = []
    for piece in _ELLIPSIS.split(content):
        piece = _BRACKETS.sub(" ", piece).strip(" ,;:\u2014-")
        if re.search(r"\w", piece):
            parts.append(piece)
    return parts


def word_count(parts: Iterable[str]) -> int:
    """Words in the parts of a quote (what decides ``too_short``)."""
    return sum(1 for part in parts for w in split_words(part) if re.search(r"\w", w))


def _tidy(np: str) -> str:
    """Trim an attribution; write a leading determiner in lower case."""
    np = np.strip(" ,:;")
    first, _, rest = np.partition(" ")
    if first.lower() in DETERMINERS:
        np = f"{first.lower()} {rest}".strip()
    return np


def _subject(before_verb: str) -> str:
    """The speaker named before a speech verb, scene-setting clauses dropped."""
    chunks = [c.strip() for c in before_verb.split(",") if c.strip()]
    for chunk in chunks:
        words = _VERB_WITH_OBJECT.sub("", chunk).split()
        if words[0].lower() in ("as", "and", "but", "then", "so") and len(words) > 1:
            words = words[1:]
        if words[0].lower() in INTRO_WORDS or len(words) > 8:
            continue
        return " ".join(words)
    return ""


def _from_after(text: str, span: Span) -> str:
    """An attribution right after the closing mark ("…,” the dispatcher says)."""
    after = text[span.close_at + 1:_paragraph_end(text, span.close_at + 1)][:160]
    ends_open = span.content.rstrip()[-1:] in ",?!\u2014-" or after.lstrip().startswith(",")
    if not ends_open:
        return ""
    for pattern in (_AFTER_VERB_FIRST, _AFTER_NP_FIRST):
        match = pattern.match(after)
        words = match["np"].split() if match else []
        if words and len(words) <= 8 and words[0].lower() not in INTRO_WORDS:
            return match["np"]
    return ""


def _lead(text: str, span: Span) -> str:
    """The sentence up to the opening mark; the previous paragraph's last if it ends in ':'."""
    para_start = text.rfind("\n", 0, span.open_at) + 1
    head = text[para_start:span.open_at]
    ends = list(_SENTENCE_END.finditer(head))
    lead = head[ends[-1].end():] if ends else head
    if lead.strip() or para_start == 0:
        return lead
    previous = text[:para_start].rstrip()
    if not previous.endswith(":"):
        return lead
    prev_start = previous.rfind("\n") + 1
    ends = list(_SENTENCE_END.finditer(previous, prev_start))
    return previous[ends[-1].end():] if ends else previous[prev_start:]


def _from_lead(lead: str) -> str:
    """An attribution in the sentence that leads into the quote."""
    match = _LEAD_ACCORDING.search(lead)
    if match and len(match["bridge"].split()) <= 6:
        return match["np"]
    match = _LEAD_VERB_NP.search(lead)
    if match:
        return match["np"]
    verbs = list(_VERB.finditer(lead))
    if verbs:
        verb = verbs[-1]
        bridge = lead[verb.end():]
        if not bridge.lower().lstrip().startswith("to ") and len(bridge.split()) <= 8:
            subject = _subject(lead[:verb.start()])
            if subject:
                return subject
    match = _LEAD_FROM.search(lead)
    return match["np"] if match else ""


def _resolve_pronoun(np: str, text: str, span: Span) -> str:
    """Replace she/he/they with the last person named earlier in the paragraph."""
    if np.lower() not in ("she", "he", "they"):
        return np
    para_start = text.rfind("\n", 0, span.open_at) + 1
    refs = list(_PRONOUN_REF.finditer(text, para_start, span.open_at))
    if not refs:
        return np
    ref = refs[-1].group()
    first, _, rest = ref.partition(" ")
    return f"the {rest}" if first.lower() in ("a", "an") else ref


def attribution(text: str, span: Span) -> str:
    """Who the sentence around a quotation says spoke it, or empty.

    Args:
        text: the whole text.
        span: the quotation.

    Returns:
        The attribution as written (leading determiner in lower case), or ``""``.
    """
    found = _from_after(text, span) or _from_lead(_lead(text, span))
    return _tidy(_resolve_pronoun(found.strip(), text, span)) if found.strip() else ""


def _continues(text: str, previous: Span, span: Span) -> bool:
    """Whether a quote follows straight on from the previous one in the same paragraph."""
    between = text[previous.close_at + 1:span.open_at]
    return "\n" not in between and bool(_CONTINUATION.match(_lead(text, span)))


def extract_quotes(text: str, source: str, name: str | None = None) -> list[Quote]:
    """Find every quotation in a published text, with parts and attribution.

    Args:
        text: plain text (see :func:`pipeline.articles.article_text` for HTML and Markdown).
        source: the file the text came from.
        name: what the quote ids start with; the source's stem when not given.

    Returns:
        Quotes in order, ``quote_id`` ``"<name>:<n>"`` numbered from 1,
        ``start_char`` the offset of the first quoted character.
    """
    stem = name or Path(source).stem
    quotes: list[Quote] = []
    spans = find_spans(text)
    for n, span in enumerate(spans):
        who = attribution(text, span)
        if not who and n and quotes[-1].attributed_to and _continues(text, spans[n - 1], span):
            who = quotes[-1].attributed_to
        parts = split_parts(span.content)
        quotes.append(Quote(
            quote_id=f"{stem}:{n + 1}", source=source,
            text=span.content.strip().rstrip(",;:").rstrip(), parts=parts,
            start_char=span.open_at + 1, attributed_to=who,
            too_short=word_count(parts) <= TOO_SHORT_WORDS))
    return quotes
