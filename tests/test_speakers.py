"""Speaker labels: voices on real audio, radio unit IDs, role names, attribution, RTTM.

Accuracy claims run on real recordings (``tests/data``) with the real voice encoder
(marked slow); their thresholds sit a little below what ``bench/bench_speakers.py``
measures, so a regression fails but noise does not.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from pipeline import speakers as sp
from pipeline.records import Role, Segment, Speaker, Transcript, Transmission
from pipeline.speakers import SpeakerOptions, Turn

DATA = Path(__file__).parent / "data"
MANIFEST = Path(__file__).resolve().parents[1] / "audio_samples" / "manifest.csv"

# Apollo 11 transmissions: speakers from the NASA transcript (apollo11.tsv, starts good to
# ±1.5 s); start and end refined by hand from Whisper word times, each start within the
# transcript's ±1.5 s. Four of the eleven last under a second ("Go ahead", "Roger"). The two
# "Roger"s and the CDR line between them are placed on the audio's 20 ms energy: the speech
# rises out of the -55 dB floor at 50.1-51.0 (then silence to 51.45) and at 78.1-78.7 (the
# earlier 78.8-79.3 was all floor, 50.8-51.5 mostly).
APOLLO_LINES = [
    (0.0, 7.0, "CC"), (10.2, 11.1, "LMP"), (12.0, 25.2, "CC"), (31.1, 49.6, "CDR"),
    (50.1, 51.0, "CC"), (51.45, 55.3, "CDR"), (56.3, 57.0, "CC"), (57.0, 61.7, "CMP"),
    (62.4, 72.5, "CC"), (74.2, 78.1, "LMP"), (78.1, 78.7, "CC"),
]


def read_rttm(path: Path) -> list[tuple[float, float, str]]:
    """(start, end, speaker) per SPEAKER line."""
    rows = []
    for line in path.read_text().splitlines():
        p = line.split()
        if p and p[0] == "SPEAKER":
            rows.append((float(p[3]), float(p[3]) + float(p[4]), p[7]))
    return rows


def der(reference: list[tuple[float, float, str]], turns: list[Turn], collar: float) -> float:
    """Diarization error rate with pyannote.metrics (collar: total, in seconds)."""
    from pyannote.core import Annotation
    from pyannote.core import Segment as Span
    from pyannote.metrics.diarization import DiarizationErrorRate

    ref, hyp = Annotation(), Annotation()
    for start, end, who in reference:
        ref[Span(start, end)] = who
    for t in turns:
        hyp[Span(t.start, t.end)] = t.speaker
    return DiarizationErrorRate(collar=collar)(ref, hyp)


def share_correct(truth: list[str], labels: list[str]) -> float:
    """Share of items whose label maps to the true speaker, under the best 1-to-1 mapping."""
    from scipy.optimize import linear_sum_assignment

    names, found = sorted(set(truth)), sorted(set(labels))
    counts = np.zeros((len(names), len(found)))
    for t, h in zip(truth, labels, strict=True):
        counts[names.index(t), found.index(h)] += 1
    rows, cols = linear_sum_assignment(-counts)
    return counts[rows, cols].sum() / len(truth)


@pytest.fixture(scope="module")
def encoder():
    return sp.load_encoder()


def diarize_file(path: Path, encoder, options: SpeakerOptions | None = None) -> list[Turn]:
    from pipeline import audio

    samples = audio.load_audio(path)
    return sp.diarize(samples, audio.find_transmissions(samples), options, encoder)


# --- real audio ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def phone_turns(encoder):
    return diarize_file(DATA / "phone-call.wav", encoder)


@pytest.mark.slow
def test_phone_call_finds_two_speakers(phone_turns):
    assert len({t.speaker for t in phone_turns}) == 2


@pytest.mark.slow
def test_phone_call_der_with_collar_at_most_0_15(phone_turns):
    # Standard scoring: a 0.25 s forgiveness collar either side of reference boundaries
    # (pyannote's collar is the total, 0.5 s). Measured 0.062.
    reference = read_rttm(DATA / "phone-call.rttm")
    assert der(reference, phone_turns, collar=0.5) <= 0.15


@pytest.mark.slow
def test_phone_call_der_without_collar(phone_turns):
    # Without a collar the segmenter's padding and the overlapped talk count too:
    # measured 0.223, above the 0.15 reached with the collar (see the benchmark).
    reference = read_rttm(DATA / "phone-call.rttm")
    assert der(reference, phone_turns, collar=0.0) <= 0.26


@pytest.mark.slow
def test_turns_are_ordered_and_inside_speech(phone_turns):
    assert all(t.end > t.start for t in phone_turns)
    assert all(a.end <= b.start + 1e-6 for a, b in zip(phone_turns, phone_turns[1:]))


@pytest.fixture(scope="module")
def apollo_labels(encoder):
    path = DATA / "apollo11.mp3"
    turns = diarize_file(path, encoder)
    return turns, [sp.speaker_at(turns, a, b) for a, b, _ in APOLLO_LINES]


@pytest.mark.slow
def test_apollo_transmissions_mostly_right(apollo_labels):
    # Measured 7 of 11 (0.64), speakers estimated, 6 clusters. Partly by luck: CAPCOM's three
    # sub-second lines ("Roger", "Okay. We--", "Roger") make a cluster of their own, which
    # the best mapping gives to CAPCOM, while his long lines split over two clusters.
    # bench/bench_speakers.py's ceiling (each line to its speaker's true centroid) is also
    # 7 of 11: every sub-second line is nearer a crew member than its own speaker.
    truth = [who for _, _, who in APOLLO_LINES]
    assert share_correct(truth, apollo_labels[1]) >= 6 / 11


@pytest.mark.slow
@pytest.mark.xfail(
    reason="known failure: 0.64 (7/11) measured, 0.85 needs 10/11. Ceiling with true centroids "
    "0.64 (raw, centred or tiled embeddings: all four sub-second lines go to a crew member); "
    "adding the long-term spectrum or noise floor raises it to 0.73 at best (8/11)",
    strict=True,
)
def test_apollo_transmissions_85_percent_right(apollo_labels):
    truth = [who for _, _, who in APOLLO_LINES]
    assert share_correct(truth, apollo_labels[1]) >= 0.85


@pytest.mark.slow
@pytest.mark.xfail(
    reason="known failure: CAPCOM's lines split into 3 clusters (named Unit 2 in the bench); "
    "given 4 speakers, CAPCOM's long lines are one cluster but his sub-second 'Roger's form "
    "another, so the crew cluster answers both and is named Dispatcher",
    strict=True,
)
def test_apollo_capcom_is_named_dispatcher(apollo_labels):
    turns = apollo_labels[0]
    roles = sp.name_roles(turns)
    capcom = sp.speaker_at(turns, 12.0, 25.2)
    assert roles[capcom] == sp.DISPATCHER


@pytest.mark.slow
def test_batch_gives_one_voice_one_label(encoder):
    from pipeline import audio

    samples = audio.load_audio(DATA / "phone-call.wav")
    first = [Transmission(6.6, 18.0)]
    second = [Transmission(18.0, 30.0)]
    out = sp.diarize_batch([("a", samples, first), ("b", samples, second)], None, encoder)
    # Diane speaks 10.6-14.2 (first) and 18.1-21.4 (second).
    assert sp.speaker_at(out["a"], 10.8, 14.0) == sp.speaker_at(out["b"], 18.4, 21.2)
    assert len({t.speaker for ts in out.values() for t in ts}) == 2


@pytest.mark.slow
def test_manifest_speakers_and_dispatcher(encoder):
    from pipeline import audio

    rows = list(csv.DictReader(MANIFEST.open()))
    recordings = []
    for name in dict.fromkeys(r["recording"] for r in rows):
        samples = audio.load_audio(MANIFEST.parent / name)
        recordings.append((name, samples, audio.find_transmissions(samples)))
    turns = sp.diarize_batch(recordings, None, encoder)
    truth = [r["speaker"] for r in rows]
    found = [
        sp.speaker_at(turns[r["recording"]], float(r["start_s"]), float(r["end_s"]))
        for r in rows
    ]
    assert share_correct(truth, found) >= 0.95
    roles = sp.name_roles(t for name, _, _ in recordings for t in turns[name])
    dispatcher = [k for k, v in roles.items() if v == sp.DISPATCHER][0]
    said = [r["speaker"] for r, f in zip(rows, found, strict=True) if f == dispatcher]
    assert "dispatch" in max(set(said), key=said.count).lower()


@pytest.mark.slow
def test_stored_voices_label_as_diarize_does(encoder):
    """What a batch stores and clusters later gives the turns of labelling at once."""
    from pipeline import audio

    samples = audio.load_audio(DATA / "phone-call.wav")
    spans = audio.find_transmissions(samples)
    transcript = Transcript(recording="call", sha256="x", duration=30.0, model="m", engine="e",
                            segments=[Segment(-1, s.start, s.end, "hi", [], 0.0, 0.0,
                                              transmission_id=n)
                                      for n, s in enumerate(spans)],
                            transmissions=spans)
    options = SpeakerOptions()
    voices = sp.Voices.from_bytes(sp.embed_voices(samples, transcript, options, encoder).to_bytes())
    assert sp.cluster_voices(["call"], [voices], options) == \
        sp.diarize_batch([("call", samples, spans)], options, encoder)


def test_voices_round_trip_through_bytes():
    from pipeline.speakers.embedding import VoiceWindow

    rng = np.random.default_rng(0)
    voices = sp.Voices([Transmission(0.5, 2.5), Transmission(3.0, 3.4)],
                       [VoiceWindow(0, 0, 0.5, 2.1), VoiceWindow(0, 0, 0.9, 2.5),
                        VoiceWindow(0, 1, 3.0, 3.4)],
                       rng.standard_normal((3, 256)).astype(np.float32))
    back = sp.Voices.from_bytes(voices.to_bytes())
    assert back.spans == voices.spans and back.windows == voices.windows
    assert np.array_equal(back.embeddings, voices.embeddings)


def test_stored_voices_and_labels_are_keyed_by_encoder(monkeypatch):
    from pipeline.speakers import labelling

    t = Transcript("a.wav", "abc", 5.0, "tiny.en", "faster-whisper",
                   [Segment(0, 0.5, 1.5, "hi", transmission_id=0)], [Transmission(0.4, 1.6)])
    settings = sp.SpeakerSettings()
    assert sp.encoder_id().startswith("resemblyzer-")
    voices, labels = labelling.voices_key(t, settings.options), labelling.labels_key([t], settings)
    monkeypatch.setattr(labelling, "encoder_id", lambda: "resemblyzer-0.0-other")
    assert labelling.voices_key(t, settings.options) != voices
    assert labelling.labels_key([t], settings) != labels


# --- radio unit IDs --------------------------------------------------------------------

TRUNK_CALL = {
    "freq": 772393750,
    "start_time": 1702617247,
    "stop_time": 1702617259,
    "emergency": 0,
    "encrypted": 0,
    "call_length": 12.0,
    "talkgroup": 3105,
    "talkgroup_tag": "PD Dispatch",
    "audio_type": "digital",
    "short_name": "metro",
    "freqList": [{"freq": 772393750, "time": 1702617247, "pos": 0.0, "len": 12.0,
                  "error_count": "0", "spike_count": "0"}],
    "srcList": [
        {"src": 3113008, "time": 1702617247, "pos": 0.0, "emergency": 0,
         "signal_system": "", "tag": "Dispatch"},
        {"src": 3124119, "time": 1702617250, "pos": 3.5, "emergency": 0,
         "signal_system": "", "tag": ""},
        {"src": -1, "time": 1702617254, "pos": 7.0, "emergency": 0,
         "signal_system": "", "tag": ""},
        {"src": 3113008, "time": 1702617256, "pos": 9.0, "emergency": 0,
         "signal_system": "", "tag": "Dispatch"},
    ],
}


def test_read_trunk_recorder(tmp_path):
    path = tmp_path / "3105-1702617247_772393750.0-call_1.json"
    path.write_text(json.dumps(TRUNK_CALL))
    turns = sp.read_trunk_recorder(path)
    assert [(t.start, t.end, t.speaker) for t in turns] == [
        (0.0, 3.5, "3113008"), (3.5, 7.0, "3124119"), (7.0, 9.0, ""), (9.0, 12.0, "3113008"),
    ]
    assert {t.source for t in turns} == {"radio"}


def test_trunk_recorder_json_beside_audio(tmp_path):
    audio_path = tmp_path / "call_1.m4a"
    assert sp.trunk_recorder_json(audio_path) is None
    (tmp_path / "call_1.json").write_text(json.dumps(TRUNK_CALL))
    assert sp.trunk_recorder_json(audio_path) == tmp_path / "call_1.json"


def test_not_a_trunk_recorder_file(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(ValueError, match="srcList"):
        sp.read_trunk_recorder(path)


@pytest.mark.parametrize("text", ['{"hello": 1}', "{not json", "[]"])
def test_a_json_beside_audio_that_is_not_a_call_is_not_taken_for_one(tmp_path, text):
    (tmp_path / "call_1.json").write_text(text)
    assert sp.trunk_recorder_json(tmp_path / "call_1.wav") is None


def test_radio_turns_end_with_the_audio(tmp_path):
    path = tmp_path / "call.json"
    path.write_text(json.dumps(TRUNK_CALL))
    turns = sp.read_trunk_recorder(path, duration=8.0)  # srcList runs to 12 s
    assert [(t.start, t.end, t.speaker) for t in turns] == [
        (0.0, 3.5, "3113008"), (3.5, 7.0, "3124119"), (7.0, 8.0, "")]


def test_radio_ids_win_and_fill_unknown_by_voice():
    radio = sp.turns_from_trunk_call(TRUNK_CALL)
    voice = [Turn(0.2, 3.3, "S0"), Turn(3.6, 6.8, "S1"), Turn(7.1, 8.8, "S0"),
             Turn(9.1, 11.5, "S0")]
    merged = sp.merge_radio_turns(voice, radio)
    # 7.1-8.8 has unit ID -1: its voice (S0) is unit 3113008 everywhere else.
    assert [(t.start, t.end, t.speaker) for t in merged] == [
        (0.2, 3.3, "3113008"), (3.6, 6.8, "3124119"), (7.1, 8.8, "3113008"),
        (9.1, 11.5, "3113008"),
    ]
    assert [t.source for t in merged] == ["radio", "radio", "voice", "radio"]


# --- roles, names, labels --------------------------------------------------------------


def turns_of(*labels: str) -> list[Turn]:
    return [Turn(i * 2.0, i * 2.0 + 1.5, who) for i, who in enumerate(labels)]


@pytest.mark.parametrize(
    "labels, expected",
    [
        # The dispatcher answers every unit; units only talk to the dispatcher.
        (("S1", "S0", "S2", "S0", "S1", "S0"), {"S0": "Dispatcher", "S1": "Unit 1",
                                                "S2": "Unit 2"}),
        (("S0", "S1", "S0", "S2", "S0", "S3"), {"S0": "Dispatcher", "S1": "Unit 1",
                                                "S2": "Unit 2", "S3": "Unit 3"}),
        (("S4",), {"S4": "Dispatcher"}),
        (("3113008", "3124119", "3113008"), {"3113008": "Dispatcher",
                                             "3124119": "Unit 3124119"}),
        ((), {}),
    ],
)
def test_name_roles(labels, expected):
    assert sp.name_roles(turns_of(*labels)) == expected


def test_read_speaker_names(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("# who is who\nUnit 2 = Beat 833\n\nDispatcher=Dispatch (Carla)  # main\n")
    names = sp.read_speaker_names(path)
    assert names == {"Unit 2": "Beat 833", "Dispatcher": "Dispatch (Carla)"}
    roles = {"S0": "Dispatcher", "S1": "Unit 1", "S2": "Unit 2"}
    assert sp.display_names(roles, names) == {
        "S0": "Dispatch (Carla)", "S1": "Unit 1", "S2": "Beat 833"}


def test_renamed_dispatcher_is_still_the_dispatcher(tmp_path):
    # --speaker-names "Dispatcher = Sgt Ruiz": the name loses "Dispatch", the role stays.
    path = tmp_path / "names.txt"
    path.write_text("Dispatcher = Sgt Ruiz\n")
    settings = sp.SpeakerSettings.from_names_file(path)
    people = sp.name_speakers(turns_of("S1", "S0", "S2", "S0"), settings.renames)
    assert people == {"S0": Speaker("S0", Role.DISPATCHER, "Sgt Ruiz"),
                      "S1": Speaker("S1", Role.UNIT, "Unit 1"),
                      "S2": Speaker("S2", Role.UNIT, "Unit 2")}
    ruiz = sp.speaker_named("Sgt Ruiz", people.values())
    assert sp.attribution_matches("the dispatcher says", ruiz) is True
    assert sp.attribution_matches("one officer on scene responded", ruiz) is False


def test_speaker_named_knows_role_names_without_the_batch():
    assert sp.speaker_named("Dispatcher") == Speaker("Dispatcher", Role.DISPATCHER, "Dispatcher")
    assert sp.speaker_named("Unit 1234567").role is Role.UNIT
    assert sp.speaker_named("Sgt Ruiz") is None


def test_read_speaker_names_bad_line(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("Unit 1 = Engine 5\nBeat 833\n")
    with pytest.raises(ValueError, match=r"names.txt:2"):
        sp.read_speaker_names(path)


def test_label_segments_by_overlap():
    turns = [Turn(0.0, 4.0, "S0"), Turn(4.0, 9.0, "S1")]
    segs = [Segment(0, 0.5, 3.0, "a"), Segment(1, 3.5, 8.0, "b"), Segment(2, 12.0, 13.0, "c")]
    sp.label_segments(segs, turns, {"S0": "Dispatcher", "S1": "Unit 1"})
    assert [s.speaker for s in segs] == ["Dispatcher", "Unit 1", "Unit 1"]


def test_speakers_in_flags_a_quote_across_two_speakers():
    turns = [Turn(0.0, 4.0, "S0"), Turn(4.0, 9.0, "S1")]
    assert sp.speakers_in(turns, 1.0, 3.0) == ["S0"]
    assert sp.speakers_in(turns, 2.0, 7.0) == ["S0", "S1"]
    assert sp.speakers_in(turns, 3.9, 7.0) == ["S1"]


@pytest.mark.parametrize(
    "attributed_to, role, expected",
    [
        ("the dispatcher says", "Dispatcher", True),
        ("the dispatcher says", "Unit 2", False),
        ("a dispatcher responded", "Dispatcher", True),
        ("one officer on scene responded", "Unit 1", True),
        ("one officer on scene responded", "Dispatcher", False),
        ("a senior officer", "Unit 3", True),
        ("a senior officer", "Dispatcher", False),
        ("Sgt. Reyes radioed", "Unit 1", True),
        ("a firefighter on Engine 5", "Unit 1234567", True),
        ("the 911 call-taker", "Dispatcher", True),
        ("she says", "Dispatcher", None),
        ("police said", "Unit 1", None),
        ("", "Dispatcher", None),
        ("the dispatcher says", "", None),
    ],
)
def test_attribution_matches(attributed_to, role, expected):
    speaker = Speaker("S0", Role.DISPATCHER if role == "Dispatcher" else Role.UNIT, role)
    assert sp.attribution_matches(attributed_to, speaker if role else None) is expected


def test_attribution_names_the_unit():
    assert sp.attribution_matches("Beat 833 answered", Speaker("S2", Role.UNIT, "Beat 833")) is True


def test_attribution_of_a_display_name_alone():
    # A name without the batch's speakers: role names are known, renames are not.
    assert sp.attribution_matches("the dispatcher says", "Dispatcher") is True
    assert sp.attribution_matches("the dispatcher says", "Unit 2") is False
    assert sp.attribution_matches("the dispatcher says", "Sgt Ruiz") is None


def test_rttm():
    turns = [Turn(6.69, 7.12, "S0"), Turn(7.55, 8.35, "S1")]
    text = sp.to_rttm(turns, "phone call", {"S0": "Dispatcher", "S1": "Unit 1"})
    assert text == (
        "SPEAKER phone_call 1 6.690 0.430 <NA> <NA> Dispatcher <NA> <NA>\n"
        "SPEAKER phone_call 1 7.550 0.800 <NA> <NA> Unit_1 <NA> <NA>\n"
    )


def test_smoothing_removes_short_runs():
    from pipeline.speakers.diarize import smooth_runs

    labels = np.array([0] * 50 + [1] * 5 + [0] * 50 + [1] * 80)
    out = smooth_runs(labels, 20)
    assert out.tolist() == [0] * 105 + [1] * 80
