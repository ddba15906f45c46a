"""Transcripts and quotes in the formats people use: names, layouts, speakers, escaping; and
the tables a spreadsheet opens (byte-order mark), JSON as written, runs kept."""

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FakeEngine

from pipeline import cli as cli_module
from pipeline import export, formats
from pipeline.records import Segment, Transcript, Word


def transcript(recording="calls/north/dispatch-channel.mp3"):
    words = [Word(0.5, 0.8, " Shots", 0.9), Word(0.8, 1.1, " fired", 0.8)]
    return Transcript(recording=recording, sha256="abc", duration=10.0, model="tiny.en",
                      engine="faster-whisper",
                      segments=[Segment(0, 0.5, 1.1, " Shots fired", words=words, speaker="Unit 1"),
                                Segment(1, 3725.5, 3726.0, " a <b> & --> c", speaker="Dispatcher"),
                                Segment(2, 3727.0, 3728.0, " no label")])


def test_txt_has_a_line_per_segment_with_the_speaker_as_whisperx_writes_it():
    assert formats.to_txt(transcript()) == "[Unit 1]: Shots fired\n[Dispatcher]: a <b> & --> c\nno label\n"


def test_srt_and_vtt_cues_carry_speakers_and_escape_markup():
    srt = formats.to_srt(transcript())
    assert srt.splitlines()[:3] == ["1", "00:00:00,500 --> 00:00:01,100", "[Unit 1]: Shots fired"]
    assert "01:02:05,500 --> 01:02:06,000\n[Dispatcher]: a <b> & -> c\n" in srt
    vtt = formats.to_vtt(transcript())
    assert vtt.startswith("WEBVTT\n")
    assert "01:02:05.500 --> 01:02:06.000\n[Dispatcher]: a &lt;b> &amp; -> c\n" in vtt


def test_word_level_vtt_puts_a_timestamp_before_each_later_word():
    vtt = formats.to_vtt(transcript(), words=True)
    assert "00:00:00.500 --> 00:00:01.100\n[Unit 1]: Shots <00:00:00.800>fired\n" in vtt


def test_tsv_is_whispers_layout_in_milliseconds_with_the_speaker_last():
    rows = list(csv.reader(formats.to_tsv(transcript()).splitlines(), delimiter="\t"))
    assert rows[0] == ["start", "end", "text", "speaker"]
    assert rows[1] == ["500", "1100", "Shots fired", "Unit 1"]
    assert rows[3] == ["3727000", "3728000", "no label", ""]


def test_json_nests_words_in_segments_with_speakers_and_keeps_slashes():
    data = formats.to_json(transcript())
    assert "\\/" not in data and '"calls/north/dispatch-channel.mp3"' in data
    nested = json.loads(data)
    first = nested["segments"][0]
    assert first["speaker"] == "Unit 1" and first["text"] == "Shots fired"
    assert first["words"] == [
        {"word": "Shots", "start": 0.5, "end": 0.8, "probability": 0.9, "speaker": "Unit 1"},
        {"word": "fired", "start": 0.8, "end": 1.1, "probability": 0.8, "speaker": "Unit 1"}]
    assert first["wall_start"] is None and nested["wall_clock_start"] is None


def test_json_gives_wall_clock_times_when_the_file_name_holds_them():
    nested = json.loads(formats.to_json(transcript("calls/9131-1700000000_851.0125.wav")))
    assert nested["wall_clock_start"] == "2023-11-14T22:13:20+00:00"
    assert nested["segments"][0]["wall_start"] == "2023-11-14T22:13:20.500+00:00"


@pytest.mark.parametrize("spec, expected", [
    ("srt", ("srt",)),
    ("txt, SRT,txt", ("txt", "srt")),
    ("all", formats.OUTPUT_FORMATS),
    ("vtt-words,all", ("vtt-words", *formats.OUTPUT_FORMATS)),
])
def test_output_formats_are_parsed_as_whisper_names_them(spec, expected):
    assert formats.parse_output_formats(spec) == expected


def test_an_unknown_output_format_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="unknown output format 'docx'.*txt, vtt, srt"):
        formats.parse_output_formats("srt,docx")


def test_files_are_named_by_stem_and_same_stems_told_apart_by_their_folders(tmp_path):
    recordings = ["/tmp/x/calls/north/chan.mp3", "/tmp/x/calls/south/chan.mp3", "b.wav", "b.mp3"]
    written = formats.write_transcripts([transcript(r) for r in recordings], tmp_path, ["srt", "txt"])
    names = sorted(p.relative_to(tmp_path).as_posix() for p in written)
    assert names == ["srt/b.mp3.srt", "srt/b.wav.srt", "srt/north/chan.srt", "srt/south/chan.srt",
                     "txt/b.mp3.txt", "txt/b.wav.txt", "txt/north/chan.txt", "txt/south/chan.txt"]


def test_word_vtt_files_sit_beside_a_plain_vtt_name(tmp_path):
    [path] = formats.write_transcripts([transcript("a/call.wav")], tmp_path, ["vtt-words"])
    assert path.relative_to(tmp_path).as_posix() == "vtt-words/call.words.vtt"


QUOTE_ROWS = [
    {"quote_id": "night:1", "quote_text": "Shots | fired", "verdict": "verbatim", "heard_text": "shots fired",
     "speaker": "Unit 1", "recording": "audio/chan.mp3", "start_s": 75.25, "end_s": 77.0},
    {"quote_id": "night:2", "quote_text": "gone", "verdict": "not_found", "heard_text": None,
     "speaker": None, "recording": None, "start_s": None, "end_s": None},
]


def test_quotes_as_a_markdown_table_to_paste():
    lines = formats.quotes_markdown(QUOTE_ROWS).splitlines()
    assert lines[0] == "| Quote id | Quote | Verdict | Heard | Speaker | Where |"
    assert lines[2] == ("| night:1 | Shots \\| fired | verbatim | shots fired | Unit 1 | "
                        "chan.mp3 1:15.2–1:17.0 |")
    assert lines[3] == "| night:2 | gone | not_found |  |  |  |"


def test_json_tables_keep_slashes_and_text_as_written(tmp_path):
    import pandas as pd

    frame = pd.DataFrame([{"recording": "calls/a.wav", "text": "“Ten-four”", "n": None}])
    text = export.write_table(frame, tmp_path / "t.json", "json").read_text(encoding="utf-8")
    assert "\\/" not in text
    assert json.loads(text) == [{"recording": "calls/a.wav", "text": "“Ten-four”", "n": None}]


def test_excel_csv_starts_with_a_byte_order_mark_and_keeps_the_formula_guard(tmp_path):
    import pandas as pd

    frame = pd.DataFrame([{"quote": "“We will rebuild”", "cell": "=cmd()"}])
    data = export.write_table(frame, tmp_path / "q.csv", excel=True).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines() == ["quote,cell", "“We will rebuild”,'=cmd()"]
    assert not export.write_table(frame, tmp_path / "plain.csv").read_bytes().startswith(b"\xef")


def test_a_table_read_back_has_its_formula_guard_taken_off(tmp_path):
    import pandas as pd

    path = export.write_table(pd.DataFrame([{"a": "=1+1", "b": 2.5, "c": None}]), tmp_path / "t.csv",
                              excel=True)
    assert export.read_rows(path) == [{"a": "=1+1", "b": 2.5, "c": None}]


# The command line, with the fake engine and voice encoder of test_cli.

@pytest.fixture
def runner(monkeypatch):
    from test_cli import FakeEncoder

    import pipeline.engines
    from pipeline.speakers import labelling

    monkeypatch.setattr(pipeline.engines, "load_engine", lambda *a, **k: FakeEngine())
    monkeypatch.setattr(labelling, "process_encoder", FakeEncoder)
    return CliRunner()


def test_transcribe_writes_each_output_format_named_after_the_recording(runner, batch_dir, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(cli_module.cli, ["transcribe", str(batch_dir / "a.wav"), "--out", str(out),
                                            "-q", "--no-speakers", "--output-format", "all"])
    assert result.exit_code == 0, result.output
    assert sorted(p.relative_to(out).as_posix() for p in out.glob("*/a.*")) == [
        "json/a.json", "srt/a.srt", "tsv/a.tsv", "txt/a.txt", "vtt/a.vtt"]
    assert (out / "txt" / "a.txt").read_text() == "ten four\ndispatch\n"  # the fake engine's two segments


def test_json_names_each_recording_as_the_tables_do_with_their_root_beside_it(
        runner, batch_dir, tmp_path, monkeypatch):
    elsewhere, out = tmp_path / "elsewhere", tmp_path / "out"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the recordings are not under the current folder
    recordings = [str(batch_dir / "a.wav"), str(batch_dir / "night" / "b.wav")]

    def json_recordings() -> set[str]:
        """The JSON files' recordings, each found under the root in json/run.json."""
        root = json.loads((out / "json" / "run.json").read_text())["root"]
        assert root == json.loads((out / "run.json").read_text())["root"] == str(batch_dir)
        named = {json.loads(p.read_text())["recording"] for p in (out / "json").rglob("*.json")
                 if p.name != "run.json"}
        assert all((Path(root) / r).is_file() for r in named)
        return named

    result = runner.invoke(cli_module.cli, ["transcribe", *recordings, "--out", str(out), "-q",
                                            "--no-speakers", "--output-format", "json"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(open(out / "segments.csv", encoding="utf-8")))
    assert {r["recording"] for r in rows} == {"a.wav", "night/b.wav"}
    assert json_recordings() == {"a.wav", "night/b.wav"}
    shutil.rmtree(out / "json")
    result = runner.invoke(cli_module.cli, ["export", "segments", "--output-format", "json",
                                            "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json_recordings() == {"a.wav", "night/b.wav"}


def test_export_subtitles_are_named_by_stem_not_by_the_whole_path(runner, batch_dir, tmp_path):
    runner.invoke(cli_module.cli, ["transcribe", str(batch_dir / "a.wav"), "--out", str(tmp_path), "-q"])
    result = runner.invoke(cli_module.cli, ["export", "segments", "--format", "srt", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert [p.name for p in (tmp_path / "srt").iterdir()] == ["a.srt"]


def test_export_csv_for_excel(runner, batch_dir, tmp_path):
    runner.invoke(cli_module.cli, ["transcribe", str(batch_dir / "a.wav"), "--out", str(tmp_path), "-q"])
    result = runner.invoke(cli_module.cli, ["export", "words", "--excel", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "words.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def _verify(runner, batch_dir, quotes, out, *extra):
    return runner.invoke(cli_module.cli, ["verify", "--quotes", str(quotes), str(batch_dir / "a.wav"),
                                          "--out", str(out), "-q", "--no-speakers", *extra])


@pytest.fixture
def stub_judge(monkeypatch):
    from test_verify import fake_adjudicate

    from pipeline import verify

    monkeypatch.setattr(verify, "load_scorers", lambda options: [object()])
    monkeypatch.setattr(verify, "adjudicate", fake_adjudicate("verbatim"))


def test_a_second_verify_keeps_the_first_runs_tables(runner, batch_dir, tmp_path, stub_judge):
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text("quote_id,source,text\nmine-1,memo,ten four dispatch\n")
    second.write_text("quote_id,source,text\nother-1,memo,ten four\n")
    out = tmp_path / "out"
    assert _verify(runner, batch_dir, first, out).exit_code == 0
    result = _verify(runner, batch_dir, second, out)
    assert result.exit_code == 0, result.output
    [kept] = (out / export.RUNS_DIR).iterdir()
    assert sorted(p.name for p in kept.iterdir()) == ["quote_words.csv", "quotes.csv", "run.json"]
    assert (kept / "run.json").read_text() == (out / "run.json").read_text()  # the same root
    assert "mine-1" in (kept / "quotes.csv").read_text()
    assert "other-1" in (out / "quotes.csv").read_text() and "mine-1" not in (out / "quotes.csv").read_text()


def test_quotes_export_as_json_and_markdown(runner, batch_dir, tmp_path, stub_judge):
    quotes = tmp_path / "q.csv"
    quotes.write_text("quote_id,source,text\nmine-1,memo,ten four dispatch\n")
    out = tmp_path / "out"
    assert _verify(runner, batch_dir, quotes, out).exit_code == 0
    for fmt in ("json", "md"):
        result = runner.invoke(cli_module.cli, ["export", "quotes", "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
    [row] = json.loads((out / "quotes.json").read_text())
    assert row["quote_id"] == "mine-1" and row["verdict"] == "verbatim"
    table = (out / "quotes.md").read_text().splitlines()
    assert table[2].startswith("| mine-1 | ten four dispatch | verbatim |")


def test_quote_words_name_the_recording_they_were_heard_in(runner, batch_dir, tmp_path, stub_judge):
    quotes = tmp_path / "q.csv"
    quotes.write_text("quote_id,source,text\nmine-1,memo,ten four dispatch\n")
    out = tmp_path / "out"
    assert _verify(runner, batch_dir, quotes, out).exit_code == 0
    words = list(csv.DictReader(open(out / "quote_words.csv", encoding="utf-8")))
    assert {w["recording"] for w in words} == {"a.wav"}  # from the root in run.json
    rows = list(csv.DictReader(open(out / "quotes.csv", encoding="utf-8")))
    assert rows[0]["recording"] == "a.wav"
    assert json.loads((out / "run.json").read_text())["root"] == str(batch_dir)


def test_json_takes_the_wall_clock_from_the_calls_metadata_first():
    from datetime import datetime, timezone

    from pipeline.records import CallInfo

    t = transcript("calls/north.wav")
    t.call = CallInfo("calls/north.wav", "trunk-recorder",
                      started_at=datetime(2025, 10, 5, 2, 40, 52, tzinfo=timezone.utc))
    nested = json.loads(formats.to_json(t))
    assert nested["segments"][0]["wall_start"] == "2025-10-05T02:40:52.500+00:00"
