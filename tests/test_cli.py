"""The command line, with a fake engine and a fake voice encoder: exit codes, files, output."""

import csv
import json

import pytest
from click.testing import CliRunner
from conftest import FakeEngine

from pipeline import cli as cli_module


class FakeEncoder:
    """Stands in for the resemblyzer voice encoder in plumbing tests: a fixed projection of
    the mel frames. Never for a claim about speakers (test_speakers uses the real one)."""

    device = "cpu"

    def __call__(self, mels):
        import torch

        weights = torch.randn(mels.shape[2], 256, generator=torch.Generator().manual_seed(0))
        return torch.nn.functional.normalize(mels.mean(1) @ weights, dim=1)


@pytest.fixture
def runner(monkeypatch):
    import pipeline.engines
    from pipeline.speakers import labelling

    monkeypatch.setattr(pipeline.engines, "load_engine", lambda *a, **k: FakeEngine())
    monkeypatch.setattr(labelling, "process_encoder", FakeEncoder)
    return CliRunner()


def test_every_command_has_help():
    runner = CliRunner()
    for name, command in cli_module.cli.commands.items():
        result = runner.invoke(cli_module.cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert command.help and "Example:" in command.help, name


def test_help_imports_no_library_module():
    import subprocess
    import sys

    code = ("import sys; from click.testing import CliRunner; from pipeline.cli import cli; "
            "CliRunner().invoke(cli, ['--help']); "
            "print(sorted(m for m in sys.modules if m in ('numpy', 'torch', 'pandas') "
            "or m.startswith('pipeline.') and m != 'pipeline.cli'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_choices_come_from_the_registries():
    from pipeline.engines import ENGINES
    from pipeline.export import FORMATS

    runner = CliRunner()
    help_text = runner.invoke(cli_module.cli, ["transcribe", "--help"]).output
    assert all(name in help_text for name in ENGINES)
    result = runner.invoke(cli_module.cli, ["transcribe", "x.wav", "--engine", "whisper.cpp"])
    assert result.exit_code == 2 and "whisper.cpp" in result.output
    result = runner.invoke(cli_module.cli, ["export", "words", "--format", "xml"])
    assert result.exit_code == 2
    assert all(fmt in result.output for fmt in (*FORMATS, "rttm"))


def test_version():
    result = CliRunner().invoke(cli_module.cli, ["--version"])
    assert result.exit_code == 0 and "dispatch, version" in result.output


def test_transcribe_writes_csvs_and_fails_on_bad_files(runner, batch_dir, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(cli_module.cli, ["transcribe", str(batch_dir), "--out", str(out),
                                            "--quiet"])
    assert result.exit_code == 1
    assert "2 recordings (2 transcribed, 0 already in the workspace)" in result.output
    assert "FAILED" in result.output and "notes.wav" in result.output
    segments = list(csv.DictReader(open(out / "segments.csv")))
    words = list(csv.DictReader(open(out / "words.csv")))
    # the tables hold paths from the run's root (here the recordings' folder), given once
    assert {r["recording"] for r in segments} == {"a.wav", "night/b.wav"}
    assert json.loads((out / "run.json").read_text()) == {"root": str(batch_dir)}
    for seg in segments:  # a segment's text is its words joined
        mine = [w["word"] for w in words if (w["recording"], w["segment_id"]) ==
                (seg["recording"], seg["segment_id"])]
        assert seg["text"] == " ".join(mine)


def test_transcribe_good_files_exits_zero_and_rerun_is_cached(runner, batch_dir, tmp_path):
    args = ["transcribe", str(batch_dir / "a.wav"), "--out", str(tmp_path), "--quiet"]
    assert runner.invoke(cli_module.cli, args).exit_code == 0
    again = runner.invoke(cli_module.cli, args)
    assert again.exit_code == 0
    assert "(0 transcribed, 1 already in the workspace)" in again.output


def test_missing_path_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(cli_module.cli, ["transcribe", str(tmp_path / "nope.wav"), "--out",
                                            str(tmp_path)])
    assert result.exit_code == 1
    assert "no such file or folder" in result.output


@pytest.mark.parametrize("table, fmt, expected", [
    ("segments", "csv", "segments.csv"),
    ("words", "json", "words.json"),
    ("segments", "srt", "srt"),
    ("segments", "vtt", "vtt"),
])
def test_export_formats(runner, batch_dir, tmp_path, table, fmt, expected):
    runner.invoke(cli_module.cli, ["transcribe", str(batch_dir / "a.wav"), "--out", str(tmp_path),
                                   "--quiet"])
    result = runner.invoke(cli_module.cli, ["export", table, "--format", fmt, "--out",
                                            str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / expected).exists()


def test_export_without_workspace(tmp_path):
    result = CliRunner().invoke(cli_module.cli, ["export", "words", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "run `dispatch transcribe` first" in result.output


def test_python_dash_m_pipeline_works():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "pipeline", "--help"], capture_output=True,
                         text=True, check=True)
    assert "transcribe" in out.stdout


ARTICLES = "transcripts"


def test_quotes_prints_a_reviewable_csv_that_feeds_back(tmp_path):
    from pipeline.quotes import load_quotes

    result = CliRunner().invoke(cli_module.cli, ["quotes", ARTICLES])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(result.output.splitlines()))
    assert len(rows) == len(load_quotes([ARTICLES])) == 35
    assert {"quote_id", "source", "text", "attributed_to", "recording"} <= set(rows[0])
    edited = tmp_path / "quotes.csv"
    edited.write_text(result.output, encoding="utf-8")
    again = load_quotes([edited])
    assert [q.quote_id for q in again] == [r["quote_id"] for r in rows]


def test_verify_writes_quote_tables(runner, batch_dir, tmp_path, monkeypatch):
    """Plumbing only: the judge is stubbed (real verdicts: test_adjudicate, test_verify)."""
    from test_verify import fake_adjudicate

    from pipeline import verify

    monkeypatch.setattr(verify, "load_scorers", lambda options: [object()])
    monkeypatch.setattr(verify, "adjudicate", fake_adjudicate("verbatim"))
    quotes = tmp_path / "q.csv"
    quotes.write_text("quote_id,source,text\nmine-1,memo,ten four dispatch\n"
                      "mine-2,memo,the department is aware of an incident\n")
    out = tmp_path / "out"
    result = runner.invoke(cli_module.cli, ["verify", "--quotes", str(quotes),
                                            str(batch_dir / "a.wav"), "--out", str(out),
                                            "--quiet", "--no-speakers"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(open(out / "quotes.csv", encoding="utf-8")))
    assert [(r["quote_id"], r["verdict"]) for r in rows] == [("mine-1", "verbatim"),
                                                             ("mine-2", "not_found")]
    words = list(csv.DictReader(open(out / "quote_words.csv", encoding="utf-8")))
    assert [w["word"] for w in words] == ["ten", "four", "dispatch"]
    assert "1 verbatim, 1 not_found" in result.output


def test_verify_with_an_unknown_judge_is_a_one_line_error(runner, batch_dir, tmp_path):
    quotes = tmp_path / "q.csv"
    quotes.write_text("quote_id,source,text\nmine-1,memo,ten four dispatch\n")
    result = runner.invoke(cli_module.cli, ["verify", "--quotes", str(quotes),
                                            str(batch_dir / "a.wav"), "--out", str(tmp_path / "out"),
                                            "--quiet", "--no-speakers", "--judge", "typo"])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: ") and "typo" in last
    assert "Traceback" not in result.output


def test_verify_with_an_unreadable_glossary_is_a_one_line_error(runner, batch_dir, tmp_path):
    quotes = tmp_path / "q.csv"
    quotes.write_text("quote_id,source,text\nmine-1,memo,ten four dispatch\n")
    glossary = tmp_path / "agency.csv"
    glossary.write_bytes(b"kind,written,said\n\xff\xfe,bad\n")
    result = runner.invoke(cli_module.cli, ["verify", "--quotes", str(quotes), "--glossary",
                                            str(glossary), str(batch_dir / "a.wav"), "--out",
                                            str(tmp_path / "out"), "--quiet", "--no-speakers"])
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: cannot read the glossary") and "agency.csv" in last
    assert not (tmp_path / "out").exists()


def test_verify_compares_with_the_agency_glossary(runner, batch_dir, tmp_path, monkeypatch):
    from pipeline import text

    used = []
    monkeypatch.setattr(text, "use_glossary", lambda *paths: used.extend(paths))
    monkeypatch.setattr(cli_module, "writing", lambda out: (_ for _ in ()).throw(SystemExit(3)))
    glossary = tmp_path / "agency.csv"
    glossary.write_text("kind,written,said,source\nunit,Sq 1,squad one,ours\n")
    quotes = tmp_path / "q.csv"
    quotes.write_text("quote_id,source,text\nmine-1,memo,ten four dispatch\n")
    result = runner.invoke(cli_module.cli, ["verify", "--quotes", str(quotes), "--glossary",
                                            str(glossary), str(batch_dir / "a.wav"), "--quiet"])
    assert result.exit_code == 3 and used == [str(glossary)]


def test_transcribe_renames_speakers_in_the_tables(runner, batch_dir, tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("Dispatcher = Sgt Ruiz\n")
    out = tmp_path / "out"
    result = runner.invoke(cli_module.cli, ["transcribe", str(batch_dir / "a.wav"), "--out",
                                            str(out), "--quiet", "--speaker-names", str(names)])
    assert result.exit_code == 0, result.output
    segments = list(csv.DictReader(open(out / "segments.csv", encoding="utf-8")))
    assert {r["speaker"] for r in segments} == {"Sgt Ruiz"}


def test_verify_decodes_each_recording_once(runner, batch_dir, tmp_path, monkeypatch, decoded):
    """The samples decoded to transcribe are the ones quote windows are cut from."""
    from test_verify import fake_adjudicate

    from pipeline import verify

    monkeypatch.setattr(verify, "load_scorers", lambda options: [object()])
    monkeypatch.setattr(verify, "adjudicate", fake_adjudicate("verbatim"))
    quotes = tmp_path / "q.csv"
    quotes.write_text("quote_id,source,text\nmine-1,memo,ten four dispatch\n")
    recordings = [str(batch_dir / "a.wav"), str(batch_dir / "night" / "b.wav")]
    result = runner.invoke(cli_module.cli, ["verify", "--quotes", str(quotes), *recordings,
                                            "--out", str(tmp_path / "out"), "--quiet",
                                            "--no-speakers"])
    assert result.exit_code == 0, result.output
    assert "1 verbatim" in result.output  # a quote window was cut from the samples
    assert sorted(decoded) == sorted(recordings)


def test_progress_names_each_stage_as_it_starts(runner, batch_dir, tmp_path):
    one = runner.invoke(cli_module.cli, ["transcribe", str(batch_dir / "a.wav"), "--out",
                                         str(tmp_path / "one")])
    assert one.exit_code == 0, one.output
    stages = [line for line in one.stderr.splitlines() if line.endswith(" ...")]
    assert stages == ["loading the tiny.en model (faster-whisper) ...",
                      f"decoding {batch_dir / 'a.wav'} ...", "labelling speakers ..."]
    assert "s of audio" in one.stderr  # one recording: its bar counts seconds of audio
    many = runner.invoke(cli_module.cli, ["transcribe", str(batch_dir), "--out",
                                          str(tmp_path / "many"), "--no-speakers"])
    assert "decoding and transcribing 4 recordings ..." in many.stderr
    assert "labelling speakers" not in many.stderr


def test_verify_names_the_judge_and_verifying(runner, batch_dir, tmp_path, monkeypatch):
    from test_verify import fake_adjudicate

    from pipeline import verify

    monkeypatch.setattr(verify, "load_scorers", lambda options: [object()])
    monkeypatch.setattr(verify, "adjudicate", fake_adjudicate("verbatim"))
    quotes = tmp_path / "q.csv"
    quotes.write_text("quote_id,source,text\nmine-1,memo,ten four dispatch\n")
    args = ["verify", "--quotes", str(quotes), str(batch_dir / "a.wav"), "--out", str(tmp_path),
            "--no-speakers"]
    result = runner.invoke(cli_module.cli, args)
    assert result.exit_code == 0, result.output
    assert "loading the judge base and the witness tiny.en ..." in result.stderr
    assert "verifying 1 quotes ..." in result.stderr
    quiet = runner.invoke(cli_module.cli, ["-q", *args])
    assert quiet.exit_code == 0
    assert quiet.stderr == ""
    assert "1 verbatim" in quiet.stdout  # the verdicts stay
    assert "recording" not in quiet.stdout and "wrote" not in quiet.stdout


def test_quiet_keeps_failures_and_tables_and_drops_the_rest(runner, batch_dir, tmp_path):
    result = runner.invoke(cli_module.cli, ["-q", "transcribe", str(batch_dir), "--out",
                                            str(tmp_path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert [line.split()[0] for line in result.stderr.splitlines()] == ["FAILED", "FAILED"]
    assert (tmp_path / "segments.csv").exists() and (tmp_path / "words.csv").exists()


def test_transcribe_glossary_feeds_the_prompt_and_a_changed_glossary_transcribes_again(
        runner, tmp_path, monkeypatch):
    from conftest import write_bursts

    from pipeline import batch

    (tmp_path / "calls").mkdir()
    call = write_bursts(tmp_path / "calls" / "zone8.wav")
    glossary = tmp_path / "agency.csv"
    glossary.write_text("kind,written,said,source\nunit,Beat 833,beat eight thirty three,roster\n"
                        "street,Kedzie Ave,kedzie avenue,county GIS\n", encoding="utf-8")
    prompts = []
    real = batch.transcribe_paths
    monkeypatch.setattr(batch, "transcribe_paths", lambda paths, options, *a, **k: (
        prompts.append(options.decode.initial_prompt), real(paths, options, *a, **k))[1])

    def run():
        result = runner.invoke(cli_module.cli, ["transcribe", str(call), "--out", str(tmp_path / "out"),
                                                "--prompt", "Ten-four, show me en route.",
                                                "--glossary", str(glossary), "--no-speakers", "-q"])
        assert result.exit_code == 0, result.output
        return result.output.splitlines()[0]

    assert run() == "1 recording (1 transcribed, 0 already in the workspace):"
    assert prompts[-1] == "Ten-four, show me en route., Beat 833, Kedzie Ave"
    assert run() == "1 recording (0 transcribed, 1 already in the workspace):"
    with glossary.open("a", encoding="utf-8") as f:
        f.write("talkgroup,PD Zone 8,p d zone eight,trunk-recorder talkgroups\n")
    assert run() == "1 recording (1 transcribed, 0 already in the workspace):"
    assert prompts[-1] == "Ten-four, show me en route., Beat 833, Kedzie Ave, PD Zone 8"


def test_transcribe_says_so_when_a_glossary_cannot_be_read(runner, tmp_path):
    bad = tmp_path / "agency.csv"
    bad.write_bytes(b"kind,written,said\nunit,\xff\xfe833,x\n")
    result = runner.invoke(cli_module.cli, ["transcribe", str(tmp_path), "--glossary", str(bad),
                                            "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and result.output.startswith(f"Error: cannot read the glossary {bad}")
