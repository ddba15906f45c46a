"""Normalising words: tables of written forms and what they become."""

from __future__ import annotations

import pytest

from pipeline import spoken
from pipeline import text as textmod
from pipeline.records import Word
from pipeline.spoken import digit_variants, is_name, render_numbers, same_sound
from pipeline.text import (
    contraction_of,
    expand_contraction,
    is_filler,
    name_heard_as_words,
    normalize,
    phonetic_key,
    same_form,
    tokens_from_words,
)

NORMALIZE_CASES = [
    # (written, normalised token texts)
    ("We’re not responding", ["we're", "not", "responding"]),
    ("We're not responding", ["we're", "not", "responding"]),
    ("hit‑and‑run", ["hit", "and", "run"]),          # U+2011
    ("hit‐and‐run", ["hit", "and", "run"]),          # U+2010
    ("hit-and-run", ["hit", "and", "run"]),
    ("ten four", ["10", "4"]),
    ("Ten-four.", ["10", "4"]),
    ("10-4", ["10", "4"]),
    ("10 4", ["10", "4"]),
    ("10‑4,", ["10", "4"]),
    ("twenty five", ["25"]),
    ("twenty-five", ["25"]),
    ("two hundred", ["200"]),
    ("1,000 agents", ["1000", "agents"]),
    ("unit 04", ["unit", "4"]),
    ("12:34:44", ["12", "34", "44"]),
    ("PER THE CHIEF", ["per", "the", "chief"]),
    ("(ICE) agents’ SUV", ["ice", "agents", "suv"]),
    ("Chicago’s South Side", ["chicago's", "south", "side"]),
    ("U.S. Border Patrol", ["us", "border", "patrol"]),
    ("uh, copy that", ["uh", "copy", "that"]),
    ("clear out—we’re", ["clear", "out", "we're"]),
    ("blocked in… we’re", ["blocked", "in", "we're"]),
    ("— …", []),
    ("eight thirty-three", ["8", "33"]),  # a call sign, as said
    ("833.", ["8", "33"]),  # as Whisper writes it: the same tokens
    ("8-12", ["8", "12"]),
    ("300 block", ["300", "block"]),  # round hundreds stay whole
    ("three oh five", ["3", "0", "5"]),  # a time, as said
    ("one o one", ["1", "0", "1"]),
    ("uh oh, ten four", ["uh", "oh", "10", "4"]),  # "oh" only between digits
    ("oh nine hundred", ["oh", "900"]),
    ("3:05 p.m.", ["3", "0", "5", "pm"]),  # minutes keep their zero, as said
    ("unit 4-05", ["unit", "4", "0", "5"]),
    ("0305 hours", ["305", "hours"]),  # a leading zero is not said
]


@pytest.mark.parametrize("written,expected", NORMALIZE_CASES)
def test_normalize(written, expected):
    assert [t.text for t in normalize(written)] == expected


CHANGE_CASES = [
    # (written, token position, a change that must be recorded)
    ("We’re", 0, "apostrophe U+2019"),
    ("We’re", 0, "lowercase"),
    ("off‑mic", 0, "hyphen U+2011"),
    ("off‐mic", 0, "hyphen U+2010"),
    ("off-mic", 0, "hyphen split"),
    ("ten four", 0, "number 'ten' -> '10'"),
    ("twenty five", 0, "number 'twenty five' -> '25'"),
    ("1,000", 0, "thousands separator"),
    ("there.", 0, "punctuation"),
]


@pytest.mark.parametrize("written,position,change", CHANGE_CASES)
def test_normalize_explains_changes(written, position, change):
    assert change in normalize(written)[position].changes


def test_token_keeps_original_and_word_index():
    tokens = normalize("Clear out, twenty five 10‑4")
    assert [(t.text, t.original, t.index, t.span) for t in tokens] == [
        ("clear", "Clear", 0, 1), ("out", "out,", 1, 1), ("25", "twenty five", 2, 2),
        ("10", "10‑4", 4, 1), ("4", "10‑4", 4, 1)]


def test_tokens_from_words_index_points_at_words():
    words = [Word(0, 0.5, " Ten", 0.9), Word(0.5, 1, "four,", 0.9), Word(1, 1.5, "10-4", 0.9),
             Word(1.5, 2, "...", 0.9), Word(2, 2.5, "Copy", 0.9)]
    tokens = tokens_from_words(words)
    assert [(t.text, t.index) for t in tokens] == [
        ("10", 0), ("4", 1), ("10", 2), ("4", 2), ("copy", 4)]


@pytest.mark.parametrize("word,expected", [
    ("uh", True), ("Um,", True), ("hmm", True), ("copy", False), ("a", False)])
def test_is_filler(word, expected):
    assert is_filler(word) is expected


SAME_FORM_CASES = [
    # (a, b, reason or None)
    (["we're"], ["we", "are"], "contraction"),
    (["we", "are"], ["we’re"], "apostrophe, contraction"),
    (["do", "not"], ["don't"], "contraction"),
    (["cannot"], ["can't"], "contraction"),
    (["ten", "four"], ["10-4"], "number format"),
    (["10", "4"], ["ten-four"], "number format"),
    (["uh", "clear", "out"], ["clear", "out"], "filler"),
    (["anybody"], ["any", "body"], "spacing"),
    (["semi‑automatic"], ["semiautomatic"], "hyphenation, spacing"),
    (["Clear"], ["clear"], "case"),
    (["clear", "out"], ["clear", "out"], "same"),
    (["clear", "out"], ["clear", "up"], None),
    (["we're", "not"], ["we", "are", "now"], None),
    (["ten"], ["eleven"], None),
    (["three", "oh", "five."], ["305"], "number format, punctuation, spacing"),
    (["3.5"], ["35"], None),  # a decimal point is a word's worth of difference
    (["toward"], ["towards"], "spelling"),
    (["OK,"], ["okay"], "case, punctuation, spelling"),
    (["three", "oh", "five"], ["three", "oh", "nine"], None),
    (["3:05"], ["three", "oh", "five"], "number format"),
    (["3:05"], ["three", "five"], None),
]


@pytest.mark.parametrize("a,b,reason", SAME_FORM_CASES)
def test_same_form(a, b, reason):
    assert same_form(a, b) == reason


@pytest.mark.parametrize("word,expanded", [
    ("we're", ("we", "are")), ("didn't", ("did", "not")), ("won't", ("will", "not")),
    ("it's", ("it", "is")), ("chicago's", ("chicago's",)), ("we'll", ("we", "will"))])
def test_expand_contraction(word, expanded):
    assert expand_contraction(word) == expanded


@pytest.mark.parametrize("first,second,short", [
    ("we", "are", "we're"), ("did", "not", "didn't"), ("will", "not", "won't"),
    ("it", "is", "it's"), ("agents", "is", None)])
def test_contraction_of(first, second, short):
    assert contraction_of(first, second) == short


@pytest.mark.parametrize("a,b,equal", [
    ("respond", "ruspond", True), ("chief", "cheif", True), ("trash", "price", False)])
def test_phonetic_key(a, b, equal):
    assert (phonetic_key(a) == phonetic_key(b)) is equal


@pytest.mark.parametrize("words,expected", [
    ("Eight twelve, we're on the way.", ["812,", "we're", "on", "the", "way."]),
    ("Ten four, eight thirty-three.", ["10-4,", "833."]),
    ("Units in the eighth district", ["Units", "in", "the", "8th", "district"]),
    ("one of them", ["one", "of", "them"]),
    ("fifty-one hundred South Kedzie.", ["5100", "South", "Kedzie."]),
    ("Nine thirty-three, show us", ["933,", "show", "us"]),
    ("for the hit\u2011and\u2011run, we\u2019re", ["for", "the", "hit-and-run,", "we're"]),
    ("copy 10\u20134", ["copy", "10-4"]),
])
def test_render_writes_numbers_as_whisper_does(words, expected):
    assert render_numbers(words.split())[0] == expected


@pytest.mark.parametrize("a,b,same", [
    ("going too.", "going to", True),
    ("ten for", "ten four", True),
    ("not responding", "now responding", False),
    ("to", "to", False),  # identical is not a homophone pair
])
def test_homophones_are_no_alternative(a, b, same):
    assert same_sound(a.split(), b.split()) is same


@pytest.mark.parametrize("quote,name", [
    ("We'll take Lake Street at Laramie.", {2, 3, 5}),
    ("Ten four. Suspects are two males, I think.", set()),
    ("Eight twelve, copy, Sixty-third and Pulaski.", {5}),
    ("Going to Mount Sinai: Transport now.", {2, 3}),
])
def test_names_are_capitalised_words_inside_a_sentence(quote, name):
    words = quote.split()
    assert {w for w in range(len(words)) if is_name(words, w)} == name


@pytest.mark.parametrize("quote,span,heard,unknown", [
    ("Block Lake Street at Laramie for me.", (3, 5), "that layering me", True),
    ("Block Lake Street at Laramie for me.", (3, 5), "at Larry", False),  # another name
    ("And I'm Sheila in Texas, from Chicago.", (3, 5), "in Dallas", False),
    ("It radio hack B1, Charlie, with the cover.", (1, 5), "was", False),  # content words too
    ("Okay. still There's no problem.", (1, 3), "", False),
])
def test_a_name_heard_as_common_words_is_unknown_to_the_models(quote, span, heard, unknown):
    assert name_heard_as_words(quote.split(), *span, heard.split()) is unknown


@pytest.mark.parametrize("token,variants", [
    (" 8", [" 0", " 1", " 2", " 3", " 4", " 5", " 6", " 7", " 9"]),
    ("43", ["03", "13", "23", "33", "53", "63", "73", "83", "93",
            "40", "41", "42", "44", "45", "46", "47", "48", "49"]),
])
def test_digit_variants(token, variants):
    assert digit_variants(token) == variants


@pytest.mark.parametrize("module", ["pipeline.text", "pipeline.spoken", "pipeline.records",
                                    "pipeline.adjudicate.candidates", "pipeline.adjudicate.verdict",
                                    "pipeline.adjudicate.spans", "pipeline.assemble",
                                    "pipeline.excerpts"])
def test_docstring_examples(module):
    """Every example in the module's docstrings holds."""
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted and not result.failed


# Real dispatch phrasings: (as published, as said) pairs that differ only in form, and pairs
# that differ in words.
RADIO_FORMS = [
    ("Units respond to 79th St.", "units respond to seventy-ninth street"),
    ("Copy, 10-4.", "copy ten four"),
    ("Copy, 104.", "copy ten four"),
    ("Adam 12, go ahead", "A 12 go ahead"),
    ("Lincoln Boy one", "L B one"),
    ("southbound on Halsted Ave.", "southbound on Halsted avenue"),
    ("Sgt. Ross is on scene", "sergeant Ross is on scene"),
    ("She's in apt. 4", "she's in apartment four"),
    ("headed NB on the Dan Ryan", "headed northbound on the Dan Ryan"),
    ("the offending vehicle crashed", "the offedning vehicle crashed"),
    ("shots fired at the location", "shots fired at the locaiton"),
    ("Eight thirty-three, show us going", "833 show us going"),
    ("LOS time at Canary is 23 37", "LOS time at Canary is two three three seven"),
    ("twenty-2 hundred West Madison", "twenty-two hundred West Madison"),
]
RADIO_WORDS = [
    ("Units respond to 79th St.", "units respond to 78th street"),
    ("hold on, I've got the chief", "hold in I've got the chief"),
    ("Copy, 10-4.", "copy ten eight"),
    ("Adam 12, go ahead", "Boy 12 go ahead"),
    ("fled on foot westbound", "fled on foot eastbound"),
    ("ran him off the road", "ran him officer the road"),
]


@pytest.mark.parametrize("published,said", RADIO_FORMS)
def test_radio_words_in_another_form_are_forms(published, said):
    a, b = published.split(), said.split()
    assert same_form(a, b) or spoken.same_digits(a, b)


@pytest.mark.parametrize("published,said", RADIO_WORDS)
def test_radio_words_that_differ_are_words(published, said):
    a, b = published.split(), said.split()
    assert not same_form(a, b) and not spoken.same_digits(a, b)


def test_an_agency_glossary_extends_the_shipped_one(tmp_path):
    agency = tmp_path / "agency.csv"
    agency.write_text("# our unit names\nkind,written,said,source\nunit,Squad 1,rescue one,ours\n")
    assert not same_form("Squad 1 responding".split(), "rescue one responding".split())
    try:
        textmod.use_glossary(agency)
        assert same_form("Squad 1 responding".split(), "rescue one responding".split())
        assert any(e.source == "ours" for e in textmod.load_glossary(agency))
    finally:
        textmod.use_glossary()
    assert not same_form("Squad 1 responding".split(), "rescue one responding".split())
