"""Extracting quotes: every quotation in both seed articles, by hand; typographic forms;
omissions and insertions; a property-based check of the extractor."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline.extract import extract_quotes, split_parts

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


def test_docstring_examples():
    """Every example in the module's docstrings holds."""
    import doctest

    from pipeline import extract

    result = doctest.testmod(extract)
    assert result.attempted and not result.failed


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
