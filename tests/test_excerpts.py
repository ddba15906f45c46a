"""Quotes cut short of what was said in one breath, on hand-made transcripts."""

import pytest

from pipeline.excerpts import ExcerptOptions, cut_short
from pipeline.records import Segment, Transcript, Word


def transcript(*segments: str, pause_after: int = -1, unclear: int = -1) -> Transcript:
    """Segments of words 0.4 s apart (0.05 s gaps); a 0.5 s pause after word
    ``pause_after``; word ``unclear`` heard at probability 0.2."""
    segs, t, n = [], 0.0, 0
    for k, text in enumerate(segments):
        words = []
        for w in text.split():
            words.append(Word(round(t, 3), round(t + 0.35, 3), w, 0.2 if n == unclear else 0.9))
            t += 0.9 if n == pause_after else 0.4
            n += 1
        segs.append(Segment(k, words[0].start, words[-1].end, text, words))
        t += 2.0
    return Transcript("a.wav", "", t, "base", "", segs)


def heard_cut(t: Transcript, start: int, end: int):
    """``cut_short`` for a quote of exactly the words heard at ``start:end``."""
    return cut_short(t, start, end, [w.word for w in t.words[start:end]])


CANINE = "Eight thirty-three, do you want a canine unit?"


@pytest.mark.parametrize("said, start, end, left_off", [
    (CANINE, 0, 7, ["unit?"]),                      # last word left off
    (CANINE, 1, 8, ["Eight"]),                      # first word of a call sign left off
    ("We're not sending anybody to that location.", 2, 7, ["We're", "not"]),
    ("Copy, we are en route now. Over.", 1, 4, ["route", "now."]),
    ("Copy, we are en route now. Over.", 1, 3, None),  # three words short: an excerpt
])
def test_cut_short_phrases(said, start, end, left_off):
    cut = cut_short(transcript(said), start, end, said.split()[start:end])
    if left_off is None:
        assert cut is None
    else:
        assert cut is not None and cut.words == left_off


@pytest.mark.parametrize("said, start, end", [
    (CANINE, 2, 8),                                 # after the call sign's comma
    (CANINE, 0, 8),                                 # the whole line
    ("Shots fired at the corner, send everybody.", 0, 5),  # stops at a comma
    ("Medic two is en route to the scene now.", 0, 5),     # four words short of the end
])
def test_excerpts_at_boundaries_stand(said, start, end):
    assert cut_short(transcript(said), start, end, said.split()[start:end]) is None


def test_a_pause_is_a_boundary():
    said = "do you want a canine unit"  # no punctuation but the next line's
    t = transcript(said + " out there.", pause_after=5)
    assert heard_cut(t, 0, 6) is None
    assert heard_cut(t, 0, 5).words == ["unit"]


def test_the_end_of_a_transmission_is_a_boundary():
    t = transcript("do you want a canine unit", "Ten four.")
    assert heard_cut(t, 0, 5).words == ["unit"]
    assert heard_cut(t, 0, 6) is None


def test_unclear_or_filler_words_are_no_evidence():
    assert heard_cut(transcript(CANINE, unclear=7), 0, 7) is None
    assert heard_cut(transcript("Send a unit to the corner uh."), 0, 6) is None


def test_no_punctuation_no_rule():
    assert heard_cut(transcript("eight thirty three do you want a canine unit"), 0, 7) is None


def test_more_than_max_words_is_an_excerpt():
    said = "We're not sending anybody to that location."
    assert cut_short(transcript(said), 2, 7, said.split()[2:7]) is not None
    assert cut_short(transcript(said), 2, 7, said.split()[2:7], ExcerptOptions(max_words=1)) is None


@pytest.mark.parametrize("quoted, cut", [
    ("thirty-three, we're trying to clear out.", True),   # a cut call sign heard as one word
    ("Eight thirty-three, we're trying to clear out.", False),
    ("eight, thirty-three we're trying to clear out.", False),  # not the heard word's edge
])
def test_a_quote_that_cuts_a_heard_number_is_cut_short(quoted, cut):
    t = transcript("833, we're trying to clear out.")
    found = cut_short(t, 0, 6, quoted.split())
    assert (found is not None) == cut
    if cut:
        assert found.difference() == 'audio says "833,", the quote only "thirty-three," of it'
