"""End to end on the bundled recordings, with the real models: each quote is searched for
in the pipeline's own transcripts of both recordings, then judged (``verify_quotes``).

Dispatch lines recur ("Ten four, eight thirty-three" is said three times, and "Eight
twelve" opens half the calls), so the transcript's best match is often another
transmission; these are claims about where the audio puts a quote.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # real models: tiny.en transcribes, base and tiny.en judge

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "audio_samples"
RECORDINGS = [SAMPLES / "dispatch-channel.mp3", SAMPLES / "routine-traffic.mp3"]


@pytest.fixture(scope="module")
def checked():
    """Verify a list of quote texts; the recordings are transcribed once per module."""
    from pipeline.audio import load_audio
    from pipeline.engines import load_engine
    from pipeline.extract import split_parts
    from pipeline.records import Quote
    from pipeline.transcribe import TranscribeOptions, transcribe_file
    from pipeline.verify import VerifyOptions, load_scorers, verify_quotes

    audio = {str(r): load_audio(r) for r in RECORDINGS}
    engine = load_engine("tiny.en")
    transcripts = [transcribe_file(r, s, "", engine, TranscribeOptions()) for r, s in audio.items()]
    scorers = load_scorers(VerifyOptions())

    def check(*texts):
        """Quote objects are checked as given; texts are made into quotes first."""
        quotes = [t if isinstance(t, Quote) else Quote(f"q{i}", "test", t, split_parts(t))
                  for i, t in enumerate(texts)]
        return verify_quotes(quotes, transcripts, audio.__getitem__, scorers)
    return check


@pytest.mark.parametrize("line,recording,start", [
    # the transcript's best match is another unit's call ("Eight twelve, we're on scene")
    pytest.param("Eight twelve, copy the description.", "dispatch-channel", 53.8, marks=pytest.mark.xfail(
        strict=True, reason="placed at 18.6 s, the call 'Eight twelve, copy.' (tiny.en: '8th, well, "
        "copy.'), unverifiable there; where it was said tiny.en heard 'Hey, well, copy of the "
        "permission.', and 'Hey' is no sound-alike of 'Eight'")),
    ("Eight twelve, we're turning around.", "dispatch-channel", 120.6),
    # best match "Ten four, eight twenty-one": one word away, and contradicted there
    ("Ten four, eight thirty-three.", "dispatch-channel", None),
])
def test_recurring_true_line_is_not_called_a_misquote_of_another_call(checked, line, recording,
                                                                       start):
    [c] = checked(line)
    assert c.verdict != "misquote", c.differences
    assert recording in c.recording
    if start is not None:
        assert abs(c.start_s - start) < 1.5


def test_word_the_recogniser_split_outside_the_match_is_still_heard(checked):
    # tiny.en writes "This batch hold on": "This" would take the audio of "Dispatch"
    [c] = checked("Dispatch, hold on, I've got the chief on the phone.")
    assert c.verdict in ("verbatim", "minor"), c.differences


def test_one_word_misquote_of_a_distinctive_line_is_still_caught(checked):
    [c] = checked("Eight twelve, we're on scene, her son is here with a key.")
    assert c.verdict == "misquote"
    assert "routine-traffic" in c.recording and abs(c.start_s - 64.0) < 1.5
    assert any("son" in d for d in c.differences)


def test_typographic_hyphens_and_apostrophes_cost_a_quote_nothing(checked):
    # as published in transcripts/stand-down-or-stand-by.txt: U+2011 hyphens, U+2019
    # apostrophes; scored as written, the hyphens alone made this true line a misquote
    published = ("Younger male Hispanic wearing all black … wanted for the hit\u2011and\u2011run, "
                 "this guy fled from the scene")
    ascii_, typographic = checked(published.replace("\u2011", "-"), published)
    assert typographic.verdict != "misquote", typographic.differences
    assert typographic.verdict == ascii_.verdict
    assert typographic.confidence == pytest.approx(ascii_.confidence)


def test_demo_articles_against_their_labels(checked):
    """The demo's own job: every quote of both bundled articles, against the labels in
    tests/data/demo-labels.csv (taken from the manifest's notes). A true line is never called
    a misquote, a misquote never confirmed, a line never said never placed in the audio."""
    import pandas as pd

    from pipeline.extract import extract_quotes

    quotes = [q for f in sorted((ROOT / "transcripts").glob("*.txt"))
              for q in extract_quotes(f.read_text(encoding="utf-8"), f.stem)]
    truth = pd.read_csv(ROOT / "tests" / "data" / "demo-labels.csv").set_index("quote_id")["truth"]
    assert sorted(q.quote_id for q in quotes) == sorted(truth.index)
    wrong = []
    for c in checked(*quotes):
        label = truth[c.quote.quote_id]
        bad = {"said": {"misquote", "not_found"} - ({"not_found"} if c.quote.too_short else set()),
               "misquote": {"verbatim", "minor", "not_found"},
               "not_said": {"verbatim", "minor", "misquote"}}[label]
        if c.verdict in bad:
            wrong.append(f"{c.quote.quote_id} ({label}): {c.verdict} {c.differences}")
    assert not wrong


def test_the_demo_articles_two_versions_of_one_line_are_decided(checked):
    """"...not sending anybody to that location" against "...anybody out to that location":
    the audio decides at the word that differs, so one is a misquote and the other is not."""
    from pipeline.records import Quote

    said = ("Per the chief of patrol, all units clear out from there, we're not sending anybody "
            "out to that location.")
    wrong = ("Per the chief of patrol, all units clear out from there. We're not sending anybody "
             "to that location.")
    versions = checked(Quote("stand:5", "stand.txt", said), Quote("night:9", "night.txt", wrong))
    assert versions[0].line_id == versions[1].line_id
    assert versions[1].verdict == "misquote"
    assert versions[0].verdict != "misquote"
    assert any("favours this one" in r for r in versions[0].reasons)
