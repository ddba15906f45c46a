"""Reading articles: web pages by their main text (headline, byline, date), Markdown,
.docx, common encodings, refused binaries, and escape sequences taken out whatever the form."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pipeline.articles import QuotesError, article_text, clean_text, read_article, read_article_meta
from pipeline.extract import extract_quotes
from pipeline.quotes import article_quotes, load_quotes, quotes_to_rows


def test_html_and_markdown_articles():
    html = "<html><p>The dispatcher said, &ldquo;all units clear out.&rdquo;</p>" \
           "<script>var x = \"no\";</script><p>Next</p></html>"
    text = article_text(html, ".html")
    assert text == "The dispatcher said, “all units clear out.”\nNext"
    md = "The **chief** said: “see [the memo](http://x) now.”"
    assert extract_quotes(article_text(md, ".md"), "a.md")[0].text == "see the memo now."


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


def test_docstring_examples():
    """Every example in the module's docstrings holds."""
    import doctest

    from pipeline import articles

    result = doctest.testmod(articles)
    assert result.attempted and not result.failed
