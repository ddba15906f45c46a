"""Call metadata: trunk-recorder capture folders, unit tags, scanner file names, sidecars,
wall-clock columns, and what bad metadata does (a note, never a lost recording)."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import FakeEngine, write_bursts

from pipeline import calls as C
from pipeline.records import CallSource, Role, Segment, Transcript, Word
from pipeline.speakers.radio import apply_call, name_units

START_MS = 1759632014250
"""2025-10-05T02:40:14.250Z (21:40:14.250 in Chicago)."""


def trunk_call(src=((8120, 0.0, ""), (1081, 2.5, "")), start_ms=START_MS, length=5.0, **extra):
    """A call JSON in the fields trunk-recorder's create_call_json writes."""
    return {
        "freq": 851012500.0, "start_time": start_ms // 1000,
        "stop_time": (start_ms + int(length * 1000)) // 1000, "start_time_ms": start_ms,
        "stop_time_ms": start_ms + int(length * 1000), "emergency": 0, "encrypted": 0,
        "call_length": round(length), "call_length_ms": int(length * 1000), "talkgroup": 3105,
        "talkgroup_tag": "PD Zone 8", "talkgroup_description": "Police dispatch, zone 8",
        "talkgroup_group": "Police", "audio_type": "digital", "short_name": "metro",
        "freqList": [{"freq": 851012500.0, "time": start_ms // 1000, "pos": 0.0, "len": length}],
        "srcList": [{"src": s, "time": start_ms // 1000 + int(p), "pos": p, "emergency": 0,
                     "signal_system": "", "tag": tag} for s, p, tag in src],
        **extra,
    }


def capture_call(root: Path, n: int, meta: dict | None, talkgroup=3105, start_ms=START_MS,
                 bursts=((0.5, 1.5), (3.0, 4.2))) -> Path:
    """A call laid out as trunk-recorder does: SYSTEM/YYYY/M/D/TG-EPOCH_FREQ-call_N.wav + .json."""
    folder = root / "metro" / "2025" / "10" / "5"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{talkgroup}-{start_ms // 1000}_851012500.0-call_{n}.wav"
    write_bursts(path, bursts=bursts)
    if meta is not None:
        path.with_suffix(".json").write_text(json.dumps(meta))
    return path


# --- trunk-recorder call files ------------------------------------------------------------


def test_trunk_recorder_json_read_with_units_and_wall_clock(tmp_path):
    path = capture_call(tmp_path, 1, trunk_call(src=((8120, 0.0, "Beat 812"), (-1, 2.0, ""),
                                                     (1081, 2.5, "")), emergency=1))
    call = C.CallReader().read(str(path))
    assert call.source is CallSource.TRUNK_RECORDER
    assert (call.system, call.talkgroup, call.talkgroup_tag, call.talkgroup_group) == (
        "metro", "3105", "PD Zone 8", "Police")
    assert call.started_at == datetime(2025, 10, 5, 2, 40, 14, 250000, tzinfo=timezone.utc)
    assert call.freq == 851012500.0 and call.emergency and not call.encrypted
    assert [(u.unit, u.start, u.end, u.tag) for u in call.units] == [
        ("8120", 0.0, 2.0, "Beat 812"), ("", 2.0, 2.5, ""), ("1081", 2.5, 5.0, "")]
    assert call.notes == []


def test_start_time_in_seconds_where_the_json_has_no_milliseconds(tmp_path):
    meta = trunk_call()
    del meta["start_time_ms"], meta["stop_time_ms"]
    call = C.CallReader().read(str(capture_call(tmp_path, 1, meta)))
    assert call.started_at == datetime(2025, 10, 5, 2, 40, 14, tzinfo=timezone.utc)


def test_times_are_shown_in_the_zone_asked_for(tmp_path):
    call = C.CallReader(C.CallOptions(tz="America/Chicago")).read(
        str(capture_call(tmp_path, 1, trunk_call())))
    assert C.iso(call.started_at) == "2025-10-04T21:40:14.250-05:00"
    assert C.iso(call.at(1.5)) == "2025-10-04T21:40:15.750-05:00"


def test_an_unknown_zone_is_an_error():
    with pytest.raises(C.CallError, match="not a time zone"):
        C.CallReader(C.CallOptions(tz="Mars/Olympus"))


# --- unit tags ----------------------------------------------------------------------------


def test_unit_tags_file_in_trunk_recorders_format(tmp_path):
    tags = tmp_path / "unit_tags.csv"
    tags.write_text("Unit ID,Tag\n1081,Zone 8 Dispatcher\n8330,Beat 833\n/^81(\\d\\d)$/,Car $1\n")
    read = C.read_unit_tags(tags)
    assert [read.tag(u) for u in ("1081", "8330", "8120", "9999")] == [
        "Zone 8 Dispatcher", "Beat 833", "Car 20", ""]
    path = capture_call(tmp_path, 1, trunk_call(src=((8330, 0.0, ""), (1081, 2.5, "Console"))))
    call = C.CallReader(C.CallOptions(unit_tags=tags)).read(str(path))
    assert [u.tag for u in call.units] == ["Beat 833", "Console"]  # the call's own tag wins


def test_a_missing_unit_tags_file_is_noted_and_the_call_still_read(tmp_path, caplog):
    reader = C.CallReader(C.CallOptions(unit_tags=tmp_path / "nope.csv"))
    assert "nope.csv" in reader.notes[0] and "shown by ID" in reader.notes[0]
    assert "nope.csv" in caplog.text
    call = reader.read(str(capture_call(tmp_path, 1, trunk_call())))
    assert [u.unit for u in call.units] == ["8120", "1081"]


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize("text, says", [
    ('{"hello": 1}', "not a trunk-recorder call file"),
    ("{not json", "cannot be read as JSON"),
])
def test_a_json_that_is_not_trunk_recorders_falls_back_to_the_file_name(tmp_path, text, says):
    path = capture_call(tmp_path, 1, None)
    path.with_suffix(".json").write_text(text)
    call = C.CallReader().read(str(path))
    assert any(says in n for n in call.notes)
    assert call.talkgroup == "3105" and call.units == []  # from the file name
    assert call.started_at == datetime(2025, 10, 5, 2, 40, 14, tzinfo=timezone.utc)


def test_a_call_without_json_is_read_from_its_file_name_and_says_so(tmp_path):
    call = C.CallReader().read(str(capture_call(tmp_path, 1, None)))
    assert (call.source, call.system, call.talkgroup, call.freq) == (
        CallSource.TRUNK_RECORDER, "metro", "3105", 851012500.0)
    assert any("no trunk-recorder JSON" in n for n in call.notes)


def test_srclist_past_the_audio_is_noted_and_cut(tmp_path):
    call = C.call_from_trunk_recorder(
        trunk_call(src=((8120, 0.0, ""), (1081, 2.5, ""), (8330, 9.0, "")), length=12.0), "x.wav")
    C.fit_to_audio(call, 5.0)
    assert [(u.unit, u.start, u.end) for u in call.units] == [("8120", 0.0, 2.5), ("1081", 2.5, 5.0)]
    assert any("run past the audio" in n for n in call.notes)


def test_json_and_file_name_that_disagree_on_the_start_are_noted(tmp_path):
    path = capture_call(tmp_path, 1, trunk_call(start_ms=START_MS + 3_600_000))
    call = C.CallReader().read(str(path))
    assert call.started_at == datetime(2025, 10, 5, 3, 40, 14, 250000, tzinfo=timezone.utc)
    assert any("differ by 3600 s" in n for n in call.notes)


def test_a_sidecar_offset_that_clashes_with_the_zone_is_noted(tmp_path):
    (tmp_path / "night.mp3").write_bytes(b"")
    (tmp_path / C.SIDECAR).write_text(
        "recording,started_at,talkgroup,unit,unit_tag\n"
        "night.mp3,2025-10-04T21:40:05+02:00,Zone 8,833,Beat 833\n")
    call = C.CallReader(C.CallOptions(tz="America/Chicago")).read(str(tmp_path / "night.mp3"))
    assert call.source is CallSource.SIDECAR
    assert call.started_at == datetime(2025, 10, 4, 19, 40, 5, tzinfo=timezone.utc)
    assert any("written offset is used" in n for n in call.notes)
    assert [(u.unit, u.tag) for u in call.units] == [("833", "Beat 833")]


def test_a_naive_sidecar_time_is_read_in_the_zone(tmp_path):
    (tmp_path / "night.mp3").write_bytes(b"")
    (tmp_path / C.SIDECAR).write_text("recording,started_at,talkgroup\n"
                                      "night.mp3,2025-10-04 21:40:05,Zone 8\n")
    call = C.CallReader(C.CallOptions(tz="America/Chicago")).read(str(tmp_path / "night.mp3"))
    assert C.iso(call.started_at) == "2025-10-04T21:40:05.000-05:00" and call.notes == []


# --- other scanner tools' file names -------------------------------------------------------


@pytest.mark.parametrize("name, source, talkgroup, started, unit, system", [
    ("metro/2025/10/4/3105-1759614005_851012500.0-call_7.m4a", CallSource.TRUNK_RECORDER,
     "3105", "2025-10-04T21:40:05+00:00", "", "metro"),
    ("3105-1759614005123_851012500.0-call_7.wav", CallSource.TRUNK_RECORDER, "3105",
     "2025-10-04T21:40:05.123000+00:00", "", ""),
    ("3105-1759614005.m4a", CallSource.OPENMHZ, "3105", "2025-10-04T21:40:05+00:00", "", ""),
    ("20251004_214005Metro_PD_Zone_8__TO_3105_FROM_8330.mp3", CallSource.SDRTRUNK, "3105",
     "2025-10-04T21:40:05+00:00", "8330", "Metro_PD_Zone_8"),
    ("20251004_214005Metro__TO_3105.wav", CallSource.SDRTRUNK, "3105",
     "2025-10-04T21:40:05+00:00", "", "Metro"),
    ("20251004_214005_12_3105_8330.m4a", CallSource.RDIO_SCANNER, "3105",
     "2025-10-04T21:40:05+00:00", "8330", "12"),
    ("202510042130-31425.mp3", CallSource.BROADCASTIFY, "", "2025-10-04T21:30:00+00:00", "",
     "31425"),
    ("1759614005-3105.mp3", CallSource.BROADCASTIFY, "3105", "2025-10-04T21:40:05+00:00", "", ""),
])
def test_scanner_file_names(name, source, talkgroup, started, unit, system):
    call = C.from_file_name(name)
    assert (call.source, call.talkgroup, call.started_at.isoformat(), call.system) == (
        source, talkgroup, started, system)
    assert [u.unit for u in call.units] == ([unit] if unit else [])


@pytest.mark.parametrize("name", ["dispatch-channel.mp3", "call_1.wav", "20251399_250000__TO_1.mp3",
                                  "night 2025-10-04.mp3"])
def test_names_that_carry_nothing(name):
    assert C.from_file_name(name) is None


def test_local_file_names_are_read_in_the_zone_and_noted_without_one(tmp_path):
    path = tmp_path / "20251004_214005Metro__TO_3105_FROM_8330.mp3"
    path.write_bytes(b"")
    chicago = C.CallReader(C.CallOptions(tz="America/Chicago")).read(str(path))
    assert C.iso(chicago.started_at) == "2025-10-04T21:40:05.000-05:00" and chicago.notes == []
    utc = C.CallReader().read(str(path))
    assert any("give --tz" in n for n in utc.notes)


def test_a_long_archive_with_a_known_start_gets_wall_clock_times():
    call = C.from_file_name("202510042130-31425.mp3", C.zone("America/Chicago"))
    assert C.iso(call.at(3600 + 84.562)) == "2025-10-04T22:31:24.562-05:00"


# --- units on segments --------------------------------------------------------------------


def words(*spec):
    return [Word(s, e, w, 0.9) for s, e, w in spec]


def transcript_with(call) -> Transcript:
    seg = Segment(0, 0.4, 4.4, "copy eight twelve ten four",
                  words(*[(0.5, 0.8, "copy"), (0.9, 1.2, "eight"), (1.2, 1.5, "twelve"),
                          (3.0, 3.4, "ten"), (3.5, 4.2, "four")]), transmission_id=0,
                  speaker="Unit 1")
    return Transcript("c.wav", "x", 5.0, "tiny.en", "faster-whisper", [seg], call=call)


def test_a_segment_splits_where_the_dispatcher_takes_over():
    call = C.call_from_trunk_recorder(trunk_call(src=((8120, 0.0, "Beat 812"),
                                                      (1081, 2.5, "Zone 8 Dispatcher"))), "c.wav")
    t = transcript_with(call)
    speakers = name_units([call])
    apply_call(t, speakers)
    assert [(s.segment_id, s.text, s.unit, s.unit_tag, s.speaker) for s in t.segments] == [
        (0, "copy eight twelve", "8120", "Beat 812", "Beat 812"),
        (1, "ten four", "1081", "Zone 8 Dispatcher", "Zone 8 Dispatcher")]
    assert (t.segments[0].start, t.segments[0].end, t.segments[1].start, t.segments[1].end) == (
        0.4, 1.5, 3.0, 4.4)
    assert speakers["1081"].role is Role.DISPATCHER and speakers["8120"].role is Role.UNIT


def test_an_unknown_unit_keeps_the_voice_label():
    call = C.call_from_trunk_recorder(trunk_call(src=((-1, 0.0, ""), (1081, 2.5, ""))), "c.wav")
    t = transcript_with(call)
    apply_call(t, name_units([call]))
    # One known unit answers no one: the radio alone does not make it the dispatcher.
    assert [(s.unit, s.speaker) for s in t.segments] == [("", "Unit 1"), ("1081", "Unit 1081")]


def test_without_tags_the_talkgroup_dispatcher_is_the_id_that_answers_everyone():
    calls = [C.call_from_trunk_recorder(trunk_call(src=src, start_ms=START_MS + i * 20_000),
                                        f"{i}.wav")
             for i, src in enumerate([((8120, 0.0, ""), (1081, 2.5, "")),
                                      ((8330, 0.0, ""), (1081, 2.5, "")),
                                      ((1081, 0.0, ""), (8210, 2.5, ""))])]
    named = name_units(calls)
    assert {u: (s.role, s.name) for u, s in named.items()} == {
        "1081": (Role.DISPATCHER, "Dispatcher"), "8120": (Role.UNIT, "Unit 8120"),
        "8330": (Role.UNIT, "Unit 8330"), "8210": (Role.UNIT, "Unit 8210")}


def test_a_tag_that_names_a_dispatcher_decides_over_who_answers():
    calls = [C.call_from_trunk_recorder(trunk_call(src=((8120, 0.0, ""), (1081, 2.5, ""),
                                                        (8330, 3.0, "Console Dispatch"))), "a.wav")]
    named = name_units(calls)
    assert named["8330"].role is Role.DISPATCHER and named["1081"].role is Role.UNIT


# --- the batch: tables, encrypted calls ------------------------------------------------------


@pytest.fixture
def capture(tmp_path):
    root = tmp_path / "capture"
    capture_call(root, 1, trunk_call(src=((8120, 0.0, ""), (1081, 2.5, ""))))
    capture_call(root, 2, trunk_call(start_ms=START_MS + 30_000, encrypted=1, talkgroup=3109),
                 talkgroup=3109,
                 start_ms=START_MS + 30_000)
    capture_call(root, 3, None, start_ms=START_MS + 60_000)
    bad = capture_call(root, 4, None, start_ms=START_MS + 90_000)
    bad.with_suffix(".json").write_text('{"hello": 1}')
    (tmp_path / "tags.csv").write_text("1081,Zone 8 Dispatcher\n8120,Beat 812\n")
    return root


def test_transcribe_a_capture_folder(capture, tmp_path, monkeypatch):
    import pipeline.engines
    from pipeline.batch import transcribe_paths
    from pipeline.transcribe import TranscribeOptions

    monkeypatch.setattr(pipeline.engines, "load_engine", lambda *a, **k: FakeEngine())
    out = tmp_path / "out"
    summary = transcribe_paths([capture], TranscribeOptions(), out, speakers=None, progress=False,
                               calls=C.CallOptions(unit_tags=tmp_path / "tags.csv",
                                                   tz="America/Chicago"))
    assert len(summary.transcripts) == 3 and not summary.failures  # all but the encrypted call
    assert summary.tables[-1] == out / "calls.csv"
    with (out / "calls.csv").open() as f:
        table = list(csv.DictReader(f))
    assert [(r["talkgroup"], r["encrypted"], r["transcribed"]) for r in table] == [
        ("3105", "False", "True"), ("3109", "True", "False"), ("3105", "False", "True"),
        ("3105", "False", "True")]
    assert "not a trunk-recorder call file" in table[3]["notes"]
    with (out / "segments.csv").open() as f:
        segments = [r for r in csv.DictReader(f) if "call_1" in r["recording"]]
    assert [(r["unit"], r["unit_tag"], r["speaker"], r["talkgroup_tag"]) for r in segments] == [
        ("8120", "Beat 812", "Beat 812", "PD Zone 8"),
        ("1081", "Zone 8 Dispatcher", "Zone 8 Dispatcher", "PD Zone 8")]
    start = datetime.fromisoformat(segments[0]["started_at"])
    began = datetime.fromtimestamp(START_MS / 1000, timezone.utc)
    assert abs(start - (began + timedelta(seconds=float(segments[0]["start_s"])))) < timedelta(
        milliseconds=1)
    assert segments[0]["started_at"].endswith("-05:00")
    assert {s.name: s.role for s in summary.speakers} == {
        "Zone 8 Dispatcher": Role.DISPATCHER, "Beat 812": Role.UNIT}


def test_columns_are_there_and_blank_without_call_metadata(tmp_path):
    from pipeline import export

    t = transcript_with(None)
    frame = export.segments_frame([t])
    assert list(frame.columns)[: len(export.SEGMENT_COLUMNS) - len(C.CALL_COLUMNS)] == [
        "recording", "segment_id", "start_s", "end_s", "speaker", "text", "avg_logprob",
        "no_speech_prob", "compression_ratio", "transmission_id", "warnings"]
    row = frame.iloc[0]
    assert (row["started_at"], row["talkgroup"], row["unit"]) == ("", "", "")
    assert row["emergency"] is __import__("pandas").NA
    export.write_table(frame, tmp_path / "s.parquet", "parquet")  # a nullable boolean column
    words = export.words_frame([transcript_with(C.call_from_trunk_recorder(trunk_call(), "c.wav"))])
    assert list(words["unit"]) == ["8120"] * 3 + ["1081"] * 2
    assert list(words["emergency"]) == [False] * 5


# --- the real model on the generated capture ------------------------------------------------

CAPTURE = Path(__file__).resolve().parent.parent / "audio_samples" / "capture"


@pytest.fixture(scope="module")
def capture_words(tmp_path_factory):
    """words.csv of the generated capture, transcribed with tiny.en, and its ground truth."""
    from pipeline.batch import transcribe_paths
    from pipeline.transcribe import TranscribeOptions

    out = tmp_path_factory.mktemp("capture")
    transcribe_paths([CAPTURE], TranscribeOptions(), out, speakers=None, progress=False,
                     calls=C.CallOptions(unit_tags=CAPTURE / "unit_tags.csv",
                                         tz="America/Chicago"))
    with (out / "words.csv").open(encoding="utf-8") as f:
        words = list(csv.DictReader(f))
    with (CAPTURE / "truth.csv").open(encoding="utf-8") as f:
        truth = list(csv.DictReader(f))
    return words, truth


def _spoken(word: dict, truth: list[dict]) -> dict:
    """The transmission a word was spoken in: the one holding its middle, or the nearest."""
    rel = Path(word["recording"]).resolve().relative_to(CAPTURE).as_posix()
    mid = (float(word["start_s"]) + float(word["end_s"])) / 2
    rows = [r for r in truth if r["call"] == rel]
    return min(rows, key=lambda r: max(float(r["start_s"]) - mid, mid - float(r["end_s"]), 0))


@pytest.mark.slow
def test_words_get_the_unit_keyed_up_when_they_were_spoken(capture_words):
    words, truth = capture_words
    assert len(words) > 100
    right = sum(w["unit"] == _spoken(w, truth)["unit"] for w in words)
    assert right / len(words) >= 0.99, f"{right} of {len(words)} words with their unit"


@pytest.mark.slow
def test_words_wall_clock_is_the_call_start_plus_their_offset(capture_words):
    words, truth = capture_words
    inside = 0
    for w in words:
        rel = _spoken(w, truth)
        meta = json.loads((CAPTURE / rel["call"]).with_suffix(".json").read_text())
        began = datetime.fromtimestamp(meta["start_time_ms"] / 1000, timezone.utc)
        started = datetime.fromisoformat(w["started_at"])
        assert started.utcoffset() == timedelta(hours=-5)
        assert abs(started - (began + timedelta(seconds=float(w["start_s"])))) <= timedelta(
            seconds=0.1)
        inside += (float(rel["start_s"]) - 0.1 <= float(w["start_s"])
                   and float(w["end_s"]) <= float(rel["end_s"]) + 0.1)
    # The recogniser's own word times: most fall inside the transmission they were spoken in.
    assert inside / len(words) >= 0.85, f"{inside} of {len(words)} inside their transmission"


# --- a search restricted to a talkgroup and a time ------------------------------------------


def _said(recording: str, text: str, call) -> Transcript:
    spoken = [Word(0.5 + 0.4 * i, 0.8 + 0.4 * i, w, 0.9) for i, w in enumerate(text.split())]
    return Transcript(recording, recording, 5.0, "tiny.en", "faster-whisper",
                      [Segment(0, 0.5, spoken[-1].end, text, spoken)], call=call)


def _on(talkgroup: str, minutes: float):
    call = C.call_from_trunk_recorder(
        trunk_call(start_ms=START_MS + int(minutes * 60_000), talkgroup=int(talkgroup)), "x")
    C.fit_to_audio(call, 5.0)
    return call


def test_in_scope_by_talkgroup_number_or_tag_and_time():
    call = _on("3105", 0)
    at = datetime(2025, 10, 5, 2, 40, 16, tzinfo=timezone.utc)
    assert C.in_scope(call) and C.in_scope(call, "3105") and C.in_scope(call, "pd zone 8")
    assert not C.in_scope(call, "3109")
    assert C.in_scope(call, near=at, within_s=0) and C.in_scope(call, near=at + timedelta(
        minutes=10), within_s=C.parse_duration("10m"))
    assert not C.in_scope(call, near=at + timedelta(minutes=31))  # half an hour by default
    assert not C.in_scope(None, "3105") and C.in_scope(None)


def test_a_quote_with_a_talkgroup_and_a_time_is_searched_only_there():
    from pipeline.locate import WordIndex
    from pipeline.records import Quote

    line = "ten four eight thirty three"
    index = WordIndex([_said("a.wav", line, _on("3105", 0)), _said("b.wav", line, _on("3109", 0)),
                       _said("c.wav", line, _on("3105", 90))])
    quote = Quote("q:1", "a.txt", line, [line])
    assert {r.recording for r in index.locate(quote)[0]} == {"a.wav", "b.wav", "c.wav"}
    quote.talkgroup = "3105"
    assert {r.recording for r in index.locate(quote)[0]} == {"a.wav", "c.wav"}
    quote.near, quote.within_s = datetime(2025, 10, 4, 23, 10, tzinfo=C.zone("America/Chicago")), 600
    assert {r.recording for r in index.locate(quote)[0]} == {"c.wav"}


def test_quotes_take_the_runs_scope_unless_they_have_their_own():
    from pipeline.records import Quote

    own = Quote("q:1", "t.csv", "ten four", talkgroup="3109")
    plain = Quote("q:2", "a.txt", "copy")
    near = datetime(2025, 10, 4, 21, 40, tzinfo=timezone.utc)
    C.scope_quotes([own, plain], C.CallOptions(talkgroup="3105", near=near, within_s=600))
    assert (own.talkgroup, own.near) == ("3109", None)
    assert (plain.talkgroup, plain.near, plain.within_s) == ("3105", near, 600)


@pytest.mark.parametrize("args, says", [
    (["--within", "30m"], "give --near too"),
    (["--near", "yesterday"], "is not a time"),
    (["--near", "2025-10-04 21:40", "--within", "soon"], "is not a duration"),
    (["--tz", "Mars/Olympus"], "not a time zone"),
])
def test_verify_says_what_is_wrong_with_a_scope(args, says, tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import cli

    result = CliRunner().invoke(cli, ["verify", "--quotes", str(tmp_path), str(tmp_path),
                                      "--out", str(tmp_path / "out"), *args])
    assert result.exit_code != 0 and says in result.output


def test_a_quotes_tables_rows_each_search_their_own_talkgroup_and_time(tmp_path):
    from pipeline.locate import WordIndex
    from pipeline.quotes import read_quote_table

    line = "ten four eight thirty three"
    index = WordIndex([_said("a.wav", line, _on("3105", 0)), _said("b.wav", line, _on("3109", 0)),
                       _said("c.wav", line, _on("3105", 90))])
    table = tmp_path / "quotes.csv"
    table.write_text("quote_id,source,text,talkgroup,time,within\n"
                     f"q:1,story.md,{line},3109,,\n"
                     f"q:2,story.md,{line},3105,2025-10-04 23:10,10m\n"   # Chicago time, c.wav
                     f"q:3,story.md,{line},,,\n", encoding="utf-8")
    run = C.CallOptions(tz="America/Chicago", talkgroup="3105",
                        near=datetime(2025, 10, 4, 21, 40, tzinfo=C.zone("America/Chicago")),
                        within_s=300)
    quotes = C.scope_quotes(read_quote_table(table), run)
    assert [{r.recording for r in index.locate(q)[0]} for q in quotes] == [
        {"b.wav"}, {"c.wav"}, {"a.wav"}]  # the row's own, the row's own, the run's


def test_verify_names_the_row_of_a_quotes_table_whose_time_cannot_be_read(tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import cli

    table = tmp_path / "quotes.csv"
    table.write_text('quote_id,source,text,talkgroup,time\n'
                     'n:1,story.md,"Ten four, show me en route.",3105,last night\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["verify", "--quotes", str(table), str(tmp_path),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.output.strip() == (f"Error: {table} row 1 (quote_id n:1): time 'last night' is "
                                     "not a time (try '2025-10-04 21:40')")


@pytest.mark.parametrize("flag, packed", [([], False), (["--no-pack-calls"], False),
                                          (["--pack-calls"], True)])
def test_transcribe_packs_calls_of_one_talkgroup_into_shared_windows_when_asked(
        tmp_path, monkeypatch, flag, packed):
    from click.testing import CliRunner

    import pipeline.engines
    from pipeline.cli import cli

    for n in range(3):
        capture_call(tmp_path / "capture", n, trunk_call(start_ms=START_MS + n * 8000),
                     start_ms=START_MS + n * 8000, bursts=((0.5, 1.5 + 0.2 * n), (3.0, 4.2)))
    engine = FakeEngine()
    monkeypatch.setattr(pipeline.engines, "load_engine", lambda *a, **k: engine)
    result = CliRunner().invoke(cli, ["transcribe", str(tmp_path / "capture"), "--out", str(tmp_path / "out"),
                                      "--no-speakers", "-q", *flag])
    assert result.exit_code == 0, result.output
    assert "3 recordings (3 transcribed" in result.output
    # three calls of two short transmissions each: a window per call, or fewer shared ones
    assert engine.calls < 3 if packed else engine.calls == 3


# --- trunk-recorder's talkgroups file ---------------------------------------------------------

TALKGROUPS_CSV = """Decimal,Hex,Alpha Tag,Mode,Description,Tag,Category,Priority
3105,c21,PD Zone 8,D,"Police dispatch, zone 8",Law Dispatch,Police,1
3109,c25,PD Zone 8 Tac,E,Police tactical (encrypted),Law Tac,Police,3
4301,10cd,FD Main,D,Fire dispatch,Fire Dispatch,Fire,1
"""


def test_a_talkgroups_file_names_the_talkgroups_calls_leave_unnamed(tmp_path):
    (tmp_path / "talkgroups.csv").write_text(TALKGROUPS_CSV)
    bare = trunk_call(talkgroup=4301)
    for key in ("talkgroup_tag", "talkgroup_description", "talkgroup_group"):
        del bare[key]
    calls = [capture_call(tmp_path / "a", 1, bare, talkgroup=4301),          # JSON without names
             capture_call(tmp_path / "b", 2, None, talkgroup=3105),          # no JSON at all
             capture_call(tmp_path / "c", 3, trunk_call(talkgroup_tag="Zone 8 (JSON)"))]
    reader = C.CallReader(C.CallOptions(talkgroups=tmp_path / "talkgroups.csv"))
    named = [reader.read(str(p)) for p in calls]
    assert [(c.talkgroup, c.talkgroup_tag, c.talkgroup_description, c.talkgroup_group)
            for c in named] == [
        ("4301", "FD Main", "Fire dispatch", "Fire"),
        ("3105", "PD Zone 8", "Police dispatch, zone 8", "Police"),
        ("3105", "Zone 8 (JSON)", "Police dispatch, zone 8", "Police")]  # the call's own tag wins
    assert C.in_scope(named[0], "fd main")


@pytest.mark.parametrize("content, says", [
    (None, "talkgroups file {path}: No such file or directory"),
    ("3105,c21,PD Zone 8,D,Police dispatch,Law Dispatch,Police\n",
     "talkgroups file {path} is not trunk-recorder's: its first line must name the columns"),
    ("Decimal,Hex,Alpha Tag,Mode,Description,Tag,Category\n3105,c21,PD Zone 8,D,x,y,Police\n"
     "PD,c25,PD Tac,E,x,y,Police\n",
     "talkgroups file {path}, line 3: Decimal 'PD' is not a talkgroup number"),
])
def test_a_talkgroups_file_that_cannot_be_read_is_a_one_line_error(tmp_path, content, says):
    from click.testing import CliRunner

    from pipeline.cli import cli

    path = tmp_path / "talkgroups.csv"
    if content is not None:
        path.write_text(content)
    for command in (["transcribe", str(tmp_path)], ["verify", "--quotes", str(tmp_path), str(tmp_path)]):
        result = CliRunner().invoke(cli, [*command, "--talkgroups", str(path),
                                          "--out", str(tmp_path / "out")])
        assert result.exit_code == 1
        assert result.output.startswith("Error: " + says.format(path=path))
        assert result.output.count("\n") == 1
