"""Faults a careless or hostile user meets: each case is one thing that must not give a
confident wrong answer, a traceback, or text that repaints the terminal.

Cases that need no model call the library directly; a real model is used only where the
claim is about what it hears (those are marked slow).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from pipeline import models
from pipeline.errors import DispatchError
from pipeline.quotes import QuotesError, QuoteTableError, extract_quotes, load_quotes, quotes_to_rows

DATA = Path(__file__).parent / "data"

# --------------------------------------------------------------------------- articles and quotes


def test_two_spaces_after_a_closing_mark_do_not_abort_the_run():
    text = "“We are clear,”  said “Beat 833” on the channel."
    quotes = extract_quotes(text, "typo.txt")
    assert [q.text for q in quotes] == ["We are clear", "Beat 833"]


ESCAPES = {
    "colour": "\x1b[31;1m",
    "window title": "\x1b]0;all quotes confirmed\x07",
    "erase line": "\x1b[2K",
    "cursor up": "\x1b[1A",
    "bell and backspace": "\x07\x08",
}


@pytest.mark.parametrize("sequence", ESCAPES.values(), ids=ESCAPES.keys())
def test_escape_sequences_in_an_article_never_reach_the_quotes(tmp_path, sequence):
    article = tmp_path / "hostile.txt"
    article.write_text(f"The dispatcher{sequence} said, “all units{sequence} clear out now.”"
                       f"{sequence}\x1b[0m", encoding="utf-8")
    (quote,) = load_quotes([article])
    for value in quotes_to_rows([quote])[0].values():
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", str(value)), value
    assert quote.text == "all units clear out now."
    assert quote.attributed_to == "the dispatcher"


def test_articles_sharing_a_stem_get_different_quote_ids(tmp_path):
    (tmp_path / "inject.html").write_text("<p>He said “clear out now.”</p>", encoding="utf-8")
    (tmp_path / "inject.txt").write_text("He said “stand by please.”", encoding="utf-8")
    quotes = load_quotes([tmp_path / "inject.html", tmp_path / "inject.txt"])
    assert [q.quote_id for q in quotes] == ["inject.html:1", "inject.txt:1"]


def test_ids_stay_as_they_were_where_stems_do_not_clash():
    ids = [q.quote_id for q in load_quotes([DATA / "articles"])]
    assert ids[0] == "night-the-police-walked-away:1"
    assert "stand-down-or-stand-by:1" in ids and len(set(ids)) == len(ids)


def test_duplicate_quote_ids_in_a_table_are_refused_naming_the_rows(tmp_path):
    table = tmp_path / "quotes.csv"
    table.write_text("quote_id,source,text\n"
                     "Q1,memo,all units clear out\n"
                     "Q2,memo,we are blocked in\n"
                     "Q1,memo,stand down now\n", encoding="utf-8")
    with pytest.raises(QuoteTableError, match=r"quotes\.csv: .*'Q1' \(rows 1, 3\)") as err:
        load_quotes([table])
    assert isinstance(err.value, DispatchError) and "\n" not in str(err.value)


def test_the_same_id_from_two_tables_is_refused(tmp_path):
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text("quote_id,source,text\nQ1,memo,all units clear out\n")
    with pytest.raises(QuotesError, match=r"'Q1' \(memo\)"):
        load_quotes([tmp_path])


def test_a_latin1_article_is_read_with_a_warning_naming_it(tmp_path, caplog):
    article = tmp_path / "cafe.txt"
    article.write_bytes("The café owner said, “we saw él leave.”".encode("cp1252"))
    with caplog.at_level(logging.WARNING, logger="pipeline.quotes"):
        (quote,) = load_quotes([article])
    assert quote.text == "we saw él leave."
    assert "cafe.txt" in caplog.text and "Windows-1252" in caplog.text


def test_an_undecodable_article_names_the_file_and_the_way_out(tmp_path):
    article = tmp_path / "mystery.txt"
    article.write_bytes(b"He said \x81\x8d\x90 clear out")
    with pytest.raises(QuotesError, match=r"mystery\.txt is not UTF-8 .*--encoding") as err:
        load_quotes([article])
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name,content", [
    ("report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"),
    ("report.docx", b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00"),
])
def test_a_pdf_or_word_file_is_refused_naming_the_file(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(QuotesError, match=rf"{re.escape(name)} is a .* document, not text"):
        load_quotes([path])


# --------------------------------------------------------------------------- cached models


@pytest.fixture
def small_conversion(tmp_path, monkeypatch):
    """A temporary cache, and a conversion that writes a small checkpoint instead of the
    real weights (the real conversion: test_models); counts conversions."""
    monkeypatch.setenv("DISPATCH_CACHE", str(tmp_path / "cache"))
    import torch

    calls = []
    monkeypatch.setattr(models, "read_ct2_variables", lambda path: calls.append(path) or {})
    monkeypatch.setattr(models, "ct2_dimensions", lambda variables: {"n_mels": 80})
    monkeypatch.setattr(models, "ct2_to_openai_state",
                        lambda variables, dims: {"w": torch.arange(64, dtype=torch.float16)})
    return calls


def _flip_a_byte(path: Path, offset: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x01]))


def test_a_flipped_byte_in_a_cached_checkpoint_is_detected_and_rebuilt(small_conversion, caplog):
    path = models.openai_checkpoint("tiny.en")
    good = path.read_bytes()
    assert models.recorded_sha256(path) == models.file_sha256(path)
    _flip_a_byte(path, len(good) // 2)
    with caplog.at_level(logging.WARNING, logger="pipeline.models"):
        assert models.openai_checkpoint("tiny.en") == path
    assert "does not match its recorded SHA-256" in caplog.text
    assert path.read_bytes() == good
    assert len(small_conversion) == 2


def test_a_changed_checkpoint_given_by_path_is_refused(small_conversion, tmp_path):
    cached = models.openai_checkpoint("tiny.en")
    mine = tmp_path / "mine.pt"
    mine.write_bytes(cached.read_bytes())
    models.digest_path(mine).write_text(models.digest_path(cached).read_text())
    assert models.openai_checkpoint(str(mine)) == mine
    _flip_a_byte(mine, 100)
    with pytest.raises(models.ModelError, match=r"checksum mismatch for .*mine\.pt") as err:
        models.openai_checkpoint(str(mine))
    assert isinstance(err.value, DispatchError) and "\n" not in str(err.value)
