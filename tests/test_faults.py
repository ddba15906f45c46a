"""Faults a careless or hostile user meets: each case is one thing that must not give a
confident wrong answer, a traceback, or text that repaints the terminal.

Cases that need no model call the library directly; a real model is used only where the
claim is about what it hears (those are marked slow).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from pipeline import convert, models
from pipeline.articles import QuotesError
from pipeline.errors import DispatchError
from pipeline.extract import extract_quotes
from pipeline.quotes import QuoteTableError, load_quotes, quotes_to_rows

DATA = Path(__file__).parent / "data"

# --------------------------------------------------------------------------- articles and quotes


def test_two_spaces_after_a_closing_mark_do_not_abort_the_run():
    text = "“We are clear,”  said “Beat 833” on the channel."
    quotes = extract_quotes(text, "typo.txt")
    assert [q.text for q in quotes] == ["We are clear", "Beat 833"]


ESCAPES = {
    "colour": "\x1b[31;1m",
    "window title": "\x1b]0;all quotes confirmed\x07",
    "erase line": "\x1b[2K",
    "cursor up": "\x1b[1A",
    "bell and backspace": "\x07\x08",
}


@pytest.mark.parametrize("sequence", ESCAPES.values(), ids=ESCAPES.keys())
def test_escape_sequences_in_an_article_never_reach_the_quotes(tmp_path, sequence):
    article = tmp_path / "hostile.txt"
    article.write_text(f"The dispatcher{sequence} said, “all units{sequence} clear out now.”"
                       f"{sequence}\x1b[0m", encoding="utf-8")
    (quote,) = load_quotes([article])
    for value in quotes_to_rows([quote])[0].values():
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", str(value)), value
    assert quote.text == "all units clear out now."
    assert quote.attributed_to == "the dispatcher"


def test_quotes_piped_and_written_with_o_are_the_same_clean_bytes(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from pipeline.cli import cli

    monkeypatch.chdir(tmp_path)
    Path("hostile.txt").write_text("The dispatcher said, \x1b[31m“Units respond \x1b]0;done\x07"
                                   "to Main Street.”\x1b[2K\n", encoding="utf-8")
    piped = CliRunner().invoke(cli, ["quotes", "hostile.txt"])
    written = CliRunner().invoke(cli, ["quotes", "hostile.txt", "-o", "quotes.csv"])
    assert piped.exit_code == written.exit_code == 0
    assert piped.stdout_bytes == Path("quotes.csv").read_bytes()
    assert b"\x1b" not in piped.stdout_bytes and b"Units respond to Main Street." in piped.stdout_bytes


def test_articles_sharing_a_stem_get_different_quote_ids(tmp_path):
    (tmp_path / "inject.html").write_text("<p>He said “clear out now.”</p>", encoding="utf-8")
    (tmp_path / "inject.txt").write_text("He said “stand by please.”", encoding="utf-8")
    quotes = load_quotes([tmp_path / "inject.html", tmp_path / "inject.txt"])
    assert [q.quote_id for q in quotes] == ["inject.html:1", "inject.txt:1"]


def test_ids_stay_as_they_were_where_stems_do_not_clash():
    ids = [q.quote_id for q in load_quotes([DATA / "articles"])]
    assert ids[0] == "night-the-police-walked-away:1"
    assert "stand-down-or-stand-by:1" in ids and len(set(ids)) == len(ids)


def test_duplicate_quote_ids_in_a_table_are_refused_naming_the_rows(tmp_path):
    table = tmp_path / "quotes.csv"
    table.write_text("quote_id,source,text\n"
                     "Q1,memo,all units clear out\n"
                     "Q2,memo,we are blocked in\n"
                     "Q1,memo,stand down now\n", encoding="utf-8")
    with pytest.raises(QuoteTableError, match=r"quotes\.csv: .*'Q1' \(rows 1, 3\)") as err:
        load_quotes([table])
    assert isinstance(err.value, DispatchError) and "\n" not in str(err.value)


def test_the_same_id_from_two_tables_is_refused(tmp_path):
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text("quote_id,source,text\nQ1,memo,all units clear out\n")
    with pytest.raises(QuotesError, match=r"'Q1' \(memo\)"):
        load_quotes([tmp_path])


def test_a_latin1_article_is_read_with_a_warning_naming_it(tmp_path, caplog):
    article = tmp_path / "cafe.txt"
    article.write_bytes("The café owner said, “we saw él leave.”".encode("cp1252"))
    with caplog.at_level(logging.WARNING, logger="pipeline.articles"):
        (quote,) = load_quotes([article])
    assert quote.text == "we saw él leave."
    assert "cafe.txt" in caplog.text and "Windows-1252" in caplog.text


def test_an_undecodable_article_names_the_file_and_the_way_out(tmp_path):
    article = tmp_path / "mystery.txt"
    article.write_bytes(b"He said \x81\x8d\x90 clear out")
    with pytest.raises(QuotesError, match=r"mystery\.txt is not UTF-8 .*--encoding") as err:
        load_quotes([article])
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name,content", [
    ("report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"),
    ("report.docx", b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00"),
])
def test_a_pdf_or_word_file_is_refused_naming_the_file(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(QuotesError, match=rf"{re.escape(name)} is a .* document, not text"):
        load_quotes([path])


# --------------------------------------------------------------------------- cached models


@pytest.fixture
def small_conversion(tmp_path, monkeypatch):
    """A temporary cache, and a conversion that writes a small checkpoint instead of the
    real weights (the real conversion: test_models); counts conversions."""
    monkeypatch.setenv("DISPATCH_CACHE", str(tmp_path / "cache"))
    import torch

    calls = []
    monkeypatch.setattr(convert, "read_ct2_variables", lambda path: calls.append(path) or {})
    monkeypatch.setattr(convert, "ct2_dimensions", lambda variables: {"n_mels": 80})
    monkeypatch.setattr(convert, "ct2_to_openai_state",
                        lambda variables, dims: {"w": torch.arange(64, dtype=torch.float16)})
    return calls


def _flip_a_byte(path: Path, offset: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x01]))


def test_a_flipped_byte_in_a_cached_checkpoint_is_detected_and_rebuilt(small_conversion, caplog):
    path = convert.openai_checkpoint("tiny.en")
    good = path.read_bytes()
    assert convert.recorded_sha256(path) == models.file_sha256(path)
    _flip_a_byte(path, len(good) // 2)
    with caplog.at_level(logging.WARNING, logger="pipeline.convert"):
        assert convert.openai_checkpoint("tiny.en") == path
    assert "does not match its recorded SHA-256" in caplog.text
    assert path.read_bytes() == good
    assert len(small_conversion) == 2


def test_a_changed_checkpoint_given_by_path_is_refused(small_conversion, tmp_path):
    cached = convert.openai_checkpoint("tiny.en")
    mine = tmp_path / "mine.pt"
    mine.write_bytes(cached.read_bytes())
    convert.digest_path(mine).write_text(convert.digest_path(cached).read_text())
    assert convert.openai_checkpoint(str(mine)) == mine
    _flip_a_byte(mine, 100)
    with pytest.raises(models.ModelError, match=r"checksum mismatch for .*mine\.pt") as err:
        convert.openai_checkpoint(str(mine))
    assert isinstance(err.value, DispatchError) and "\n" not in str(err.value)


# --------------------------------------------------------------------------- recordings and the output folder
# Plumbing: the fake engine stands in for Whisper (the words are not the claim), except in the
# test marked slow, which kills a real `python -m pipeline transcribe`.

import csv  # noqa: E402
import errno  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from click.testing import CliRunner  # noqa: E402
from conftest import FakeEngine, write_bursts  # noqa: E402

from pipeline import cli as cli_module  # noqa: E402
from pipeline.transcribe import TranscribeOptions  # noqa: E402
from pipeline.workspace import FILENAME, Workspace, WorkspaceLocked, locked  # noqa: E402

FAKE_DISPATCH = Path(__file__).parent / "fake_dispatch.py"


@pytest.fixture
def dispatch(monkeypatch):
    """Run ``dispatch`` in this process with the fake engine; returns the click result.

    (A process keeps the engine it loaded, so a test that needs an engine to fail runs
    the command in a process of its own: ``FAKE_DISPATCH``.)
    """
    import pipeline.engines

    monkeypatch.setattr(pipeline.engines, "load_engine", lambda *a, **k: FakeEngine())
    return lambda *args: CliRunner().invoke(cli_module.cli, list(args))


@pytest.fixture
def calls(tmp_path, monkeypatch):
    """A working folder holding calls/ with three recordings; the current folder."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "calls"
    folder.mkdir()
    write_bursts(folder / "call-0411.wav")
    write_bursts(folder / "call-0412.wav", bursts=((1.0, 2.0),), duration=3.0)
    write_bursts(folder / "call-0413.wav", bursts=((0.2, 0.9), (1.5, 2.5)), duration=3.0)
    return folder


def transcribe(dispatch, *paths, out="out"):
    return dispatch("transcribe", *map(str, paths), "--out", str(out), "--quiet", "--no-speakers")


def rows(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def without_paths(table: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "recording"} for row in table]


def one_line_error(result) -> str:
    """The message of a command that failed as it should: exit 1, one line, no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    (line,) = [ln for ln in result.output.splitlines() if ln.startswith("Error: ")]
    return line


def test_a_renamed_recording_keeps_its_rows_and_is_not_transcribed_again(dispatch, calls,
                                                                         decoded):
    first = transcribe(dispatch, "calls/")
    assert first.exit_code == 0, first.output
    before = rows("out/segments.csv")
    (calls / "call-0412.wav").rename(calls / "2024-04-12_beat833.wav")
    decoded.clear()
    again = transcribe(dispatch, "calls/")
    assert again.exit_code == 0, again.output
    assert "3 recordings (0 transcribed, 3 already in the workspace)" in again.output
    assert decoded == []
    after = rows("out/segments.csv")
    assert without_paths(sorted(after, key=lambda r: r["recording"])) == without_paths(
        sorted(before, key=lambda r: r["recording"].replace("call-0412", "2024-04-12_beat833")))
    assert "calls/2024-04-12_beat833.wav" in {r["recording"] for r in after}
    assert "calls/call-0412.wav" not in {r["recording"] for r in after}
    exported = dispatch("export", "segments", "--out", "out")
    assert exported.exit_code == 0 and f"({len(after)} rows)" in exported.output
    assert rows("out/segments.csv") == after


@pytest.mark.parametrize("spellings", [
    ["calls/", "./calls/", "calls/"],
    ["calls/call-0411.wav", "./calls/call-0411.wav", "calls/call-0411.wav"],
    ["calls", "{abs}/calls", "./calls/../calls"],
])
def test_every_spelling_of_a_path_gives_the_same_rows(dispatch, calls, spellings):
    tables = []
    for spelling in spellings:
        result = transcribe(dispatch, spelling.format(abs=calls.parent))
        assert result.exit_code == 0, result.output
        tables.append(rows("out/segments.csv"))
    assert tables[0] and tables[0] == tables[1] == tables[2]
    assert all(r["recording"].startswith("calls/") for r in tables[0])
    exported = dispatch("export", "segments", "--out", "out")
    assert f"({len(tables[0])} rows)" in exported.output


def test_one_recording_spelled_three_ways_in_one_run_is_one_recording(dispatch, calls):
    result = transcribe(dispatch, "calls/call-0411.wav", "./calls/call-0411.wav",
                        calls / "call-0411.wav")
    assert result.exit_code == 0, result.output
    assert "1 recording (1 transcribed" in result.output
    assert {r["recording"] for r in rows("out/segments.csv")} == {"calls/call-0411.wav"}


def test_byte_identical_files_both_appear_and_are_transcribed_once(dispatch, calls, decoded):
    shutil.copy(calls / "call-0411.wav", calls / "copy-of-0411.wav")
    result = transcribe(dispatch, calls / "call-0411.wav", calls / "copy-of-0411.wav")
    assert result.exit_code == 0, result.output
    assert decoded == ["calls/call-0411.wav"]
    assert "2 recordings (1 transcribed, 1 already in the workspace)" in result.output
    table = rows("out/segments.csv")
    a = [r for r in table if r["recording"] == "calls/call-0411.wav"]
    b = [r for r in table if r["recording"] == "calls/copy-of-0411.wav"]
    assert a and without_paths(a) == without_paths(b) and len(table) == len(a) + len(b)


def test_speaker_labels_of_one_path_never_reach_a_file_with_the_same_bytes(tmp_path):
    from pipeline.records import Segment, Transcript

    def transcript(recording, speaker):
        return Transcript(recording, "same-bytes", 5.0, "tiny.en", "faster-whisper",
                          [Segment(0, 0.5, 1.1, "ten four", [], -0.3, 0.02, speaker=speaker)])

    with Workspace(tmp_path) as ws:
        run = ws.begin_run(["a.wav", "b.wav"])
        ws.put("k", transcript("a.wav", ""), {})
        ws.mark_done("b.wav", "k")
        ws.update_speakers(transcript("a.wav", "Dispatcher"))
        ws.update_speakers(transcript("b.wav", "Unit 7"))
        shown = [(t.recording, t.segments[0].speaker) for t in ws.transcripts(run)]
    assert shown == [("a.wav", "Dispatcher"), ("b.wav", "Unit 7")]


def test_export_after_a_killed_run_exports_the_last_finished_one(dispatch, calls):
    assert transcribe(dispatch, "calls/").exit_code == 0
    finished = rows("out/segments.csv")
    for n in range(4, 8):
        write_bursts(calls / f"call-04{n:02d}.wav", bursts=((0.3, 1.0 + n / 10),), duration=2.5)
    _killed_mid_batch(slow_fake_transcribe("calls/", out="out"), Path("out"), done=4)
    exported = dispatch("export", "segments", "--out", "out")
    assert exported.exit_code == 0, exported.output
    assert "note: the last run" in exported.output and "did not finish" in exported.output
    assert rows("out/segments.csv") == finished


def test_ctrl_c_leaves_no_partial_table_and_frees_the_workspace(dispatch, calls):
    process = subprocess.Popen(slow_fake_transcribe("calls/", out="out"), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    _wait_for_transcripts(process, Path("out"), 1)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 1 and "Aborted!" in stderr and "Traceback" not in stderr
    assert not [p.name for p in Path("out").iterdir() if p.suffix in (".csv", ".tmp")]
    resumed = transcribe(dispatch, "calls/")  # the lock was freed
    assert resumed.exit_code == 0, resumed.output
    assert "(0 transcribed" not in resumed.output and "0 already" not in resumed.output


def test_two_fresh_runs_write_byte_identical_tables(dispatch, calls):
    for out in ("one", "two"):
        assert transcribe(dispatch, "calls/", out=out).exit_code == 0
    for table in ("segments.csv", "words.csv"):
        assert Path("one", table).read_bytes() == Path("two", table).read_bytes()


def test_damaged_files_are_reported_and_skipped(dispatch, calls):
    good = (calls / "call-0411.wav").read_bytes()
    (calls / "truncated.wav").write_bytes(good[:40])
    (calls / "empty.wav").write_bytes(b"")
    (calls / "notes.wav").write_text("this is not audio\n")
    (calls / "mislabelled.mp3").write_bytes(b"\x00" * 2048)
    result = transcribe(dispatch, "calls/")
    assert result.exit_code == 1
    assert "3 recordings (3 transcribed" in result.output
    failed = {ln.split(":")[0] for ln in result.output.splitlines() if ln.startswith("FAILED")}
    assert failed == {f"FAILED calls/{n}" for n in
                      ("truncated.wav", "empty.wav", "notes.wav", "mislabelled.mp3")}
    assert len({r["recording"] for r in rows("out/segments.csv")}) == 3


def slow_fake_transcribe(*paths: str, out: str) -> list[str]:
    """``dispatch transcribe`` with the fake engine in a process of its own, 0.3 s a window."""
    return [sys.executable, str(FAKE_DISPATCH), "--delay", "0.3", "transcribe", *paths,
            "--out", out, "--quiet", "--no-speakers"]


def _wait_for_transcripts(process: subprocess.Popen, out: Path, done: int,
                          timeout: float = 60) -> None:
    """Wait until ``done`` transcripts are committed in ``out`` while ``process`` runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if (out / FILENAME).exists():
            db = sqlite3.connect(f"file:{out / FILENAME}?mode=ro", uri=True, timeout=5)
            try:
                n = db.execute("SELECT count(*) FROM transcripts").fetchone()[0]
            except sqlite3.OperationalError:
                n = 0
            finally:
                db.close()
            if n >= done:
                break
        time.sleep(0.05)
    assert process.poll() is None, "the batch finished before it could be stopped"


def _killed_mid_batch(command: list[str], out: Path, done: int, timeout: float = 60) -> None:
    """Run ``command`` and kill -9 it once ``done`` transcripts are committed in ``out``."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_transcripts(process, out, done, timeout)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()


def test_kill_9_mid_batch_then_resume_gives_identical_tables(dispatch, calls):
    for n in range(4, 7):
        write_bursts(calls / f"call-04{n:02d}.wav", bursts=((0.3, 1.0 + n / 10),), duration=2.5)
    assert transcribe(dispatch, "calls/", out="clean").exit_code == 0
    _killed_mid_batch(slow_fake_transcribe("calls/", out="out"), Path("out"), done=2)
    with Workspace("out") as ws:
        assert 2 <= ws.db.execute("SELECT count(*) FROM transcripts").fetchone()[0] < 6
    resumed = transcribe(dispatch, "calls/")
    assert resumed.exit_code == 0 and "6 recordings" in resumed.output
    assert "0 transcribed" not in resumed.output and "0 already" not in resumed.output
    for table in ("segments.csv", "words.csv"):
        assert Path("out", table).read_bytes() == Path("clean", table).read_bytes()


@pytest.mark.slow
def test_kill_9_of_the_real_command_then_resume_gives_identical_tables(calls):
    """`python -m pipeline transcribe` with tiny.en, killed after its first recording."""
    for n in range(4, 7):
        write_bursts(calls / f"call-04{n:02d}.wav", bursts=((0.3, 1.0 + n / 10),), duration=2.5)
    command = [sys.executable, "-m", "pipeline", "transcribe", "calls/", "--quiet",
               "--no-speakers", "--out"]
    env_cwd = {"cwd": calls.parent}
    subprocess.run([*command, "clean"], check=True, capture_output=True, **env_cwd)
    _killed_mid_batch([*command, "out"], calls.parent / "out", done=1, timeout=300)
    resumed = subprocess.run([*command, "out"], check=True, capture_output=True, text=True,
                             **env_cwd)
    assert "0 already in the workspace" not in resumed.stdout
    for table in ("segments.csv", "words.csv"):
        assert (calls.parent / "out" / table).read_bytes() == (
            calls.parent / "clean" / table).read_bytes()


# ---- one writer per workspace

HOLD = "import sys, time\nfrom pipeline.workspace import locked\nwith locked(sys.argv[1]):\n" \
       "    print('held', flush=True)\n    time.sleep(120)\n"


def test_a_second_process_on_the_same_out_is_refused_and_a_killed_holder_blocks_nothing(
        dispatch, calls):
    out = calls.parent / "out"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE,
                              text=True, cwd=Path(__file__).parents[1])
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WorkspaceLocked, match=rf"in use by another dispatch process "
                                                  rf"\(PID {holder.pid}\)"):
            with locked(out):
                pass
        line = one_line_error(transcribe(dispatch, "calls/"))
        assert f"out/ is in use by another dispatch process (PID {holder.pid})" in line
        assert "--out" in line
        assert not (out / "segments.csv").exists()
    finally:
        holder.kill()
        holder.wait()
    result = transcribe(dispatch, "calls/")  # the kernel freed the lock of the killed holder
    assert result.exit_code == 0, result.output


def test_the_lock_is_taken_again_by_its_holder(tmp_path):
    with locked(tmp_path), locked(tmp_path):
        assert (tmp_path / "workspace.lock").read_text().strip() == str(os.getpid())
    with locked(tmp_path):  # released, so free to take again
        pass


# ---- the output folder cannot be written

def test_out_under_a_file_is_a_one_line_error(dispatch, calls):
    Path("notafolder").write_text("x")
    line = one_line_error(transcribe(dispatch, "calls/", out="notafolder/out"))
    assert "cannot write to notafolder/out/" in line and "--out" in line


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root writes through a read-only mode; test_out_under_a_file and "
                           "test_a_read_only_file_system cover the message")
def test_a_read_only_out_is_a_one_line_error(dispatch, calls):
    Path("out").mkdir(mode=0o555)
    line = one_line_error(transcribe(dispatch, "calls/"))
    assert "cannot write to out/" in line and "--out" in line


def test_a_read_only_file_system_is_a_one_line_error(dispatch, calls, monkeypatch):
    real_connect = sqlite3.connect

    def read_only(path, *args, **kwargs):
        if str(path).endswith(FILENAME):
            raise sqlite3.OperationalError("unable to open database file")
        return real_connect(path, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", read_only)
    line = one_line_error(transcribe(dispatch, "calls/"))
    assert "cannot write to out/ (unable to open database file)" in line


class _FullDisk:
    """A SQLite connection on a disk that fills once transcripts are written."""

    def __init__(self, db):
        self._db = db

    def execute(self, sql, *args):
        if "INTO transcripts" in sql:
            raise sqlite3.OperationalError("database or disk is full")
        return self._db.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._db, name)

    def __enter__(self):
        return self._db.__enter__()

    def __exit__(self, *exc):
        return self._db.__exit__(*exc)


def test_a_full_disk_in_the_workspace_is_a_one_line_error(dispatch, calls, monkeypatch):
    assert transcribe(dispatch, "calls/call-0411.wav").exit_code == 0
    before = Path("out/segments.csv").read_bytes()
    real_connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: _FullDisk(real_connect(*a, **k)))
    line = one_line_error(transcribe(dispatch, "calls/"))
    assert "no space left on the disk holding out/" in line and "run the same command again" in line
    assert Path("out/segments.csv").read_bytes() == before  # the last complete table stays
    monkeypatch.setattr(sqlite3, "connect", real_connect)
    assert transcribe(dispatch, "calls/").exit_code == 0  # space freed: it goes on


def test_a_full_disk_while_writing_a_table_leaves_the_last_complete_one(dispatch, calls,
                                                                        monkeypatch):
    import pandas as pd

    assert transcribe(dispatch, "calls/call-0411.wav").exit_code == 0
    before = {name: Path("out", name).read_bytes() for name in ("segments.csv", "words.csv")}
    real_to_csv = pd.DataFrame.to_csv

    def half_then_full(frame, path=None, *args, **kwargs):
        Path(path).write_text(real_to_csv(frame, None, *args, **kwargs)[:40])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_full)
    line = one_line_error(transcribe(dispatch, "calls/"))
    assert "no space left on the disk holding out/" in line
    assert {name: Path("out", name).read_bytes() for name in before} == before
    assert not [p for p in Path("out").iterdir() if p.name.endswith(".tmp")]


def _mp3(path: Path, samples, constant: bool = False) -> Path:
    """An MP3 with a header stating its length (Xing for variable bit rates, Info for a
    constant one), as LAME writes to a file it can seek."""
    import av
    import numpy as np

    with av.open(str(path), "w") as out:
        stream = out.add_stream("mp3", rate=16000)
        if constant:
            stream.bit_rate = 32000
        else:
            stream.options = {"q": "5"}
        frame = av.AudioFrame.from_ndarray((samples[None, :] * 32767).astype(np.int16),
                                           format="s16", layout="mono")
        frame.sample_rate = 16000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return path


@pytest.mark.parametrize("kind", ["wav", "vbr.mp3", "cbr.mp3"])
def test_a_truncated_file_is_flagged_not_taken_for_whole(tmp_path, kind):
    """A file cut to its first 30 % keeps a header stating the whole length: what decodes
    is kept, and the shortfall is written down."""
    from pipeline import audio

    wav = Path(__file__).parent / "data" / "phone-call.wav"
    whole = wav if kind == "wav" else _mp3(tmp_path / f"whole.{kind}", audio.load_audio(wav),
                                           constant=kind == "cbr.mp3")
    cut = tmp_path / f"cut.{kind}"
    data = whole.read_bytes()
    cut.write_bytes(data[: int(len(data) * 0.3)])
    samples = audio.load_audio(cut)
    [note] = audio.decode_warnings(cut, len(samples))
    assert note.startswith("truncated: decoded") and "30.0 s its header states" in note
    assert audio.decode_warnings(whole, len(audio.load_audio(whole))) == []


def test_a_truncated_recording_is_transcribed_with_a_warning_in_its_table(tmp_path):
    from pipeline import batch, export

    wav = Path(__file__).parent / "data" / "phone-call.wav"
    calls = tmp_path / "calls"
    calls.mkdir()
    data = wav.read_bytes()
    (calls / "cut.wav").write_bytes(data[: int(len(data) * 0.3)])
    summary = batch.run_batch([calls], TranscribeOptions(), Workspace(tmp_path / "out"),
                              engine=FakeEngine(), progress=False)
    [t] = summary.transcripts
    assert t.warnings and t.warnings[0].startswith("truncated")
    assert export.segments_frame([t])["warnings"].str.startswith("truncated").all()
