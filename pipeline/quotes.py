"""Extracting quotations and their attributions from published text; reading quote tables.

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

Articles are read as a reader reads them: a saved web page by its main text (trafilatura
finds the headline, byline, date and body, leaving out navigation, "Most read" boxes,
comments and footers), a ``.docx`` by its paragraphs, ``.txt``/``.md`` as they are. Only
the body is searched for quotes; byline and date travel with each quote into the quotes
table. Quotes tables are read back whether ``dispatch quotes`` or ``dispatch verify``
wrote them; a folder is searched for articles and quotes tables only, never for the
tool's other outputs.

What it does not do: quotes without marks (block quotes, reported speech), telling a
spoken quote from a written statement, reading PDFs (their text comes out in layout
order, with running heads and hyphenation, so quotes would be cut wrongly), or fetching
a page from the web.
"""

from __future__ import annotations

import codecs
import csv
import html
import io
import json
import logging
import os
import re
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path

from pipeline.errors import DispatchError
from pipeline.records import Quote
from pipeline.text import split_words

log = logging.getLogger(__name__)

OPENERS = {"\u201c": "\u201d", "\u201e": "\u201c\u201d", "\u00ab": "\u00bb", '"': '"',
           "\u201d": "\u201d", "\u2018": "\u2019"}
"""Opening marks and the marks that close them (Swedish ”…” and British ‘…’ included)."""
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
"""Saved web pages: read by their main text."""
ARTICLE_SUFFIXES = (".txt", ".md", ".markdown", ".docx") + HTML_SUFFIXES
"""Files read as articles."""
TABLE_SUFFIXES = (".csv", ".json")
"""Files read as quote tables."""
DOCUMENT_SUFFIXES = (".pdf", ".doc", ".odt", ".rtf", ".pages", ".epub")
"""PDF and word-processor files other than ``.docx``: refused, since their text cannot be
read reliably here."""
QUOTE_COLUMNS = ("quote_id", "source", "text", "attributed_to", "recording", "too_short",
                 "start_char", "parts", "article_author", "article_date")
"""Columns of the quotes CSV, in order; ``parts`` joins the parts with `` | ``."""
TEXT_COLUMNS = ("text", "quote_text")
"""Where a quotes table holds the quoted words: ``text`` (``dispatch quotes``), else
``quote_text`` (``dispatch verify``'s quotes.csv)."""
VERDICT_COLUMN = "verdict"
"""The column that marks a table of checked quotes; its verdicts are not read back."""
TRANSCRIPT_COLUMNS = ("segment_id", "word_id", "word_index")
"""Columns of the transcript and word tables; a table holding one is not a quotes table."""
PART_SEPARATOR = " | "
"""How ``parts`` are joined in a quotes table."""
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


_CONTROLS = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colour, erase, cursor moves
    r"|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)?"  # OSC: window title, hyperlinks
    r"|\x1b[PX^_][^\x1b\n]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[ -/]*[0-~]"  # other escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|\x9d[^\x07\x9c\n]*[\x07\x9c]?"  # 8-bit OSC
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # controls, bidi overrides
"""Terminal escape sequences and control characters other than newline and tab."""


class QuotesError(DispatchError, ValueError):
    """An article or quotes table that cannot be read; the message names the file."""


class QuoteTableError(QuotesError):
    """A quotes table that cannot be read: bad JSON, not a quotes table, duplicate ids."""


@dataclass
class Article:
    """An article as a reader reads it: its main text and what the page says about it."""

    text: str
    """The body, paragraphs separated by newlines (headline, navigation, boxes, comments and
    footer left out of a web page); quotes are taken from this text only."""
    source: str
    """The file it was read from."""
    title: str = ""
    """The headline, where the file names one."""
    author: str = ""
    """The byline, where the page names one (several authors joined by ``; ``)."""
    date: str = ""
    """The publication date as ``YYYY-MM-DD``, where the page states one."""


@dataclass
class ArticleQuote(Quote):
    """A quote with the byline and date of the article it was taken from."""

    article_author: str = ""
    """The article's byline, or empty."""
    article_date: str = ""
    """The article's publication date (``YYYY-MM-DD``), or empty."""


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
        text: plain text (see :func:`article_text` for HTML and Markdown).
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


def clean_text(text: str) -> str:
    """Text with terminal escape sequences and control characters taken out.

    ANSI/CSI and OSC sequences (colour, cursor moves, erasing, window titles) go whole;
    other C0 and C1 controls and bidirectional overrides go; newline and tab stay, and
    ``\\r\\n`` or a lone ``\\r`` becomes a newline. So nothing read from an article can
    repaint a terminal or hide in a CSV.

    >>> clean_text("\\x1b[31mred\\x1b[0m \\x1b]0;title\\x07said\\x1b[2K\\x1b[1A\\r\\nnext")
    'red said\\nnext'
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", text)


def article_text(raw: str, suffix: str) -> str:
    """Plain text of an article: HTML tags stripped and entities unescaped; Markdown links
    and emphasis removed; anything else as it is; escape sequences and control characters
    taken out of all (:func:`clean_text`).

    >>> article_text("<p>He said &ldquo;clear out&rdquo;</p><p>Next</p>", ".html")
    'He said “clear out”\\nNext'
    """
    if suffix in (".html", ".htm"):
        raw = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", raw)
        raw = re.sub(r"(?i)<br\s*/?>|</(p|div|h[1-6]|li|blockquote|tr|section|article)>",
                     "\n", raw)
        raw = clean_text(html.unescape(re.sub(r"<[^>]+>", "", raw)))
        return "\n".join(line.strip() for line in raw.splitlines() if line.strip())
    if suffix in (".md", ".markdown"):
        raw = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", raw)
        raw = re.sub(r"(\*\*|__|(?<!\w)[*_]|[*_](?!\w))", "", raw)
    return clean_text(raw)


def read_article(path: str | Path, encoding: str | None = None) -> str:
    """The plain text of an article's body (see :func:`read_article_meta`).

    Args:
        path: the article (``.txt .md .html .docx`` or any text file).
        encoding: the file's encoding, when known (a Python codec name).

    Returns:
        The text quotes are taken from.

    Raises:
        QuotesError: as :func:`read_article_meta`.
    """
    return read_article_meta(path, encoding).text


def read_article_meta(path: str | Path, encoding: str | None = None) -> Article:
    """An article file read as a reader reads it: body, headline, byline and date.

    A saved web page is reduced to its main text by trafilatura (headline, byline and
    date taken apart; navigation, "Most read" boxes, comments and footers left out); if it
    finds none, the page's whole text is read instead, with a logged warning. A ``.docx``
    is read by its paragraphs. Other files are text (:func:`article_text`): UTF-8 (with
    or without a byte-order mark) and UTF-16 with a byte-order mark are read as such, a
    web page in the charset it declares, anything else as Windows-1252 (which covers
    Latin-1 text) with a logged warning, unless ``encoding`` names the encoding.

    Args:
        path: the article (``.txt .md .html .docx`` or any text file).
        encoding: the file's encoding, when known (a Python codec name).

    Returns:
        The article; ``title``, ``author`` and ``date`` empty where the file does not say.

    Raises:
        QuotesError: a PDF or other document, a damaged ``.docx``, a binary file, or text
            that cannot be decoded; the message names the file and what to do.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    data = path.read_bytes()
    if suffix == ".docx":
        return _docx_article(data, path)
    if suffix in DOCUMENT_SUFFIXES or data.startswith((b"%PDF-", b"PK\x03\x04")):
        kind = suffix[1:].upper() if suffix in DOCUMENT_SUFFIXES else (
            "PDF" if data.startswith(b"%PDF-") else "zipped (Office)")
        raise QuotesError(f"{path} is a {kind} document, not text; save its text as .txt, .html "
                          f"or .docx and give that file instead")
    if suffix in HTML_SUFFIXES:
        return _html_article(_decode(data, path, encoding, _declared_charset(data)), path)
    return Article(text=article_text(_decode(data, path, encoding), suffix), source=str(path))


def _plain_lines(text: str) -> str:
    """Text cleaned (:func:`clean_text`), each line trimmed, blank lines dropped."""
    return "\n".join(line.strip() for line in clean_text(text).splitlines() if line.strip())


def _html_article(raw: str, path: Path) -> Article:
    """A web page's main text, headline, byline and date (trafilatura).

    Dates come from the page's own markup only: trafilatura's extensive search would take
    a copyright year or any date in the text for the publication date.
    """
    import trafilatura
    from trafilatura.settings import set_date_params

    page = trafilatura.bare_extraction(
        raw, with_metadata=True, include_comments=False, include_tables=True,
        date_extraction_params=set_date_params(False))
    title = _plain_lines(page.title or "") if page else ""
    author = _plain_lines(page.author or "") if page else ""
    date = _plain_lines(page.date or "") if page else ""
    body = _plain_lines(page.text or "") if page else ""
    if not body:
        log.warning("%s: no main text found in the page; reading all of its text instead "
                    "(navigation, boxes and footer included)", path)
        body = article_text(raw, ".html")
    else:
        body = _without_headline(body, title)
    return Article(text=body, source=str(path), title=title, author=author, date=date)


def _without_headline(body: str, title: str) -> str:
    """The body without its first line when that line is the headline."""
    first, _, rest = body.partition("\n")
    same = title and " ".join(first.split()).casefold() == " ".join(title.split()).casefold()
    return rest if same else body


def _docx_article(data: bytes, path: Path) -> Article:
    """A Word document's paragraphs (python-docx); paragraphs styled Title or Subtitle are the
    headline, not the body. Headers, footers, comments and text boxes are left out."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, SyntaxError) as e:
        raise QuotesError(f"{path} is a damaged DOCX document, not text it can read ({e}); save "
                          f"it again from the word processor, or save its text as .txt") from e
    body, headings = [], []
    for paragraph in document.paragraphs:
        text = _plain_lines(paragraph.text.replace("\n", " "))
        style = paragraph.style.name if paragraph.style is not None else ""
        if text:
            (headings if style in ("Title", "Subtitle") else body).append(text)
    title = _plain_lines(document.core_properties.title or "") or (headings or [""])[0]
    return Article(text="\n".join(body), source=str(path), title=title)


_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _declared_charset(data: bytes) -> str | None:
    """The charset a web page declares in a ``<meta>`` tag near its top, if Python knows it.

    Latin-1 and ASCII are read as Windows-1252, as browsers do (the curly quotes of such
    pages are Windows-1252 bytes).
    """
    match = _CHARSET.search(data[:4096])
    if not match:
        return None
    try:
        codec = codecs.lookup(match[1].decode("ascii")).name
    except LookupError:
        return None
    return "cp1252" if codec in ("iso8859-1", "ascii") else codec


def _decode(data: bytes, path: Path, encoding: str | None, declared: str | None = None) -> str:
    """Bytes of a text file as text: the given encoding, else UTF-8, else the encoding the file
    declares, else Windows-1252."""
    if encoding:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as e:
            raise QuotesError(f"{path} cannot be read as {encoding}: {e}") from e
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if b"\0" in data:
        raise QuotesError(f"{path} is a binary file, not text; give articles as .txt, .md, .html or .docx")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        utf8_error = e
    if declared and declared not in ("utf-8", "cp1252"):
        try:
            text = data.decode(declared)
        except UnicodeDecodeError:
            pass
        else:
            log.info("%s is not UTF-8; read it as %s, the charset it declares", path, declared)
            return text
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise QuotesError(
            f"{path} is not UTF-8 text (byte {utf8_error.start}: {utf8_error.reason}) nor "
            f"Windows-1252; name its encoding with --encoding, or save it as UTF-8"
        ) from utf8_error
    if declared != "cp1252":
        log.warning("%s is not UTF-8 (byte %d); read it as Windows-1252 (Latin-1) text",
                    path, utf8_error.start)
    return text


_GUARDED_STARTS = ("'=", "'+", "'-", "'@")
"""How the tool's CSVs begin a cell it guarded against spreadsheet formulas."""


def _cell(row: dict, column: str) -> str:
    """One cell of a table row as clean, trimmed text, the formula guard taken off."""
    value = row.get(column)
    text = clean_text("" if value is None else str(value)).strip()
    return text[1:] if text.startswith(_GUARDED_STARTS) else text


def is_quote_table(columns: Iterable[str]) -> bool:
    """Whether a table with these columns holds quotes: a text column (``text`` or
    ``quote_text``) and none of the transcript and word tables' columns.

    >>> is_quote_table(["quote_id", "source", "quote_text", "attributed_to", "verdict"])
    True
    >>> is_quote_table(["recording", "segment_id", "start_s", "end_s", "speaker", "text"])
    False
    """
    columns = set(columns)
    return bool(columns & set(TEXT_COLUMNS)) and not columns & set(TRANSCRIPT_COLUMNS)


def _row_to_quote(row: dict, n: int, table: Path, name: str, text_column: str,
                  checked: bool) -> ArticleQuote:
    """One table row as a quote; parts and ``too_short`` recomputed from the text. In a table
    of checked quotes, ``recording`` says where a quote was found, not where to look."""
    text = _cell(row, text_column)
    parts = split_parts(text)
    start = _cell(row, "start_char")
    return ArticleQuote(
        quote_id=_cell(row, "quote_id") or f"{name}:{n}",
        source=_cell(row, "source") or str(table),
        text=text, parts=parts,
        start_char=int(float(start)) if start.lstrip("-").replace(".", "").isdigit() else -1,
        attributed_to=_cell(row, "attributed_to"),
        recording="" if checked else _cell(row, "recording"),
        too_short=word_count(parts) <= TOO_SHORT_WORDS,
        article_author=_cell(row, "article_author"),
        article_date=_cell(row, "article_date"))


def _table_rows(path: Path, encoding: str | None) -> tuple[list[str], list[dict]] | None:
    """A CSV's or JSON file's columns and rows; None for JSON that is not a list of objects
    (or ``{"quotes": [...]}``).

    Raises:
        QuoteTableError: the JSON is not valid.
        QuotesError: the file cannot be decoded.
    """
    raw = _decode(path.read_bytes(), path, encoding)
    if path.suffix.lower() != ".json":
        reader = csv.DictReader(io.StringIO(raw, newline=""))
        rows = list(reader)
        return [c for c in reader.fieldnames or [] if c is not None], rows
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        raise QuoteTableError(f"{path}: not valid JSON ({e})") from e
    rows = data.get("quotes") if isinstance(data, dict) else data
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return None
    return list(dict.fromkeys(column for row in rows for column in row)), rows


def read_quote_table(path: str | Path, name: str | None = None,
                     encoding: str | None = None) -> list[ArticleQuote]:
    """Read a quotes table (CSV or JSON) such as ``dispatch quotes`` or ``dispatch verify`` writes.

    Columns ``quote_id, source, text`` (or ``quote_text``) and optionally
    ``attributed_to, recording, start_char, article_author, article_date``; the given
    ``quote_id``s are kept (missing ones become ``"<name>:<row>"``). Parts and
    ``too_short`` are worked out again from the text, so an edited text is split afresh.
    In a table of checked quotes (one with a ``verdict`` column) the verdicts are not read
    and ``recording``, where each quote was found, does not restrict the search. The
    formula guard the tool's CSVs put before ``= + - @`` is taken off. JSON is a list of
    objects, or ``{"quotes": [...]}``.

    Args:
        path: the table.
        name: what missing quote ids start with; the table's stem when not given.
        encoding: the file's encoding, when it is not UTF-8 (see :func:`read_article`).

    Returns:
        The quotes of the rows that have a text, in order.

    Raises:
        QuoteTableError: the file is not valid JSON, is not a quotes table (no text
            column, or a transcript or word table), or gives one ``quote_id`` to several
            rows (the message names them).
        QuotesError: the file cannot be decoded.
    """
    path = Path(path)
    table = _table_rows(path, encoding)
    if table is None:
        raise QuoteTableError(f"{path}: expected a list of quote objects")
    columns, rows = table
    if columns and not is_quote_table(columns):
        raise QuoteTableError(
            f"{path} is not a quotes table (its columns: {', '.join(columns[:8])}); give "
            f"quote_id, source, text, as `dispatch quotes` writes, or the quotes.csv of "
            f"`dispatch verify`")
    return _quotes_of_rows(columns, rows, path, name or path.stem)


def _quotes_of_rows(columns: list[str], rows: list[dict], path: Path,
                    name: str) -> list[ArticleQuote]:
    """The quotes of a quotes table's rows that have a text; duplicate ids refused."""
    text_column = next((c for c in TEXT_COLUMNS if c in columns), TEXT_COLUMNS[0])
    checked = VERDICT_COLUMN in columns
    if checked:
        log.info("%s holds checked quotes: their text is read again, their verdicts are not", path)
    numbered = [(n, _row_to_quote(row, n, path, name, text_column, checked))
                for n, row in enumerate(rows, start=1) if _cell(row, text_column)]
    _refuse_duplicate_rows(numbered, path)
    return [quote for _, quote in numbered]


def _folder_table(path: Path, name: str, encoding: str | None) -> list[ArticleQuote]:
    """The quotes of a table found in a folder; nothing, with a log line, if it is not a
    quotes table (the tool's transcript and word tables, a manifest)."""
    table = _table_rows(path, encoding)
    if table is None or (table[0] and not is_quote_table(table[0])):
        log.info("skipping %s: not a quotes table", path)
        return []
    return _quotes_of_rows(*table, path, name)


def _refuse_duplicate_rows(numbered: list[tuple[int, Quote]], path: Path) -> None:
    """Raise when rows of one table share a ``quote_id``, naming the id and the rows."""
    rows: dict[str, list[int]] = {}
    for n, quote in numbered:
        rows.setdefault(quote.quote_id, []).append(n)
    clashes = [f"{qid!r} (rows {', '.join(map(str, ns))})" for qid, ns in rows.items()
               if len(ns) > 1]
    if clashes:
        raise QuoteTableError(f"{path}: quote_id used by more than one row: {'; '.join(clashes)}; "
                              f"give each quote its own id (rows counted from 1 after the header)")


def _files(paths: Iterable[str | Path]) -> dict[Path, bool]:
    """The article and table files named or found in folders, each file once.

    Returns:
        Each file, in the order given (folders sorted), with whether it was named
        directly: a file named directly is read whatever its name (and refused if it is
        not text or not a quotes table).

    Raises:
        QuotesError: a web address is given instead of a saved page.
    """
    files: dict[Path, tuple[Path, bool]] = {}
    for given in paths:
        path = Path(given)
        if re.match(r"(?i)https?://", str(given)) and not path.exists():
            raise QuotesError(f"{given} is a web address: pages are not fetched; save the page "
                              f"from the browser (as HTML) and give the saved file")
        named = not path.is_dir()
        for p in [path] if named else _folder_files(path):
            files.setdefault(p.resolve(), (p, named))
    return dict(files.values())


def _folder_files(folder: Path) -> list[Path]:
    """The articles and tables under a folder, sorted, leaving out what the tool wrote.

    README files are notes about the articles, not articles; PDF and word-processor
    files are skipped with a warning. A folder holding a workspace is the output of a
    run: nested in the folder, it is skipped whole; as the folder itself, only its tables
    are read (its transcripts and reports are not articles), and of those only quotes
    tables (:func:`_folder_table`).
    """
    from pipeline.workspace import FILENAME as WORKSPACE_FILE

    found = sorted(p for p in folder.rglob("*") if p.is_file())
    outputs = {p.parent for p in found if p.name == WORKSPACE_FILE}
    for nested in sorted(outputs - {folder}):
        log.info("skipping %s: the output folder of a run (name it to read its quotes again)",
                 nested)
    wanted, left_out = [], []
    for p in found:
        suffix = p.suffix.lower()
        if p.name.upper().startswith("README") or outputs.intersection(p.parents) - {folder}:
            continue
        if suffix in DOCUMENT_SUFFIXES:
            log.warning("skipping %s: a %s document, not text; save its text as .txt, .html "
                        "or .docx to check its quotes", p, suffix[1:].upper())
        elif suffix in TABLE_SUFFIXES or (suffix in ARTICLE_SUFFIXES and folder not in outputs):
            wanted.append(p)
        elif suffix in ARTICLE_SUFFIXES:
            left_out.append(p.name)
    if left_out:
        log.info("skipping %d file(s) in %s, the output folder of a run, where only quotes "
                 "tables are read: %s", len(left_out), folder, ", ".join(left_out[:5]))
    return wanted


def _id_names(files: list[Path]) -> dict[Path, str]:
    """What each file's quote ids start with: its stem, unless another file shares it.

    Files whose stems clash (``inject.html``, ``inject.txt``; ``a/x.txt``, ``b/x.txt``)
    are named by their path relative to the folder all the files share, so every id
    in a run is unique and ids stay short (and as before) where nothing clashes.
    """
    stems = Counter(p.stem for p in files)
    resolved = [p.resolve() for p in files]
    try:
        root = Path(os.path.commonpath([r.parent for r in resolved])) if resolved else Path()
    except ValueError:  # different drives: no common folder
        root = Path("/")
    return {p: p.stem if stems[p.stem] == 1 else _relative(r, root).as_posix()
            for p, r in zip(files, resolved)}


def _relative(path: Path, root: Path) -> Path:
    """``path`` relative to ``root`` when under it, else as it is."""
    try:
        return path.relative_to(root)
    except ValueError:
        return path


def _refuse_duplicate_ids(quotes: list[Quote], files: list[Path]) -> None:
    """Raise when two files give the same ``quote_id``, naming the id, its sources and the
    files it came from."""
    sources: dict[str, list[str]] = {}
    origins: dict[str, list[str]] = {}
    for quote, file in zip(quotes, files):
        sources.setdefault(quote.quote_id, []).append(quote.source)
        origins.setdefault(quote.quote_id, []).append(str(file))
    clashes = [f"{qid!r} ({' and '.join(dict.fromkeys(s))}) from "
               f"{' and '.join(dict.fromkeys(origins[qid]))}"
               for qid, s in sources.items() if len(s) > 1]
    if clashes:
        raise QuotesError(f"quote_id given more than once: {'; '.join(clashes[:5])}; "
                          f"give each quote its own id")


def article_quotes(article: Article, name: str | None = None) -> list[ArticleQuote]:
    """The quotes of an article's body, each with the article's byline and date.

    Args:
        article: the article (:func:`read_article_meta`).
        name: what the quote ids start with; the source's stem when not given.

    Returns:
        Quotes as :func:`extract_quotes` finds them.
    """
    return [ArticleQuote(**{f.name: getattr(q, f.name) for f in fields(Quote)},
                         article_author=article.author, article_date=article.date)
            for q in extract_quotes(article.text, article.source, name)]


def load_quotes(paths: Iterable[str | Path], encoding: str | None = None) -> list[ArticleQuote]:
    """Quotes from articles (``.txt .md .html .docx``) and quotes tables (``.csv .json``).

    Quote ids are ``<stem>:<n>``; where two files share a stem, ``<path>:<n>`` with the
    path relative to the folder the files share, so ids are unique in a run. A file named
    twice (by two spellings of its path) is read once. In folders, tables other than
    quotes tables are skipped, and so are README files and what the tool wrote: a folder
    holding a workspace is searched only for quotes tables when named itself, and skipped
    whole when found inside the named folder.

    Args:
        paths: files and folders (searched recursively).
        encoding: the encoding of files that are not UTF-8, when known.

    Returns:
        All quotes, file by file in the order given (folders sorted).

    Raises:
        FileNotFoundError: when a path does not exist.
        QuotesError: a file that is not text or cannot be decoded, a table that cannot be
            read or a file named directly that is not a quotes table
            (:class:`QuoteTableError`), one ``quote_id`` given twice, or a web address
            (pages are not fetched: save the page and give the file).
    """
    files = _files(paths)
    names = _id_names(list(files))
    quotes: list[ArticleQuote] = []
    origins: list[Path] = []
    for path, named in files.items():
        if path.suffix.lower() not in TABLE_SUFFIXES:
            found = article_quotes(read_article_meta(path, encoding), names[path])
        elif named:
            found = read_quote_table(path, names[path], encoding)
        else:
            found = _folder_table(path, names[path], encoding)
        quotes += found
        origins += [path] * len(found)
    _refuse_duplicate_ids(quotes, origins)
    return quotes


def quotes_to_rows(quotes: Iterable[Quote]) -> list[dict]:
    """Quotes as rows for the quotes CSV (columns :data:`QUOTE_COLUMNS`); the article's
    byline and date are empty for a quote that does not carry them."""
    return [{
        "quote_id": q.quote_id, "source": q.source, "text": q.text,
        "attributed_to": q.attributed_to, "recording": q.recording,
        "too_short": q.too_short, "start_char": q.start_char,
        "parts": PART_SEPARATOR.join(q.parts),
        "article_author": q.article_author if isinstance(q, ArticleQuote) else "",
        "article_date": q.article_date if isinstance(q, ArticleQuote) else "",
    } for q in quotes]
