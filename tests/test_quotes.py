"""Extracting quotes: every quotation in both seed articles, by hand; typographic forms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.quotes import (
    QuoteTableError,
    article_text,
    extract_quotes,
    load_quotes,
    quotes_to_rows,
    read_quote_table,
    split_parts,
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
                             "too_short", "start_char", "parts"]
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
