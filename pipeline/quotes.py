"""The quotes of a run: from articles and quotes tables, named or found in folders.

Each article is read (``articles.py``) and its body searched for quotations
(``extract.py``); the article's byline and date travel with each of its quotes into the
quotes table. Quotes tables are read back whether ``dispatch quotes`` or ``dispatch
verify`` wrote them, their parts worked out again from the text. Quote ids are unique in
a run: a file's stem, or its path where stems clash; one id given twice is refused. A
folder is searched for articles and quotes tables only, never for the tool's other
outputs.

What it does not do: find quotations itself (``extract.py``), decode files or read web
pages and documents (``articles.py``), or fetch a page from the web.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path

from pipeline.articles import (
    ARTICLE_SUFFIXES,
    DOCUMENT_SUFFIXES,
    Article,
    QuotesError,
    clean_text,
    decode_text,
    read_article_meta,
)
from pipeline.calls import CallError, parse_duration, parse_time
from pipeline.extract import TOO_SHORT_WORDS, extract_quotes, split_parts, word_count
from pipeline.records import Quote

log = logging.getLogger(__name__)

TABLE_SUFFIXES = (".csv", ".json")
"""Files read as quote tables."""
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
SCOPE_COLUMNS = ("talkgroup", "time", "within")
"""Optional columns restricting where a row's quote is searched, as ``--talkgroup``,
``--near`` and ``--within`` do for a whole run: the talkgroup (number or tag), a wall-clock
time (ISO 8601; read in ``--tz`` without an offset) and how far around it (``90s``, ``30m``).
In a table of checked quotes ``talkgroup`` says where a quote was found and is not read."""


class QuoteTableError(QuotesError):
    """A quotes table that cannot be read: bad JSON, not a quotes table, duplicate ids."""


@dataclass
class ArticleQuote(Quote):
    """A quote with the byline and date of the article it was taken from."""

    article_author: str = ""
    """The article's byline, or empty."""
    article_date: str = ""
    """The article's publication date (``YYYY-MM-DD``), or empty."""


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
    quote_id = _cell(row, "quote_id") or f"{name}:{n}"
    talkgroup, near, within_s = ("", None, None) if checked else _row_scope(row, n, table, quote_id)
    return ArticleQuote(
        quote_id=quote_id,
        source=_cell(row, "source") or str(table),
        text=text, parts=parts,
        start_char=int(float(start)) if start.lstrip("-").replace(".", "").isdigit() else -1,
        attributed_to=_cell(row, "attributed_to"),
        recording="" if checked else _cell(row, "recording"),
        too_short=word_count(parts) <= TOO_SHORT_WORDS,
        talkgroup=talkgroup, near=near, within_s=within_s,
        article_author=_cell(row, "article_author"),
        article_date=_cell(row, "article_date"))


def _row_scope(row: dict, n: int, table: Path, quote_id: str):
    """A row's :data:`SCOPE_COLUMNS` as (talkgroup, time, seconds around it); a time without
    an offset stays naive, to be read in the run's zone (``calls.scope_quotes``).

    Raises:
        QuoteTableError: A time or duration that cannot be read, or a ``within`` without a
            ``time``; the message names the row.
    """
    talkgroup, time, within = (_cell(row, c) for c in SCOPE_COLUMNS)
    where = f"{table} row {n} (quote_id {quote_id})"
    near = parse_time(time, None)
    if time and near is None:
        raise QuoteTableError(f"{where}: time {time!r} is not a time (try '2025-10-04 21:40')")
    if within and near is None:
        raise QuoteTableError(f"{where}: within {within!r} is a distance from a time: give its time too")
    try:
        within_s = parse_duration(within) if within else None
    except CallError as e:
        raise QuoteTableError(f"{where}: within {e}") from e
    return talkgroup, near, within_s


def _table_rows(path: Path, encoding: str | None) -> tuple[list[str], list[dict]] | None:
    """A CSV's or JSON file's columns and rows; None for JSON that is not a list of objects
    (or ``{"quotes": [...]}``).

    Raises:
        QuoteTableError: the JSON is not valid.
        QuotesError: the file cannot be decoded.
    """
    raw = decode_text(path.read_bytes(), path, encoding)
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
    ``attributed_to, recording, start_char, article_author, article_date`` and the
    :data:`SCOPE_COLUMNS` ``talkgroup, time, within``; the given
    ``quote_id``s are kept (missing ones become ``"<name>:<row>"``). Parts and
    ``too_short`` are worked out again from the text, so an edited text is split afresh.
    In a table of checked quotes (one with a ``verdict`` column) the verdicts are not read
    and ``recording``, where each quote was found, does not restrict the search. The
    formula guard the tool's CSVs put before ``= + - @`` is taken off. JSON is a list of
    objects, or ``{"quotes": [...]}``.

    Args:
        path: the table.
        name: what missing quote ids start with; the table's stem when not given.
        encoding: the file's encoding, when it is not UTF-8 (see
            :func:`pipeline.articles.read_article`).

    Returns:
        The quotes of the rows that have a text, in order.

    Raises:
        QuoteTableError: the file is not valid JSON, is not a quotes table (no text
            column, or a transcript or word table), gives one ``quote_id`` to several
            rows (the message names them), or a row's time or within cannot be read (the
            message names the row).
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
    run: nested in the folder, it is skipped whole; as the folder itself, only its latest
    ``quotes.csv`` is read (earlier runs under ``runs/``, exports, transcripts and reports
    are not read again).
    """
    from pipeline.workspace import FILENAME as WORKSPACE_FILE

    if (folder / WORKSPACE_FILE).is_file():
        latest = folder / "quotes.csv"
        log.info("reading only %s: %s is the output folder of a run", latest, folder)
        return [latest] if latest.is_file() else []
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
