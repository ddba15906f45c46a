"""verify.py's joining logic: parts, splices, speakers, lines, versions.

The judge is stubbed here (these are claims about bookkeeping, not about audio);
the real model's verdicts are tested in test_adjudicate.py and end to end below.
"""

from types import SimpleNamespace

import numpy as np
import pytest

from pipeline import lines, verify
from pipeline.adjudicate import Judgement, WordJudgement
from pipeline.records import (
    Quote,
    QuoteCheck,
    Role,
    Segment,
    Speaker,
    Transcript,
    Transmission,
    Word,
    WordStatus,
)

LINES = [  # (speaker, start, text): one transmission each, 0.4 s per word
    ("Dispatcher", 1.0, "younger male hispanic wearing all black black hoodie black jeans "
                        "wanted for the hit and run this guy fled from the scene"),
    ("Unit 1", 20.0, "eight thirty three we're trying to clear out but we're blocked in"),
    ("Dispatcher", 40.0, "we're not sending anybody out to that location"),
]


def transcript(recording="chan.mp3"):
    segments, transmissions = [], []
    for n, (speaker, start, text) in enumerate(LINES):
        words = [Word(start + 0.4 * i, start + 0.4 * i + 0.3, w, 0.9)
                 for i, w in enumerate(text.split())]
        segments.append(Segment(n, words[0].start, words[-1].end, text, words, -0.3, 0.01, 1.2,
                                n, speaker))
        transmissions.append(Transmission(words[0].start - 0.2, words[-1].end + 0.2))
    return Transcript(recording, "sha", 60.0, "tiny.en", "faster-whisper", segments, transmissions)


def fake_adjudicate(verdict="verbatim", doubt=None):
    """A stub judge: every part gets ``verdict`` (or, where it is a dict, the verdict of the
    part's text), its words shared evenly over the located span."""
    def judge(text, heard, window, start, scorers, options, span=None):
        lo, hi = span  # the located span, shared evenly among the quote's words
        quoted = text.split()
        step = (hi - lo) / len(quoted)
        words = [WordJudgement(w, i, "match", w, lo + i * step, lo + (i + 1) * step, 0.9, True)
                 for i, w in enumerate(quoted)]
        said = verdict.get(text, "verbatim") if isinstance(verdict, dict) else verdict
        return Judgement(verdict=said, confidence=0.9, words=words,
                         heard_text=" ".join(w.word for w in heard),
                         listen_start=start, listen_end=start + 1,
                         doubt=(doubt or {}).get(text, 0.0))
    return judge


def scored_by_text(version_scores):
    """A stub for ``compare_versions``: the first call's texts get ``version_scores`` in
    order, and any later call scores a text as it was scored first (0.0 if new)."""
    known: dict[str, float] = {}

    def compare(texts, window, scorer):
        if not known and version_scores:
            known.update(zip(texts, version_scores))
        return [known.get(t, 0.0) for t in texts]
    return compare


@pytest.fixture
def run(monkeypatch):
    def _run(quotes, verdict="verbatim", version_scores=None, doubt=None):
        monkeypatch.setattr(verify, "adjudicate", fake_adjudicate(verdict, doubt))
        monkeypatch.setattr(lines, "compare_versions", scored_by_text(version_scores))
        samples = np.zeros(16000 * 60, dtype=np.float32)
        return verify.verify_quotes(quotes, [transcript()], lambda rec: samples, [object()])
    return _run


def test_absent_quote_is_not_found(run):
    [c] = run([Quote("q1", "a.txt", "the department is aware of an incident involving "
                                    "federal law enforcement")])
    assert (c.verdict, c.recording, c.start_s) == ("not_found", "", None)


def test_located_quote_gets_place_speaker_and_attribution(run):
    q = Quote("q1", "a.txt", "We're trying to clear out, but we're blocked in.",
              attributed_to="one officer on scene")
    [c] = run([q])
    assert c.verdict == "verbatim"
    assert c.recording == "chan.mp3"
    assert (c.start_s, c.end_s) == (21.2, 24.7)  # "we're" (word 3) to "in" (word 11)
    assert c.speaker == "Unit 1"
    assert c.attribution_ok is True
    assert c.context_before == "eight thirty three"


def test_wrong_attribution_is_flagged(run):
    q = Quote("q1", "a.txt", "We're trying to clear out, but we're blocked in.",
              attributed_to="the dispatcher")
    assert run([q])[0].attribution_ok is False


def test_attribution_follows_a_renamed_speakers_role(monkeypatch):
    renamed = transcript()
    for seg in renamed.segments:
        seg.speaker = {"Unit 1": "Beat 833", "Dispatcher": "Sgt Ruiz"}.get(seg.speaker, seg.speaker)
    monkeypatch.setattr(verify, "adjudicate", fake_adjudicate())
    monkeypatch.setattr(lines, "compare_versions", lambda texts, window, scorer: [0.0] * len(texts))
    q = Quote("q1", "a.txt", "We're trying to clear out, but we're blocked in.",
              attributed_to="one officer on scene")
    speakers = [Speaker("S1", Role.UNIT, "Beat 833"), Speaker("S0", Role.DISPATCHER, "Sgt Ruiz")]
    samples = np.zeros(16000 * 60, dtype=np.float32)
    [c] = verify.verify_quotes([q], [renamed], lambda rec: samples, [object()], speakers=speakers)
    assert (c.speaker, c.attribution_ok) == ("Beat 833", True)
    q.attributed_to = "the dispatcher"
    [c] = verify.verify_quotes([q], [renamed], lambda rec: samples, [object()], speakers=speakers)
    assert c.attribution_ok is False


def test_ellipsis_parts_report_what_was_left_out(run):
    text = "Younger male Hispanic, wearing all black … wanted for the hit-and-run."
    q = Quote("q1", "a.txt", text, parts=["Younger male Hispanic, wearing all black",
                                          "wanted for the hit-and-run."])
    [c] = run([q])
    assert c.omitted_text == "black hoodie black jeans"
    assert c.splice_gap_s == pytest.approx(1.7, abs=0.01)  # 3.3 s -> 5.0 s
    assert [w.word_index for w in c.words] == list(range(10))


def test_quote_across_two_transmissions_and_speakers_is_flagged(run):
    q = Quote("q1", "a.txt", "this guy fled from the scene eight thirty three we're trying")
    [c] = run([q])
    assert c.speaker == "Dispatcher + Unit 1"
    across = "more than one transmission (2; paused between them: 10.30 s)"
    assert any(across in r for r in c.reasons)
    assert c.splice_gap_s == pytest.approx(10.3, abs=0.01)  # "scene" ends at 9.7 s, "eight" starts at 20.0
    assert any("across 2 speakers" in r for r in c.reasons)


def test_pause_across_transmissions_comes_from_segmentation_where_it_measured_it(run, monkeypatch):
    measured = transcript()
    for t, seg in zip(measured.transmissions, measured.segments):
        t.speech_start, t.speech_end = seg.start - 0.05, seg.end + 0.05  # the sound, unpadded
    monkeypatch.setattr(verify_module_lines(), "transcript", lambda recording="chan.mp3": measured)
    [c] = run([Quote("q1", "a.txt", "this guy fled from the scene eight thirty three we're trying")])
    assert c.splice_gap_s == pytest.approx(10.2, abs=0.01)  # 9.75 s to 19.95 s, not the words' 10.3


def test_quote_inside_one_transmission_has_no_gap(run):
    [c] = run([Quote("q1", "a.txt", "eight thirty three we're trying to clear out")])
    assert c.splice_gap_s is None and not any("transmission" in r for r in c.reasons)


@pytest.mark.parametrize("first,second,worst", [
    ("verbatim", "misquote", "misquote"),
    ("misquote", "minor", "misquote"),
    ("unverifiable", "minor", "unverifiable"),
    ("misquote", "unverifiable", "misquote"),
    ("verbatim", "minor", "minor"),
])
def test_worst_part_wins(run, first, second, worst):
    parts = ["Younger male Hispanic, wearing all black", "wanted for the hit-and-run."]
    q = Quote("q1", "a.txt", "x", parts=parts)
    assert run([q], verdict="misquote")[0].verdict == "misquote"
    assert run([q], verdict=dict(zip(parts, (first, second))))[0].verdict == worst


def test_versions_of_one_line_share_a_line_id_and_the_loser_is_not_verbatim(run):
    a = Quote("night:1", "night.txt", "We're not sending anybody to that location.")
    b = Quote("stand:1", "stand.txt", "We're not sending anybody out to that location.")
    other = Quote("night:2", "night.txt", "We're trying to clear out, but we're blocked in.")
    checks = run([a, b, other], version_scores=[-1.5, -0.4])
    assert checks[0].line_id == checks[1].line_id != checks[2].line_id
    assert checks[0].verdict == "misquote"  # behind by 1.1 nats per token where they differ
    assert any("favours another" in r for r in checks[0].reasons)
    assert any('"—" against "out"' in r for r in checks[0].reasons)
    assert checks[1].verdict == "verbatim"
    assert any("favours this one" in r for r in checks[1].reasons)


@pytest.mark.parametrize("scores,expected", [
    ([-0.55, -0.4], "unverifiable"),  # behind by 0.15: less than decide_nats, more than nothing
    ([-1.5, -0.4], "misquote"),
])
def test_a_version_the_audio_disfavours_by_decide_nats_is_a_misquote(run, scores, expected):
    a = Quote("night:1", "night.txt", "We're not sending anybody to that location.")
    b = Quote("stand:1", "stand.txt", "We're not sending anybody out to that location.")
    verdicts = {a.text: "unverifiable", b.text: "unverifiable"}
    checks = run([a, b], verdict=verdicts, version_scores=scores)
    assert [c.verdict for c in checks] == [expected, "unverifiable"]


def test_the_favoured_version_is_not_called_a_misquote(run):
    a = Quote("night:1", "night.txt", "We're not sending anybody to that location.")
    b = Quote("stand:1", "stand.txt", "We're not sending anybody out to that location.")
    checks = run([a, b], verdict={a.text: "misquote", b.text: "misquote"}, version_scores=[-0.4, -1.5])
    assert [c.verdict for c in checks] == ["unverifiable", "misquote"]
    assert any("not called a misquote" in r for r in checks[0].reasons)


def test_two_lines_on_one_stretch_of_audio_decide_nothing(run):
    a = Quote("night:1", "night.txt", "We're not sending anybody to that location.")
    b = Quote("stand:1", "stand.txt", "We're trying to clear out, but we're blocked in.")
    checks = run([a, b], version_scores=[-1.5, -0.4])
    assert any("too few words" in r for c in checks for r in c.reasons) or \
        checks[0].line_id != checks[1].line_id
    assert "misquote" not in [c.verdict for c in checks]


def test_a_typo_elsewhere_in_a_version_is_left_out_of_the_decision(run):
    a = Quote("night:1", "night.txt", "We're not sneding anybody to that location.")
    b = Quote("stand:1", "stand.txt", "We're not sending anybody out to that location.")
    assert lines._with_differences(b.text, a.text) == "We're not sending anybody to that location."
    checks = run([a, b], version_scores=[-1.5, -0.4])
    assert [c.verdict for c in checks] == ["verbatim", "verbatim"]  # the pair scored 0.0 each


def test_versions_that_differ_only_in_form_decide_nothing(run):
    a = Quote("night:1", "night.txt", "Units on Halsted Avenue, we're not sending anybody.")
    b = Quote("stand:1", "stand.txt", "Units on Halsted Ave., we're not sneding anybody.")
    checks = run([a, b], version_scores=[-0.4, -1.5])
    assert [c.verdict for c in checks] == ["verbatim", "verbatim"]
    assert any("only in form" in r for r in checks[1].reasons)


def test_too_short_quote_not_heard_is_unverifiable(run):
    [c] = run([Quote("q1", "a.txt", "Stand Down", too_short=True)])
    assert c.verdict == "unverifiable" and "too short" in c.reasons[0]


def test_garbled_ellipsis_part_is_looked_for_beside_the_found_part(run, monkeypatch):
    garbled = [("Dispatcher", 1.0, "younger male hispanic wearing all black black hoodie black "
                                   "jeans one is for the hindrance this guy fled from the seat")]
    monkeypatch.setattr(verify_module_lines(), "LINES", garbled)
    q = Quote("q1", "a.txt", "x", parts=["Younger male Hispanic, wearing all black",
                                         "wanted for the hit-and-run. This guy fled from the scene"])
    [c] = run([q])
    assert c.recording == "chan.mp3"
    assert not any("not found" in r for r in c.reasons)
    assert c.omitted_text.startswith("black hoodie black jeans")  # + what "wanted" was heard as


def holding(share: float):
    """A stub judge that leaves the quote unverifiable and holds ``share`` of its words."""
    def judge(text, heard, window, start, scorers, options, span=None):
        j = fake_adjudicate("unverifiable")(text, heard, window, start, scorers, options, span)
        for w in j.words[int(share * len(j.words)):]:
            w.status, w.supported = WordStatus.CHANGED, None
        return j
    return judge


def test_weak_match_is_searched_in_the_audio(run, monkeypatch):
    q = Quote("q1", "a.txt", "no one sending anybody to the scene tonight at all")  # scores 0.38
    [c] = run([q], verdict="verbatim")
    assert c.verdict == "verbatim" and "audio confirms" in c.reasons[-1]
    run([q])  # installs the stub scorers
    monkeypatch.setattr(verify, "adjudicate", holding(0.2))
    [c] = verify.verify_quotes([q], [transcript()], lambda rec: np.zeros(16000 * 60, np.float32),
                               [object()])
    assert c.verdict == "not_found" and "searched in the audio" in c.reasons[0]
    assert "chan.mp3 " in c.reasons[0] and "holds 20% of its words" in c.reasons[0]
    monkeypatch.setattr(verify, "adjudicate", holding(0.8))
    [c] = verify.verify_quotes([q], [transcript()], lambda rec: np.zeros(16000 * 60, np.float32),
                               [object()])
    assert c.verdict == "unverifiable" and "does not rule it out" in c.reasons[-1]
    assert c.listen_start_s < c.start_s and c.listen_end_s > c.end_s


class PlaceScorer:
    """A stub judge that scores a text by where its window lies: ``here`` on audio that
    overlaps [start, end] s, ``elsewhere`` on the rest (the samples are a ramp of seconds)."""

    def __init__(self, start: float, end: float, here: float, elsewhere: float):
        self.span, self.here, self.elsewhere = (start, end), here, elsewhere

    def encode(self, samples):
        return float(samples[0]) * 100, float(samples[-1]) * 100  # first and last second

    def score(self, ctx, texts):
        inside = ctx[0] < self.span[1] and self.span[0] < ctx[1]
        return [SimpleNamespace(mean=self.here if inside else self.elsewhere) for _ in texts]


def ramp(recording):
    """60 s whose every sample is its time in hundreds of seconds."""
    return (np.arange(16000 * 60, dtype=np.float32) / 16000 / 100).astype(np.float32)


@pytest.mark.parametrize("held,here,verdict", [
    (0.2, -2.0, "not_found"),      # few words held, and the audio fits it no better there
    (0.2, -0.5, "unverifiable"),   # few words held, but the audio there fits it far better
    (0.8, -2.6, "unverifiable"),   # most words held: may be misheard, however it fits
])
def test_a_weak_match_is_weighed_against_other_audio(run, monkeypatch, held, here, verdict):
    q = Quote("q1", "a.txt", "no one sending anybody to the scene tonight at all")
    [found] = run([q], verdict="verbatim")
    monkeypatch.setattr(verify, "adjudicate", holding(held))
    scorer = PlaceScorer(found.start_s, found.end_s, here=here, elsewhere=-2.0)
    [c] = verify.verify_quotes([q], [transcript()], ramp, [scorer])
    assert c.verdict == verdict
    assert f"{here + 2:+.2f} nats per token against other transmissions at best" in " ".join(c.reasons)


def test_excerpt_of_a_longer_quote_is_no_rival_version(run):
    long = Quote("a:1", "a.txt", "We're not sending anybody out to that location.")
    short = Quote("b:1", "b.txt", "We're not sending anybody out")
    checks = run([long, short], version_scores=[-0.4, -1.5])
    assert checks[0].line_id == checks[1].line_id
    assert [c.verdict for c in checks] == ["verbatim", "verbatim"]
    assert not any("versions" in r for c in checks for r in c.reasons)


RECURRING = [  # a call sign's formulaic line, said at 1 s; another like it at 40 s
    ("Dispatcher", 1.0, "send for eight thirty three"),  # "for" (1.4 s) sounds like "four"
    ("Unit 1", 5.0, " ".join(f"word{i}" for i in range(80))),  # apart: two search windows
    ("Dispatcher", 40.0, "ten four eight twenty one copy that"),
]


def judged_by_place(verdicts: dict):
    """A stub judge whose verdict depends on where it judges (by the span's start)."""
    def judge(text, heard, window, start, scorers, options, span=None):
        verdict = verdicts[int(span[0] // 10)]
        j = fake_adjudicate(verdict)(text, heard, window, start, scorers, options, span)
        for w in j.words:
            w.supported = verdict != "misquote" or None
        j.fit = {"misquote": -3.0, "unverifiable": -3.5}.get(verdict, -1.0)
        return j
    return judge


@pytest.mark.parametrize("verdicts,expected,start", [
    ({0: "verbatim", 4: "misquote"}, "verbatim", 1.4),  # confirmed where it was said
    ({0: "unverifiable", 4: "misquote"}, "unverifiable", 1.4),  # may come from there
    ({0: "misquote", 4: "misquote"}, "misquote", 40.0),  # contradicted everywhere
])
def test_misquote_stands_only_where_no_other_place_holds_the_quote(monkeypatch, verdicts,
                                                               expected, start):
    monkeypatch.setattr(verify_module_lines(), "LINES", RECURRING)
    q = Quote("q1", "a.txt", "Ten four, eight thirty-three.")  # best match: the 20-s line
    monkeypatch.setattr(lines, "compare_versions", lambda *a: [0.0])
    monkeypatch.setattr(verify, "adjudicate", judged_by_place(verdicts))
    samples = np.zeros(16000 * 60, dtype=np.float32)
    [c] = verify.verify_quotes([q], [transcript()], lambda rec: samples, [object()])
    assert (c.verdict, c.start_s) == (expected, pytest.approx(start))
    assert any("judged" in r for r in c.reasons)


@pytest.mark.parametrize("other,held,moves", [
    ("verbatim", 2, True),  # the audio confirms the quote there
    ("unverifiable", 5, True),  # holds more of its words, contradicts none
    ("unverifiable", 4, False),  # holds no more than the place that contradicts it
    ("misquote", 6, False),
])
def test_a_misquote_moves_only_to_a_place_that_speaks_for_the_quote(other, held, moves):
    from types import SimpleNamespace

    first = SimpleNamespace(verdict="misquote", held=4)
    assert verify._holds_more(SimpleNamespace(verdict=other, held=held), first) is moves


def test_unverifiable_quote_is_not_judged_elsewhere(monkeypatch):
    monkeypatch.setattr(verify_module_lines(), "LINES", RECURRING)
    q = Quote("q1", "a.txt", "Ten four, eight thirty-three.")  # best match: the 40-s line
    monkeypatch.setattr(verify, "adjudicate", judged_by_place({0: "verbatim", 4: "unverifiable"}))
    samples = np.zeros(16000 * 60, dtype=np.float32)
    [c] = verify.verify_quotes([q], [transcript()], lambda rec: samples, [object()])
    assert (c.verdict, c.start_s) == ("unverifiable", pytest.approx(40.0))
    assert not any("place" in r for r in c.reasons)


def verify_module_lines():
    import sys

    return sys.modules[__name__]


def test_unverifiable_quotes_are_ranked_for_review_most_doubtful_first(run):
    texts = ["eight thirty three we're trying to clear out", "we're not sending anybody out",
             "this guy fled from the scene"]
    quotes = [Quote(f"q{i}", "a.txt", t) for i, t in enumerate(texts)]
    checks = run(quotes, verdict="unverifiable", doubt={texts[0]: 2.0, texts[1]: 9.5, texts[2]: 2.0})
    assert [c.review_rank for c in checks] == [2, 1, 3]  # ties keep the quotes' order
    assert [c.doubt for c in checks] == [2.0, 9.5, 2.0]
    assert [c.review_rank for c in run(quotes)] == [None, None, None]  # nothing to review


def test_more_undecided_stretches_rank_before_a_stronger_lean():
    def check(qid, spans, doubt):
        return QuoteCheck(Quote(qid, "a.txt", "x"), "unverifiable", 0.5, doubtful_spans=spans, doubt=doubt)
    checks = [check("one strong", 1, 19.0), check("two weak", 2, 3.0), check("fine", 0, 0.0)]
    checks[2].verdict = "verbatim"
    verify.rank_for_review(checks)
    assert [c.review_rank for c in checks] == [2, 1, None]


def test_verify_paths_transcribes_checks_and_writes_the_tables(monkeypatch, tmp_path):
    """The workflow of ``dispatch verify``, its stages stubbed: the quotes are read before
    transcribing, and quotes.csv and quote_words.csv hold the verdicts as text."""
    import csv

    from pipeline import batch
    from pipeline.batch import BatchSummary

    calls = []

    def transcribe_paths(paths, options, out_dir, **kwargs):
        calls.append((list(paths), options, out_dir, kwargs))
        return BatchSummary(transcripts=[transcript()])

    samples = np.zeros(16000 * 60, dtype=np.float32)
    monkeypatch.setattr(batch, "transcribe_paths", transcribe_paths)
    monkeypatch.setattr(batch, "AudioCache", lambda: (lambda recording: samples))
    monkeypatch.setattr(verify, "load_scorers", lambda options: [object()])
    monkeypatch.setattr(verify, "adjudicate", fake_adjudicate("minor"))
    monkeypatch.setattr(lines, "compare_versions", lambda texts, window, scorer: [0.0] * len(texts))
    quotes = tmp_path / "q.csv"
    quotes.write_text("quote_id,source,text\nq1,memo,we're trying to clear out\n"
                      "q2,memo,the department is aware of an incident\n")
    out = tmp_path / "out"
    run = verify.verify_paths([quotes], ["chan.mp3"], out, verify.VerifyOptions(), "transcribe-options",
                              jobs=2, speakers="speaker-settings", progress=False)
    [(paths, options, out_dir, kwargs)] = calls
    assert (paths, options, out_dir) == (["chan.mp3"], "transcribe-options", out)
    assert kwargs["jobs"] == 2 and kwargs["speakers"] == "speaker-settings"
    assert run.paths == [out / "quotes.csv", out / "quote_words.csv"]
    assert [c.verdict for c in run.checks] == ["minor", "not_found"]
    rows = list(csv.DictReader(open(out / "quotes.csv", encoding="utf-8")))
    assert [r["verdict"] for r in rows] == ["minor", "not_found"]
    words = list(csv.DictReader(open(out / "quote_words.csv", encoding="utf-8")))
    assert {w["status"] for w in words} == {"match"}


def test_unreadable_quotes_are_a_library_error(tmp_path):
    from pipeline.errors import DispatchError

    with pytest.raises(DispatchError, match="cannot read quotes"):
        verify.load_quote_files([tmp_path / "missing.csv"])


def test_a_judging_model_that_cannot_load_is_a_library_error(monkeypatch):
    from pipeline.errors import DispatchError
    from pipeline.models import ModelError
    from pipeline.scoring import Scorer

    def load(name):
        raise ModelError(f"no model called {name}")

    monkeypatch.setattr(Scorer, "load", staticmethod(load))
    with pytest.raises(DispatchError, match="typo"):
        verify.load_scorers(verify.VerifyOptions(judge_model="typo"))


def test_the_span_to_replay_never_starts_before_the_recording(monkeypatch):
    judge = fake_adjudicate("unverifiable")

    def early(*args, **kwargs):
        j = judge(*args, **kwargs)
        j.listen_start = -0.5  # padding before a line that opens the recording
        return j

    monkeypatch.setattr(verify, "adjudicate", early)
    monkeypatch.setattr(lines, "compare_versions", lambda texts, window, scorer: [0.0] * len(texts))
    samples = np.zeros(16000 * 60, dtype=np.float32)
    q = Quote("q1", "a.txt", "Younger male Hispanic, wearing all black")
    [c] = verify.verify_quotes([q], [transcript()], lambda rec: samples, [object()])
    assert c.verdict == "unverifiable" and c.listen_start_s == 0.0 < c.listen_end_s


def test_a_quote_across_two_calls_is_judged_on_each_and_names_both_with_the_gap(monkeypatch):
    from test_locate import EXCHANGE, _call

    monkeypatch.setattr(verify, "adjudicate", fake_adjudicate())
    monkeypatch.setattr(lines, "compare_versions", scored_by_text(None))
    calls = [_call(r, text, tg, at) for r, tg, at, text in EXCHANGE]
    calls[0].segments[0].speaker, calls[2].segments[0].speaker = "Dispatcher", "Beat 812"
    judged = []
    samples = np.zeros(16000 * 5, dtype=np.float32)
    q = Quote("q1", "a.txt", "What's your twenty? Seventy-ninth and Kedzie.")
    [c] = verify.verify_quotes([q], calls, lambda rec: judged.append(rec) or samples, [object()])
    assert c.verdict == "verbatim" and c.recording == "q.wav"
    assert sorted(set(judged)) == ["a.wav", "q.wav"]  # each stretch on its own call's audio
    assert ("the quote runs across two calls on talkgroup 3105: q.wav, then a.wav, 3.10 s later"
            in c.reasons)
    assert c.splice_gap_s == pytest.approx(3.1)
    # times count from q.wav's start: "Kedzie" is said 5 s + 1.7-2.0 s after it
    assert (c.start_s, c.end_s) == (pytest.approx(1.3), pytest.approx(7.0))
    assert [w.word for w in c.words] == ["What's", "your", "twenty?", "Seventy-ninth", "and",
                                         "Kedzie."]
    assert [w.word_index for w in c.words] == list(range(6))
    assert c.speaker == "Dispatcher + Beat 812"


def test_a_quote_cut_short_of_a_heard_boundary_is_a_misquote(monkeypatch):
    said = "We're not sending anybody out to that location. Copy."
    words = [Word(40.0 + 0.4 * i, 40.3 + 0.4 * i, w, 0.9) for i, w in enumerate(said.split())]
    heard = Transcript("chan.mp3", "sha", 60.0, "tiny.en", "faster-whisper",
                       [Segment(0, 40.0, words[-1].end, said, words)])
    monkeypatch.setattr(verify, "adjudicate", fake_adjudicate("verbatim"))
    samples = np.zeros(16000 * 60, dtype=np.float32)
    quotes = [Quote("cut", "a.txt", "not sending anybody out to that location"),
              Quote("whole", "a.txt", "We're not sending anybody out to that location.")]
    cut, whole = verify.verify_quotes(quotes, [heard], lambda rec: samples, [object()])
    assert cut.verdict == "misquote"
    assert cut.differences == ['audio begins "We\'re" in the same breath; the quote leaves it off']
    assert whole.verdict == "verbatim"


@pytest.mark.parametrize("here, verdict", [(-0.5, "unverifiable"), (-1.8, "not_found")])
def test_a_quote_no_transcript_holds_is_weighed_against_speech_left_unwritten(
        run, monkeypatch, here, verdict):
    run([])  # installs the stub judge
    heard = transcript()
    heard.transmissions.append(Transmission(50.0, 58.0))  # 8 s of speech, no word written
    q = Quote("q1", "a.txt", "the department is aware of an incident involving federal agents")
    scorer = PlaceScorer(50.0, 58.0, here=here, elsewhere=-2.0)
    [c] = verify.verify_quotes([q], [heard], ramp, [scorer])
    assert c.verdict == verdict
    if verdict == "unverifiable":
        assert (c.recording, c.start_s, c.end_s) == ("chan.mp3", 50.0, 58.0)
        assert c.listen_start_s < 50.0
        assert "wrote 0 word(s) for the speech at chan.mp3 50.0-58.0 s" in c.reasons[-1]
    else:
        assert "fit it no better than other audio (+0.20 nats per token at best)" in c.reasons[-1]
