"""Locating quotes in synthetic transcripts built from word lists."""

from __future__ import annotations

import pytest

from pipeline.align import align
from pipeline.locate import WordIndex
from pipeline.records import Quote, Segment, Transcript, Word, WordStatus
from pipeline.text import normalize, tokens_from_words

CHATTER = [
    "copy that unit twelve show me en route to the north side",
    "engine four responding to a kitchen fire on main street",
    "can you repeat the plate number for the silver sedan",
    "ten four we are clear at the hospital and back in service",
    "traffic stop at fifth and pine with a grey pickup truck",
    "medic nine requesting a supervisor at the scene of the crash",
]
"""Radio chatter with no quote in it."""

QUOTE = "Per the chief of patrol, all units clear out from there. We’re not sending anybody to " \
        "that location."


def transcript(name: str, transmissions: list[str], gap: float = 3.0) -> Transcript:
    """A transcript whose segments are the given transmissions, 0.4 s a word."""
    segments, t = [], 0.0
    for k, text in enumerate(transmissions):
        words = [Word(t + 0.4 * i, t + 0.4 * i + 0.35, w, 0.6) for i, w in enumerate(text.split())]
        end = t + 0.4 * len(words)
        segments.append(Segment(k, t, end, text, words, transmission_id=k))
        t = end + gap
    return Transcript(name, "0" * 64, t, "tiny.en", "faster-whisper", segments)


def locate(heard: str, quote: str = QUOTE, extra: list[str] | None = None):
    """Best candidate for a quote in a transcript of chatter around ``heard``."""
    t = transcript("call.wav", CHATTER[:3] + [heard] + CHATTER[3:] + (extra or []))
    return WordIndex([t]).locate(Quote("q:1", "a.txt", quote, [quote]))[0]


HEARD = [
    # (case, heard transmission, minimum score)
    ("exact", "per the chief of patrol all units clear out from there we're not sending anybody "
              "to that location", 0.99),
    ("30% substituted", "per the cheap of patrol all unit clear out from bear we're not sending "
                        "any buddy to that vacation", 0.6),
    ("50% substituted", "for the cheif of petrol all you its clear how from bear were knot "
                        "sending anybody to the location", 0.4),
    ("an extra word", "per the chief of patrol uh all units clear out from there okay we're not "
                      "sending anybody to that location", 0.95),
    ("a dropped word", "per the chief of patrol all units clear out from there we're not sending "
                       "anybody to location", 0.9),
    ("other forms", "per the chief of patrol all units clear out from there we are not sending "
                    "any body to that location", 0.99),
]


@pytest.mark.parametrize("case,heard,minimum", HEARD, ids=[c[0] for c in HEARD])
def test_found_through_errors(case, heard, minimum):
    found = locate(heard)
    assert found, case
    best = found[0]
    assert best.score >= minimum
    assert best.recording == "call.wav"
    start = sum(len(c.split()) for c in CHATTER[:3])
    assert start <= best.word_start <= start + 2
    assert best.segment_ids == (3,)


def test_not_present_is_not_found():
    t = transcript("call.wav", CHATTER * 20)
    index = WordIndex([t])
    assert index.locate(Quote("q:1", "a.txt", QUOTE, [QUOTE])) == [[]]


def test_long_written_statement_does_not_match_chatter():
    memo = ("To clarify misinformation currently circulating, for incidents involving federal "
            "immigration enforcement, CPD supervisors will respond to the scene and determine "
            "the appropriate course of action in accordance with City law and to maintain "
            "public safety and traffic control")
    chatter = CHATTER + ["units respond to the scene of the traffic crash on the north side",
                         "supervisor will respond copy the course of action"]
    index = WordIndex([transcript("call.wav", chatter * 10)])
    assert index.locate(Quote("q:1", "a.txt", memo, [memo])) == [[]]


def test_split_across_transmissions():
    first, second = "per the chief of patrol all units clear out from there", \
        "we're not sending anybody to that location"
    found = locate(first, extra=[second])
    # the second half is far away: the best region starts in the first half's transmission
    assert found[0].segment_ids[0] == 3
    t = transcript("call.wav", CHATTER[:2] + [first, second] + CHATTER[2:], gap=1.0)
    best = WordIndex([t]).locate(Quote("q:1", "a.txt", QUOTE, [QUOTE]))[0][0]
    assert best.segment_ids == (2, 3)
    assert best.score > 0.95


def test_ellipsis_parts_from_non_contiguous_places():
    parts = ["Younger male Hispanic, wearing all black", "wanted for the hit-and-run"]
    t = transcript("call.wav", [CHATTER[0], "younger male hispanic wearing all black",
                                CHATTER[1], CHATTER[2], "wanted for the hit and run", CHATTER[3]])
    found = WordIndex([t]).locate(Quote("q:1", "a.txt", " … ".join(parts), parts))
    assert [len(p) > 0 for p in found] == [True, True]
    first, second = found[0][0], found[1][0]
    assert (first.segment_ids, second.segment_ids) == ((1,), (4,))
    assert second.start_s > first.end_s
    assert (first.part_index, second.part_index) == (0, 1)


def test_context_before_and_after_a_quote_cut_short():
    t = transcript("call.wav", [CHATTER[0], "okay per the chief of patrol all units clear out "
                                            "from there copy"])
    quote = "all units clear out from there"
    best = WordIndex([t]).locate(Quote("q:1", "a.txt", quote, [quote]))[0][0]
    assert best.context_before == "okay per the chief of patrol"
    assert best.context_after == "copy"


def test_recording_restricts_the_search():
    a = transcript("a.wav", CHATTER)
    b = transcript("b.wav", CHATTER[:2] + [QUOTE.lower()])
    index = WordIndex([a, b])
    assert index.locate(Quote("q", "s", QUOTE, [QUOTE], recording="a.wav")) == [[]]
    assert index.locate(Quote("q", "s", QUOTE, [QUOTE], recording="b"))[0][0].recording == "b.wav"


ALIGN_CASES = [
    # (quote, heard, expected (op, quote words, heard words))
    ("we're not sending", "we are not sending",
     [(WordStatus.FORM, ["we're"], ["we", "are"]), ("match", ["not"], ["not"]),
      ("match", ["sending"], ["sending"])]),
    ("clear out now", "clear uh out now",
     [("match", ["clear"], ["clear"]), (WordStatus.FORM, [], ["uh"]), ("match", ["out"], ["out"]),
      ("match", ["now"], ["now"])]),
    ("ten four copy", "10-4 copy",
     [("match", ["10"], ["10"]), ("match", ["4"], ["4"]), ("match", ["copy"], ["copy"])]),
    ("all units clear out from there", "all units clear from there",
     [("match", ["all"], ["all"]), ("match", ["units"], ["units"]),
      ("match", ["clear"], ["clear"]), (WordStatus.ADDED, ["out"], []), ("match", ["from"], ["from"]),
      ("match", ["there"], ["there"])]),
    ("all units clear from there", "all units clear right out from there",
     [("match", ["all"], ["all"]), ("match", ["units"], ["units"]),
      ("match", ["clear"], ["clear"]), (WordStatus.MISSING, [], ["right"]), (WordStatus.MISSING, [], ["out"]),
      ("match", ["from"], ["from"]), ("match", ["there"], ["there"])]),
    ("the chief of patrol", "the cheif of patrol",
     [("match", ["the"], ["the"]), ("changed", ["chief"], ["cheif"]),
      ("match", ["of"], ["of"]), ("match", ["patrol"], ["patrol"])]),
    ("we are not sending", "we're not sending",
     [(WordStatus.FORM, ["we", "are"], ["we're"]), ("match", ["not"], ["not"]),
      ("match", ["sending"], ["sending"])]),
    ("any body there", "anybody there",
     [(WordStatus.FORM, ["any", "body"], ["anybody"]), ("match", ["there"], ["there"])]),
    ("anybody there", "any body there",
     [(WordStatus.FORM, ["anybody"], ["any", "body"]), ("match", ["there"], ["there"])]),
]


@pytest.mark.parametrize("quote,heard,expected", ALIGN_CASES)
def test_align_ops(quote, heard, expected):
    q, h = normalize(quote), normalize(heard)
    _, ops = align(q, h)
    got = [(op.op, [q[i].text for i in op.quote_tokens], [h[j].text for j in op.heard_tokens])
           for op in ops]
    assert got == expected


def test_align_reports_unheard_quote_words_at_the_ends():
    q = normalize("he said that all units clear out")
    score, ops = align(q, normalize("copy all units clear out"))
    assert [op.op for op in ops[:3]] == [WordStatus.ADDED] * 3
    assert 0.5 < score < 1.0


SPELLED = [
    # transmissions where spelled numbers join (or not) across the edges of a stretch
    "unit twenty five respond to the two hundred block ten four",
    "twenty-five hundred copy fifty one hundred uh thirty three and one two",
    "copy 10-4 twenty twenty five two-hundred, ... nine one one",
]


@pytest.mark.parametrize("heard", SPELLED)
def test_stretches_are_their_words_normalised(heard):
    # the index slices most stretches from words normalised once; every stretch must be
    # what normalising its own words gives, as spelled numbers join only inside it
    t = transcript("call.wav", CHATTER[:1] + [heard])
    index = WordIndex([t])
    words = t.words
    for lo in range(len(words)):
        for hi in range(lo + 1, len(words) + 1):
            want = tokens_from_words(words[lo:hi], start=lo)
            stretch = index._stretch(index.docs[0], lo, hi)
            assert stretch.heard.texts == [x.text for x in want]
            for a in range(len(want)):
                assert stretch.cut(words, a, len(want)) == want[a:]
                assert stretch.cut(words, 0, a + 1) == want[:a + 1]


@pytest.mark.parametrize("quote,heard,similar", [
    ("Eight twelve, we're turning around.", "It's well, we are turning around.", {"12": "well"}),
    ("Eight twelve, we're on the way.", "8th, well, we're on the way.", {"8": "8th", "12": "well"}),
    ("Ten four, eight thirty-three.", "Ten for, 833.", {"4": "for"}),
])
def test_a_number_heard_as_a_word_that_sounds_like_it_counts_in_part(quote, heard, similar):
    q, h = normalize(quote), normalize(heard)
    score, ops = align(q, h)
    changed = {q[op.quote_tokens[0]].text: h[op.heard_tokens[0]].text for op in ops if op.op == "changed"}
    assert changed == similar
    assert all(op.similarity == pytest.approx(0.8) for op in ops if op.op == "changed")
    assert score > 0.7


def test_a_number_heard_as_another_number_still_counts_for_nothing():
    score, ops = align(normalize("Eight twelve, copy."), normalize("Eight thirteen, copy."))
    assert [op.op for op in ops] == ["match", "missing", "added", "match"]
    assert score == pytest.approx(2 / 3)


# --- the calls of one talkgroup as one stream ------------------------------------------------

def _call(recording, text, talkgroup, at_s, system="metro"):
    """A trunk-recorder call's transcript: one transmission from 0.5 s, 0.4 s a word."""
    from datetime import datetime, timedelta, timezone

    from pipeline.records import CallInfo, Segment

    words = [Word(0.5 + 0.4 * i, 0.8 + 0.4 * i, w, 0.9) for i, w in enumerate(text.split())]
    began = datetime(2025, 10, 5, 2, 40, tzinfo=timezone.utc) + timedelta(seconds=at_s)
    call = CallInfo(recording, "trunk-recorder", began, system=system, talkgroup=talkgroup,
                    duration=words[-1].end + 0.5)
    return Transcript(recording, recording, call.duration, "tiny.en", "faster-whisper",
                      [Segment(0, 0.5, words[-1].end, text, words, transmission_id=0)], call=call)


EXCHANGE = [  # (recording, talkgroup, seconds after 02:40, what was said): a question, the answer
    ("q.wav", "3105", 0.0, "eight twelve what's your twenty"),
    ("other.wav", "3109", 3.0, "engine forty two on scene"),
    ("a.wav", "3105", 5.0, "seventy ninth and kedzie ten four"),
]


@pytest.mark.parametrize("quote, split, before, after", [
    ("What's your twenty? Seventy-ninth and Kedzie.", 3, "eight twelve", "ten four"),
    ("Eight twelve, what's your twenty? Seventy-ninth and Kedzie, ten-four.", 5, "", ""),
])
def test_a_quote_spanning_two_calls_of_one_talkgroup_is_found_across_them(quote, split, before,
                                                                          after):
    index = WordIndex([_call(r, text, tg, at) for r, tg, at, text in EXCHANGE])
    (best, *_), = index.locate(Quote("q1", "a.txt", quote))
    assert (best.recording, best.next_call.recording, best.score) == ("q.wav", "a.wav", 1.0)
    assert best.next_call.split_word == split  # the quoted words from there on are in a.wav
    # "twenty" ends 2.4 s into q.wav; a.wav starts 5 s after q.wav, its first word at 0.5 s
    assert best.next_call.call_gap_s == pytest.approx(3.1)
    assert (best.word_end, best.end_s, best.next_call.word_start) == (5, pytest.approx(2.4), 0)
    assert (best.context_before, best.next_call.context_after) == (before, after)


@pytest.mark.parametrize("talkgroups, system_b", [
    (("3105", "3109"), "metro"),   # another talkgroup
    (("", ""), "metro"),           # no talkgroup: each recording alone
    (("3105", "3105"), "county"),  # the same number on another system
])
def test_calls_that_are_not_one_stream_are_searched_alone(talkgroups, system_b):
    index = WordIndex([_call("q.wav", EXCHANGE[0][3], talkgroups[0], 0.0),
                       _call("a.wav", EXCHANGE[2][3], talkgroups[1], 5.0, system=system_b)])
    found = index.locate(Quote("q1", "a.txt", "What's your twenty? Seventy-ninth and Kedzie."))[0]
    assert all(r.next_call is None for r in found)
    assert found[0].score < 1.0


def test_a_quote_inside_one_call_stays_in_it():
    index = WordIndex([_call(r, text, tg, at) for r, tg, at, text in EXCHANGE])
    (best, *_), = index.locate(Quote("q1", "a.txt", "Seventy-ninth and Kedzie, ten-four."))
    assert (best.recording, best.next_call, best.score) == ("a.wav", None, 1.0)
