"""Extracting quotes: every quotation in both seed articles, by hand; typographic forms;
reading articles and tables safely; a property-based check of the extractor."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline.articles import QuotesError, article_text, clean_text, read_article, read_article_meta
from pipeline.errors import DispatchError
from pipeline.extract import extract_quotes, split_parts
from pipeline.quotes import (
    QUOTE_COLUMNS,
    QuoteTableError,
    article_quotes,
    load_quotes,
    quotes_to_rows,
    read_quote_table,
)

ARTICLES = Path(__file__).parent / "data" / "articles"
NIGHT = ARTICLES / "night-the-police-walked-away.txt"
STAND = ARTICLES / "stand-down-or-stand-by.txt"

# (start of the quoted text, attribution, number of parts, too short)
NIGHT_QUOTES = [
    ("Stand Down", "", 1, True),
    ("clear out", "", 1, True),
    ("were rammed and boxed in by approximately ten vehicles.",
     "a Department of Homeland Security (DHS) statement", 1, False),
    ("a deliberate and coordinated attack", "DHS", 1, False),
    ("Stand Down", "", 1, True),
    ("Younger male Hispanic, wearing all black … wanted for the hit-and-run.",
     "the dispatcher", 2, False),
    ("When the offending vehicle crashed, they ran the federal agent off the road.",
     "the dispatcher", 1, False),
    ("Per the chief of patrol: clear everybody out — we’re not responding over there.",
     "a senior officer", 1, False),
    ("Per the chief of patrol, all units clear out from there. We’re not sending anybody",
     "the dispatcher", 1, False),
    ("We’re trying to clear out, but we’re blocked in.", "one officer on scene", 1, False),
    ("the department is aware of an incident", "the Chicago Police Department", 1, False),
    ("did not receive a timely response.", "DHS sources", 1, False),
    ("chaotic", "Law enforcement sources", 1, True),
    ("eerily deserted", "Law enforcement sources", 1, True),
    ("sanctuary", "", 1, True),
    ("We’re trained to help any officer in distress", "one officer", 1, False),
    ("If that order came from the top, it’s unacceptable.", "one officer", 1, False),
    ("With gunfire and protesters in the mix", "a retired Chicago precinct commander", 1, False),
    ("It’s possible they wanted to avoid", "a retired Chicago precinct commander", 1, False),
    ("No officer should ever be abandoned", "one senior DHS official", 1, False),
    ("If orders were given that prevented assistance", "one senior DHS official", 1, False),
    ("We don’t support violence", "community organizer Tania Reyes", 1, False),
    ("but the city needs to rethink", "community organizer Tania Reyes", 1, False),
]

STAND_QUOTES = [
    ("Hold Back", "", 1, True),
    ("Younger male Hispanic wearing all black … wanted for the hit‑and‑run",
     "the female dispatcher", 2, False),
    ("When the offending vehicle crashed", "the dispatcher", 1, False),
    ("Per the chief of patrol: Clear everybody out, we’re not responding over there.",
     "a male voice off‑mic", 1, False),
    ("Per the chief of patrol, all units clear out from there, we’re not sending anybody out",
     "the dispatcher", 1, False),
    ("PLEASE CHIEF OF PATROL NO UNITS WILL RESPOND", "the dispatcher", 2, False),
    ("did in fact respond to the shooting scene", "the department", 2, False),
    ("To clarify misinformation currently circulating …", "the department", 2, False),
    ("Today in Chicago, members of our brave law enforcement were attacked",
     "Homeland Security Secretary Kristi Noem", 1, False),
    ("when a law‑enforcement officer is in trouble", "one union leader", 1, False),
    ("We’re blocked in over here… we’re going to do the best", "one local officer", 2, False),
    ("Clear everybody out… we’re not responding over there.", "", 2, False),
]


@pytest.mark.parametrize("path,expected", [(NIGHT, NIGHT_QUOTES), (STAND, STAND_QUOTES)],
                         ids=["night", "stand"])
def test_every_quotation_in_the_seed_articles(path, expected):
    quotes = extract_quotes(path.read_text(encoding="utf-8"), str(path))
    got = [(q.text, q.attributed_to, len(q.parts), q.too_short) for q in quotes]
    assert len(got) == len(expected)
    for (text, who, parts, short), (e_text, e_who, e_parts, e_short) in zip(got, expected):
        assert text.startswith(e_text)
        assert (who, parts, short) == (e_who, e_parts, e_short), text


def test_quote_ids_positions_and_source():
    text = NIGHT.read_text(encoding="utf-8")
    quotes = extract_quotes(text, str(NIGHT))
    assert [q.quote_id for q in quotes[:3]] == [
        "night-the-police-walked-away:1", "night-the-police-walked-away:2",
        "night-the-police-walked-away:3"]
    assert all(q.source == str(NIGHT) for q in quotes)
    for q in quotes:
        assert text[q.start_char:].startswith(q.text[:20])


def test_ellipsis_parts_of_the_dispatcher_line():
    quotes = extract_quotes(NIGHT.read_text(encoding="utf-8"), "night.txt")
    assert quotes[5].parts == [
        "Younger male Hispanic, wearing all black",
        "wanted for the hit-and-run. This guy fled from the scene"]
    memo = extract_quotes(STAND.read_text(encoding="utf-8"), "stand.txt")[5]
    assert memo.parts[0].endswith("04‑Oc5‑2025/12:34:44")
    assert memo.parts[1].startswith("CALLER IS 1 OF APPROX 30")


FORM_CASES = [
    # (text, [(quote text, attribution)])
    ('He said, "clear out now."', [("clear out now.", "He")]),
    ("„Wir kommen gleich“, sagte er.", [("Wir kommen gleich", "")]),
    ("« On arrive tout de suite », dit-il.", [("On arrive tout de suite", "")]),
    ("The sergeant said: “He told me ‘stand down’ and left.”",
     [("He told me ‘stand down’ and left.", "the sergeant")]),
    ("“We’re blocked in,” the officer radioed. “We can’t get out.”",
     [("We’re blocked in", "the officer"), ("We can’t get out.", "the officer")]),
    ("The chief said: “First paragraph goes on.\n“Second paragraph ends here.”\nAfter.",
     [("First paragraph goes on. Second paragraph ends here.", "the chief")]),
    ("The chief said: “Never closed.\nNext paragraph without a mark.",
     [("Never closed.", "the chief")]),
    ("The agents’ SUV and Chicago’s police", []),
    ("Officers were told to “stand down” and “hold back.”",
     [("stand down", ""), ("hold back.", "")]),
]


@pytest.mark.parametrize("text,expected", FORM_CASES)
def test_typographic_forms(text, expected):
    quotes = extract_quotes(text, "case.txt")
    assert [(q.text, q.attributed_to) for q in quotes] == expected


@pytest.mark.parametrize("content,parts", [
    ("one two … three four", ["one two", "three four"]),
    ("one two...three four", ["one two", "three four"]),
    ("one two [...] three four", ["one two", "three four"]),
    ("one two […] three four", ["one two", "three four"]),
    ("[The chief] said clear out", ["said clear out"]),
    ("… leading omission", ["leading omission"]),
    ("trailing omission …", ["trailing omission"]),
])
def test_split_parts(content, parts):
    assert split_parts(content) == parts


def test_too_short_counts_words_of_all_parts():
    quotes = extract_quotes("“stand down” and “clear out … now” and “stand by”", "s.txt")
    assert [q.too_short for q in quotes] == [True, False, True]


def test_html_and_markdown_articles():
    html = "<html><p>The dispatcher said, &ldquo;all units clear out.&rdquo;</p>" \
           "<script>var x = \"no\";</script><p>Next</p></html>"
    text = article_text(html, ".html")
    assert text == "The dispatcher said, “all units clear out.”\nNext"
    md = "The **chief** said: “see [the memo](http://x) now.”"
    assert extract_quotes(article_text(md, ".md"), "a.md")[0].text == "see the memo now."


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


@pytest.mark.parametrize("raw,clean", [
    ("\x1b[31mred\x1b[0m", "red"),  # colour (CSI SGR)
    ("\x1b]0;owned\x07title", "title"),  # window title (OSC, BEL)
    ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),  # hyperlink (OSC, ST)
    ("line\x1b[2K\x1b[1A\x1b[Gover", "lineover"),  # erase line, cursor up, column 1
    ("a\x9b31mb\x9d0;t\x07c", "abc"),  # 8-bit CSI and OSC
    ("bell\x07 back\x08 nul\x00 del\x7f", "bell back nul del"),
    ("evil\u202etxt.exe", "eviltxt.exe"),  # bidirectional override
    ("one\r\ntwo\rthree\tfour", "one\ntwo\nthree\tfour"),
    ("“clear out,” she said — «fin»", "“clear out,” she said — «fin»"),
])
def test_clean_text_strips_escapes_and_controls(raw, clean):
    assert clean_text(raw) == clean


def test_articles_are_cleaned_whatever_their_form():
    assert article_text("<p>said \x1b[31m“go”\x1b[0m</p>", ".html") == "said “go”"
    assert article_text("**said**\x1b[2K “go”", ".md") == "said “go”"


def test_errors_are_dispatch_errors_and_value_errors():
    assert issubclass(QuoteTableError, QuotesError)
    assert issubclass(QuotesError, DispatchError) and issubclass(QuotesError, ValueError)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"])
def test_articles_in_common_encodings_are_read(tmp_path, encoding):
    text = "The café owner said: “Señor, we’re closed.”" if encoding != "latin-1" \
        else "The café owner said: «Señor, we are closed.»"
    path = tmp_path / "a.txt"
    path.write_bytes(text.encode(encoding))
    assert read_article(path) == text


def test_a_given_encoding_is_used_and_a_wrong_one_named(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes("Καλησπέρα".encode("iso-8859-7"))
    assert read_article(path, encoding="iso-8859-7") == "Καλησπέρα"
    with pytest.raises(QuotesError, match=r"a\.txt cannot be read as ascii"):
        read_article(path, encoding="ascii")


def test_text_neither_utf8_nor_windows_1252_is_refused(tmp_path):
    path = tmp_path / "odd.txt"
    path.write_bytes(b"caf\xe9 \x81")
    with pytest.raises(QuotesError, match=r"odd\.txt is not UTF-8 text .*--encoding"):
        read_article(path)


def test_binary_files_are_refused(tmp_path):
    path = tmp_path / "blob.txt"
    path.write_bytes(b"abc\0def")
    with pytest.raises(QuotesError, match=r"blob\.txt is a binary file"):
        read_article(path)


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


# --------------------------------------------------------------------------- web pages and documents

PAGE = Path(__file__).parent / "data" / "web" / "radio-calls-released.html"
"""A saved news page: navigation, a breaking-news banner, a "Most read" box, comments and a
footer around the story, each holding quotations of its own."""
PAGE_QUOTES = [
    ("We’re not sending anybody to that location", "a dispatcher"),
    ("We’re trying to clear out, but we’re blocked in.", "one officer on scene"),
    ("speak for themselves", "Its spokesperson"),
    ("Nobody came for an hour", "Marcus Bell"),
]
BOILERPLATE = ["We will rebuild", "Journalism you can trust.", "Subscribe for $1",
               "Best night of my life", "they never showed up at all.", "we answer every call."]


def test_a_saved_news_page_gives_only_the_quotes_of_its_story():
    quotes = load_quotes([PAGE])
    assert [(q.text, q.attributed_to) for q in quotes] == PAGE_QUOTES
    assert not {q.text for q in quotes} & set(BOILERPLATE)
    page = PAGE.read_text(encoding="utf-8")
    assert all(text in page for text in BOILERPLATE)  # the page does hold them


def test_a_saved_news_page_gives_its_headline_byline_and_date():
    article = read_article_meta(PAGE)
    assert (article.title, article.author, article.date) == (
        "Radio calls show dispatchers held units back", "Dana Whitfield", "2024-03-14")
    assert article.source == str(PAGE)
    assert article.text.startswith("Recordings of the county’s police radio channel")
    rows = quotes_to_rows(load_quotes([PAGE]))
    assert {(r["article_author"], r["article_date"]) for r in rows} == {("Dana Whitfield",
                                                                         "2024-03-14")}


def test_a_page_that_states_no_date_gets_none_not_its_copyright_year(tmp_path):
    page = tmp_path / "fire.html"
    page.write_text("<html><body><article><h1>Fire</h1><p>The chief said on Tuesday that “we "
                    "answer every call, day and night, whatever it takes,” as the blaze in the "
                    "old warehouse district burned on into the evening.</p></article>"
                    "<footer>© 2024 The Harbor Ledger</footer></body></html>", encoding="utf-8")
    article = read_article_meta(page)
    assert (article.title, article.date) == ("Fire", "")
    assert [q.text for q in article_quotes(article)] == [
        "we answer every call, day and night, whatever it takes"]


def test_a_page_without_main_text_is_read_whole_with_a_warning(tmp_path, monkeypatch, caplog):
    import trafilatura

    monkeypatch.setattr(trafilatura, "bare_extraction", lambda *args, **kwargs: None)
    page = tmp_path / "bare.html"
    page.write_text("<p>He said “clear out now.”</p><footer>“Journalism you can trust.”</footer>",
                    encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="pipeline.articles"):
        quotes = load_quotes([page])
    assert [q.text for q in quotes] == ["clear out now.", "Journalism you can trust."]
    assert "bare.html" in caplog.text and "no main text" in caplog.text


def test_a_page_is_read_in_the_charset_it_declares(tmp_path, caplog):
    page = tmp_path / "greek.html"
    page.write_bytes('<html><head><meta charset="iso-8859-7"></head><body><p>Ο αστυνομικός '
                     'είπε: «Καθαρίστε τον δρόμο τώρα».</p></body></html>'.encode("iso-8859-7"))
    with caplog.at_level(logging.WARNING, logger="pipeline.articles"):
        (quote,) = load_quotes([page])
    assert quote.text == "Καθαρίστε τον δρόμο τώρα"
    assert "Windows-1252" not in caplog.text


def test_a_docx_article_is_read_by_its_paragraphs(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("Dispatchers “held units back”", style="Title")
    document.add_paragraph("The dispatcher said, “We’re not sending anybody to that location.”")
    document.sections[0].footer.paragraphs[0].text = "“Journalism you can trust.”"
    path = tmp_path / "story.docx"
    document.save(path)
    article = read_article_meta(path)
    assert article.title == "Dispatchers “held units back”"
    assert [(q.quote_id, q.text, q.attributed_to) for q in load_quotes([path])] == [
        ("story:1", "We’re not sending anybody to that location.", "the dispatcher")]


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
    assert "segments.csv: not a quotes table" in caplog.text and "a.txt" in caplog.text
    assert "manifest.json: not a quotes table" in caplog.text


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


# --------------------------------------------------------------------------- property-based

_MARKS = st.sampled_from(["“", "”", "\"", "„", "«", "»", "‘", "’", "'", ""])
_GAPS = st.sampled_from(["", " ", "  ", "\t", "\n", "\n\n", " , ", ",", "\u00a0"])
_WORDS = st.sampled_from([
    "said", "says", "told", "radioed", "went on", "according to", "from", "the", "a", "One",
    "dispatcher", "officer", "she", "he", "Beat 833", "We are clear", "then", "and", "In",
    "called the", "on the channel", "x"])
_PUNCT = st.sampled_from(["", ",", ".", "?", "!", "—", "-", ":", ";", "…", "...", "[", "]"])
_PHRASE = st.lists(st.tuples(_WORDS, _PUNCT, _GAPS).map("".join), max_size=5).map(" ".join)
_SENTENCE = st.tuples(_PHRASE, _GAPS, _MARKS, _PHRASE, _PUNCT, _MARKS, _GAPS, _PHRASE,
                      _PUNCT).map("".join)
ARTICLE_LIKE = st.one_of(
    st.lists(st.tuples(_SENTENCE, _GAPS).map("".join), min_size=1, max_size=4).map("".join),
    st.text(alphabet=st.sampled_from(list("“”\"„«»‘’' \n\t,.:;…[]—-?!saidtheofAB\u00a0")),
            max_size=60))
"""Text built of quotation marks, spaces, punctuation and attribution words."""

_JOIN = r"\s*\n\s*[\u201c\u201e\u00ab\"]\s*"
"""What joins the paragraphs of a quote that runs over several."""


def _occurs_at_start(quote, source: str) -> bool:
    """Whether the quote's text is the source's text from its ``start_char`` on, allowing
    for the paragraph breaks and reopening marks a multi-paragraph quote leaves out."""
    body = "".join(f"(?: |{_JOIN})" if c == " " else re.escape(c) for c in quote.text)
    return re.compile(rf"(?:{_JOIN})*\s*{body}").match(source, quote.start_char) is not None


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(ARTICLE_LIKE)
@example("“We are clear,”  said “Beat 833” on the channel.")
@example("“”“”“”“said,” \xa0said")
@example("“\n“said")
def test_the_extractor_never_raises_and_quotes_only_the_source(text):
    for quote in extract_quotes(text, "fuzz.txt"):
        assert quote.text and _occurs_at_start(quote, text), (quote, text)
