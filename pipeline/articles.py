"""Reading article files as a reader reads them: main text, headline, byline and date.

A saved web page is read by its main text (trafilatura finds the headline, byline, date and
body, leaving out navigation, "Most read" boxes, comments and footers), a ``.docx`` by its
paragraphs, ``.txt``/``.md`` as they are. Text that is not UTF-8 is read in the charset a
page declares, or as Windows-1252, or in the encoding the user names. Whatever the form,
terminal escape sequences and control characters are taken out (:func:`clean_text`), so
nothing read from an article can repaint a terminal or hide in a CSV.

What it does not do: find quotations (``extract.py``), read quotes tables or walk folders
(``quotes.py``), read PDFs or word-processor files other than ``.docx`` (their text comes
out in layout order, with running heads and hyphenation, so quotes would be cut wrongly:
they are refused with a message saying what to do), or fetch a page from the web.
"""

from __future__ import annotations

import codecs
import html
import io
import logging
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import DispatchError

log = logging.getLogger(__name__)


HTML_SUFFIXES = (".html", ".htm", ".xhtml")
"""Saved web pages: read by their main text."""
ARTICLE_SUFFIXES = (".txt", ".md", ".markdown", ".docx") + HTML_SUFFIXES
"""Files read as articles."""
DOCUMENT_SUFFIXES = (".pdf", ".doc", ".odt", ".rtf", ".pages", ".epub")
"""PDF and word-processor files other than ``.docx``: refused, since their text cannot be
read reliably here."""

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
        return _html_article(decode_text(data, path, encoding, _declared_charset(data)), path)
    return Article(text=article_text(decode_text(data, path, encoding), suffix), source=str(path))


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


def decode_text(data: bytes, path: Path, encoding: str | None, declared: str | None = None) -> str:
    """Bytes of a text file as text: the given encoding, else UTF-8, else the encoding the file
    declares, else Windows-1252.

    Args:
        data: the file's bytes.
        path: the file, named in messages.
        encoding: the encoding the user named, if any (a Python codec name).
        declared: the charset the file declares (a web page's ``<meta>``), if any.

    Returns:
        The text (UTF-16 with a byte-order mark and UTF-8 with or without one as such).

    Raises:
        QuotesError: binary data, or text the encodings tried cannot decode.
    """
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
