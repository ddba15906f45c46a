"""The quotes of a run: quotes tables read and written, folders searched, ids unique across
files, and the tables the tool wrote read back (only its quotes tables)."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from test_extract import NIGHT_QUOTES

from pipeline.articles import QuotesError
from pipeline.errors import DispatchError
from pipeline.extract import extract_quotes
from pipeline.quotes import (
    QUOTE_COLUMNS,
    QuoteTableError,
    load_quotes,
    quotes_to_rows,
    read_quote_table,
)

ARTICLES = Path(__file__).parent / "data" / "articles"
NIGHT = ARTICLES / "night-the-police-walked-away.txt"
STAND = ARTICLES / "stand-down-or-stand-by.txt"
PAGE = Path(__file__).parent / "data" / "web" / "radio-calls-released.html"
"""A saved news page (its story's quotes: test_articles)."""


def test_quote_table_round_trip(tmp_path):
    quotes = extract_quotes(STAND.read_text(encoding="utf-8"), str(STAND))
    rows = quotes_to_rows(quotes)
    assert list(rows[0]) == ["quote_id", "source", "text", "attributed_to", "recording",
                             "too_short", "start_char", "parts", "article_author", "article_date"]
    csv_path = tmp_path / "quotes.csv"
    import csv

    with csv_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    back = read_quote_table(csv_path)
    assert [(q.quote_id, q.text, q.parts, q.attributed_to, q.too_short, q.start_char)
            for q in back] == [(q.quote_id, q.text, q.parts, q.attributed_to, q.too_short,
                                q.start_char) for q in quotes]


def test_json_table_keeps_given_ids(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"quotes": [
        {"quote_id": "Q-7", "source": "memo", "text": "clear out … now", "recording": "a.wav"},
        {"text": "ten four"}]}))
    quotes = read_quote_table(path)
    assert [(q.quote_id, q.source, q.parts, q.recording) for q in quotes] == [
        ("Q-7", "memo", ["clear out", "now"], "a.wav"),
        ("mine:2", str(path), ["ten four"], "")]


@pytest.mark.parametrize("content,suffix", [("{not json", ".json"), ("id,words\n1,x\n", ".csv")])
def test_bad_tables_raise(tmp_path, content, suffix):
    path = tmp_path / f"bad{suffix}"
    path.write_text(content)
    with pytest.raises(QuoteTableError):
        read_quote_table(path)


def test_load_quotes_from_folder(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(NIGHT.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "b.csv").write_text("quote_id,source,text\nX1,memo,all units clear out\n")
    (folder / "ignore.wav").write_bytes(b"RIFF")
    quotes = load_quotes([folder])
    assert len(quotes) == len(NIGHT_QUOTES) + 1
    assert quotes[-1].quote_id == "X1"


def test_errors_are_dispatch_errors_and_value_errors():
    assert issubclass(QuoteTableError, QuotesError)
    assert issubclass(QuotesError, DispatchError) and issubclass(QuotesError, ValueError)


def test_documents_in_a_folder_are_skipped_with_a_warning(tmp_path, caplog):
    (tmp_path / "a.txt").write_text("He said “clear out now.”", encoding="utf-8")
    (tmp_path / "b.pdf").write_bytes(b"%PDF-1.7\n")
    assert [q.quote_id for q in load_quotes([tmp_path])] == ["a:1"]
    assert "b.pdf" in caplog.text and "PDF" in caplog.text


def test_a_file_named_twice_is_read_once(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_text("He said “clear out now.”", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert [q.quote_id for q in load_quotes(["a.txt", "./a.txt", tmp_path / "a.txt"])] == ["a:1"]


def test_clashing_stems_in_nested_folders_get_relative_ids(tmp_path):
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "memo.txt").write_text("He said “clear out now.”", encoding="utf-8")
    (tmp_path / "other.txt").write_text("He said “stand by now.”", encoding="utf-8")
    ids = [q.quote_id for q in load_quotes([tmp_path])]
    assert ids == ["other:1", "x/memo.txt:1", "y/memo.txt:1"]


def test_a_table_refuses_rows_sharing_an_id(tmp_path):
    path = tmp_path / "q.json"
    path.write_text(json.dumps([{"quote_id": "A", "text": "one two three"},
                                {"quote_id": "B", "text": "four five six"},
                                {"quote_id": "A", "text": "seven eight"}]))
    with pytest.raises(QuoteTableError, match=r"'A' \(rows 1, 3\)"):
        read_quote_table(path)


def test_table_cells_are_cleaned(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text("quote_id,source,text,attributed_to\n"
                    "Q1,memo,\x1b[2Kclear out now,\x1b]0;x\x07the chief\n", encoding="utf-8")
    (quote,) = read_quote_table(path)
    assert (quote.text, quote.attributed_to) == ("clear out now", "the chief")


def test_a_web_address_is_not_fetched_but_named_with_the_way_out():
    with pytest.raises(QuotesError, match=r"https://ledger\.example/story is a web address: pages "
                                          r"are not fetched; save the page"):
        load_quotes(["https://ledger.example/story"])


# --------------------------------------------------------------------------- reading back what the tool wrote


def _write(path: Path, columns: list[str], rows: list[dict]) -> Path:
    """A table as the tool writes it (spreadsheet-safe CSV)."""
    import pandas as pd

    from pipeline import export

    return export.write_table(pd.DataFrame(rows, columns=columns), path)


def _results_folder(folder: Path) -> Path:
    """What `dispatch verify --out folder` leaves: the workspace, transcript, word and quote
    tables, a transcript, a report and an evidence manifest, several quoting lines."""
    from pipeline import export

    folder.mkdir()
    (folder / "workspace.sqlite").write_bytes(b"SQLite format 3\x00")
    line = "dispatch, “all units clear out” now"
    _write(folder / "segments.csv", export.SEGMENT_COLUMNS,
           [{"recording": "a.wav", "segment_id": 0, "start_s": 0.0, "end_s": 2.0, "text": line}])
    _write(folder / "words.csv", export.WORD_COLUMNS,
           [{"recording": "a.wav", "segment_id": 0, "word_id": 0, "word": "dispatch"}])
    _write(folder / "quote_words.csv", export.QUOTE_WORD_COLUMNS,
           [{"quote_id": "night:1", "word_index": 0, "word": "Stand", "status": "match"}])
    _write(folder / "quotes.csv", export.CHECK_COLUMNS, [
        {"quote_id": "night:1", "source": "night.txt", "quote_text": "-10 minutes, stand down",
         "attributed_to": "the dispatcher", "verdict": "verbatim", "confidence": 0.9,
         "recording": "a.wav", "start_s": 1.0, "reasons": "matched"},
        {"quote_id": "night:2", "source": "night.txt", "quote_text": "we are blocked in",
         "verdict": "not_found", "confidence": 0.7}])
    (folder / "a.txt").write_text(f"{line}\n", encoding="utf-8")
    (folder / "report.html").write_text(f"<p>Quote check: “{line}”</p>", encoding="utf-8")
    (folder / "evidence").mkdir()
    (folder / "evidence" / "manifest.json").write_text(json.dumps({"quote": "“clear out”"}))
    return folder


def test_the_quotes_table_of_dispatch_quotes_reads_back_with_byline_and_date(tmp_path):
    quotes = load_quotes([PAGE])
    quotes[0].text = "-10 minutes out, we’re not sending anybody"  # guarded as a formula
    table = _write(tmp_path / "q.csv", list(QUOTE_COLUMNS), quotes_to_rows(quotes))
    assert "'-10 minutes" in table.read_text(encoding="utf-8")
    back = load_quotes([table])
    assert [(q.quote_id, q.source, q.text, q.attributed_to, q.article_author, q.article_date)
            for q in back] == [(q.quote_id, q.source, q.text, q.attributed_to, "Dana Whitfield",
                                "2024-03-14") for q in quotes]


def test_the_quotes_table_of_dispatch_verify_reads_back(tmp_path, caplog):
    results = _results_folder(tmp_path / "results")
    with caplog.at_level(logging.INFO, logger="pipeline.quotes"):
        quotes = load_quotes([results / "quotes.csv"])
    assert [(q.quote_id, q.source, q.text, q.attributed_to, q.recording) for q in quotes] == [
        ("night:1", "night.txt", "-10 minutes, stand down", "the dispatcher", ""),
        ("night:2", "night.txt", "we are blocked in", "", "")]
    assert "verdicts are not" in caplog.text


def test_a_results_folder_gives_only_its_quotes_table(tmp_path, caplog):
    results = _results_folder(tmp_path / "results")
    with caplog.at_level(logging.INFO, logger="pipeline.quotes"):
        quotes = load_quotes([results])
    assert [q.quote_id for q in quotes] == ["night:1", "night:2"]
    assert "reading only" in caplog.text and "output folder of a run" in caplog.text


def test_a_results_folder_with_earlier_runs_and_exports_gives_its_latest_quotes_once(tmp_path):
    results = _results_folder(tmp_path / "results")
    earlier = results / "runs" / "2026-01-01T00-00-00"
    earlier.mkdir(parents=True)
    (earlier / "quotes.csv").write_bytes((results / "quotes.csv").read_bytes())
    (results / "quotes.json").write_text(json.dumps(
        [{"quote_id": "night:1", "source": "night.txt", "quote_text": "stand down"}]))
    assert [q.quote_id for q in load_quotes([results])] == ["night:1", "night:2"]


def test_a_folder_holding_a_results_folder_gives_only_the_articles_quotes(tmp_path, caplog):
    folder = tmp_path / "story"
    folder.mkdir()
    (folder / "night.txt").write_text("He said “stand down now.” Then “we are blocked in.”",
                                      encoding="utf-8")
    _results_folder(folder / "results")
    with caplog.at_level(logging.INFO, logger="pipeline.quotes"):
        quotes = load_quotes([folder])
    assert [(q.quote_id, q.text) for q in quotes] == [("night:1", "stand down now."),
                                                      ("night:2", "we are blocked in.")]
    assert "results: the output folder of a run" in caplog.text


@pytest.mark.parametrize("name", ["segments.csv", "words.csv", "quote_words.csv"])
def test_a_table_named_directly_that_is_not_a_quotes_table_is_refused(tmp_path, name):
    results = _results_folder(tmp_path / "results")
    with pytest.raises(QuoteTableError, match=rf"{re.escape(name)} is not a quotes table "
                                              r"\(its columns: .*\); give quote_id, source, text"):
        load_quotes([results / name])


def test_a_json_export_of_segments_is_not_read_as_quotes(tmp_path):
    from pipeline import export

    row = {column: "" for column in export.SEGMENT_COLUMNS} | {"text": "“all units clear out”"}
    path = tmp_path / "segments.json"
    path.write_text(json.dumps([row]), encoding="utf-8")
    with pytest.raises(QuoteTableError, match="segments.json is not a quotes table"):
        read_quote_table(path)
    (tmp_path / "a.txt").write_text("He said “clear out now.”", encoding="utf-8")
    assert [q.quote_id for q in load_quotes([tmp_path])] == ["a:1"]


def test_docstring_examples():
    """Every example in the module's docstrings holds."""
    import doctest

    from pipeline import quotes

    result = doctest.testmod(quotes)
    assert result.attempted and not result.failed


# --- a row's own talkgroup and time ------------------------------------------------------


SCOPED_TABLE = """quote_id,source,text,talkgroup,time,within
n:1,story.md,"Ten four, eight thirty-three, show me en route.",3105,2025-10-04 21:40,10m
n:2,story.md,"Eight twelve, copy the description.",PD Zone 8,2025-10-05T02:41:00+00:00,
n:3,story.md,"Any units to back eight twelve?",,,
"""


def test_a_rows_talkgroup_time_and_within_are_read(tmp_path):
    from datetime import datetime, timezone

    path = tmp_path / "quotes.csv"
    path.write_text(SCOPED_TABLE, encoding="utf-8")
    scoped = [(q.talkgroup, q.near, q.within_s) for q in read_quote_table(path)]
    assert scoped == [
        ("3105", datetime(2025, 10, 4, 21, 40), 600.0),  # no offset: read in --tz later
        ("PD Zone 8", datetime(2025, 10, 5, 2, 41, tzinfo=timezone.utc), None),
        ("", None, None)]


@pytest.mark.parametrize("time, within, says", [
    ("about 21:40", "", "row 2 (quote_id n:2): time 'about 21:40' is not a time"),
    ("2025-10-04 21:40", "soon", "row 2 (quote_id n:2): within 'soon' is not a duration"),
    ("", "30m", "row 2 (quote_id n:2): within '30m' is a distance from a time"),
])
def test_a_row_with_a_bad_time_or_within_is_refused_naming_the_row(tmp_path, time, within, says):
    path = tmp_path / "quotes.csv"
    path.write_text("quote_id,source,text,talkgroup,time,within\n"
                    "n:1,story.md,\"Shots fired, shots fired.\",3105,,\n"
                    f"n:2,story.md,\"Ten four, en route.\",3105,{time},{within}\n", encoding="utf-8")
    with pytest.raises(QuoteTableError) as e:
        read_quote_table(path)
    assert says in str(e.value) and "\n" not in str(e.value)


def test_the_talkgroup_of_a_checked_quote_says_where_it_was_found_not_where_to_look(tmp_path):
    path = tmp_path / "quotes.csv"
    path.write_text("quote_id,source,quote_text,verdict,recording,talkgroup\n"
                    "n:1,story.md,\"Eight twelve, copy.\",verbatim,a.wav,3105\n", encoding="utf-8")
    (quote,) = read_quote_table(path)
    assert (quote.talkgroup, quote.near, quote.recording) == ("", None, "")
