"""Batches on a Dask cluster: the same results as in process, faults survived, nothing done twice.

A ``LocalCluster`` of 2 worker processes with 1 thread each is started inside the
tests. The fake engine (sent to the workers) is used where the claim is about
scheduling; the real tiny.en model where it is about transcripts (marked slow).
"""

from __future__ import annotations

import os
import signal
import time
import wave
from pathlib import Path

import pytest
from conftest import DATA, FakeEngine, write_bursts

from pipeline.audio import SAMPLE_RATE, load_audio
from pipeline.batch import run_batch
from pipeline.executors import ClusterError, ClusterSpec
from pipeline.export import segments_frame, words_frame
from pipeline.transcribe import TranscribeOptions
from pipeline.workspace import Workspace

distributed = pytest.importorskip("distributed")


class KillingEngine(FakeEngine):
    """Kills the worker process it runs in the first time any worker calls it (the
    marker file remembers that it did)."""

    def __init__(self, marker: Path):
        super().__init__()
        self.marker = marker

    def transcribe(self, audio, options, clips=None):
        if not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return super().transcribe(audio, options, clips)


class FlakyEngine(FakeEngine):
    """Raises once (in any process) for one length of audio, and always for another."""

    def __init__(self, marker: Path, flaky: float, broken: float):
        super().__init__()
        self.marker, self.flaky, self.broken = marker, flaky, broken

    def transcribe(self, audio, options, clips=None):
        seconds = len(audio) / 16000
        if abs(seconds - self.broken) < 0.01:
            raise RuntimeError("engine broke")
        if abs(seconds - self.flaky) < 0.01 and not self.marker.exists():
            self.marker.write_text("raised once")
            raise RuntimeError("a passing fault")
        return super().transcribe(audio, options, clips)


@pytest.fixture(scope="module")
def cluster():
    """A scheduler with 2 single-threaded worker processes."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=50) as local:
        yield ClusterSpec(local.scheduler_address)


@pytest.fixture
def recordings(tmp_path, batch_dir):
    """The shared batch folder (two good, a corrupt one, a text file named .wav) and six more,
    whose one transmission each is heard as a window of 1.15 + n / 2 seconds."""
    for n in range(6):
        write_bursts(batch_dir / f"call{n}.wav", bursts=((0.2, 0.9 + n / 2),), duration=2.0 + n / 2)
    return batch_dir


def _outcome(summary):
    return ([(t.recording, t.segments, t.transmissions) for t in summary.transcripts],
            summary.failures)


def test_cluster_matches_in_process_and_a_second_run_does_nothing(recordings, tmp_path, cluster):
    with Workspace(tmp_path / "here") as ws:
        here = run_batch([recordings], TranscribeOptions(), ws, engine=FakeEngine())
    for ship in (False, True):
        spec = ClusterSpec(cluster.address, ship_audio=ship)
        with Workspace(tmp_path / f"there{ship}") as ws:
            there = run_batch([recordings], TranscribeOptions(), ws, engine=FakeEngine(), cluster=spec)
            again = run_batch([recordings], TranscribeOptions(), ws, engine=FakeEngine(), cluster=spec)
        assert _outcome(there) == _outcome(here)
        assert (there.transcribed, len(there.failures)) == (8, 2)
        assert (again.transcribed, again.cached) == (0, 8)
        assert _outcome(again) == _outcome(here)


def test_process_pool_matches_in_process(recordings, tmp_path, monkeypatch):
    import pipeline.engines

    monkeypatch.setattr(pipeline.engines, "load_engine", lambda *a, **k: FakeEngine())
    with Workspace(tmp_path / "here") as ws:
        here = run_batch([recordings], TranscribeOptions(), ws, engine=FakeEngine())
    with Workspace(tmp_path / "pool") as ws:
        pool = run_batch([recordings], TranscribeOptions(), ws, jobs=2)
    assert _outcome(pool) == _outcome(here)


def test_killed_worker_loses_nothing_and_duplicates_nothing(recordings, tmp_path, cluster):
    engine = KillingEngine(tmp_path / "killed")
    with Workspace(tmp_path / "ws") as ws:
        summary = run_batch([recordings], TranscribeOptions(), ws, engine=engine, cluster=cluster)
        rows = ws.db.execute("SELECT recording, COUNT(*) FROM transcripts GROUP BY recording").fetchall()
    assert (tmp_path / "killed").exists()  # a worker did die mid-task
    assert summary.transcribed == 8
    assert sorted(rows) == sorted((t.recording, 1) for t in summary.transcripts)
    assert [Path(f.recording).name for f in summary.failures] == ["corrupt.wav", "notes.wav"]


def test_a_task_that_raises_is_retried_then_recorded_as_failed(recordings, tmp_path, cluster):
    engine = FlakyEngine(tmp_path / "raised", flaky=1.65, broken=2.65)
    spec = ClusterSpec(cluster.address, retries=1)
    with Workspace(tmp_path / "ws") as ws:
        summary = run_batch([recordings], TranscribeOptions(), ws, engine=engine, cluster=spec)
    reasons = {Path(f.recording).name: f.reason for f in summary.failures}
    assert summary.transcribed == 7  # the flaky one included, on its second try
    assert sorted(reasons) == ["call3.wav", "corrupt.wav", "notes.wav"]
    assert reasons["call3.wav"] == "internal error while transcribing: RuntimeError('engine broke')"


def test_unreachable_scheduler_is_a_one_line_error(batch_dir, tmp_path):
    started = time.perf_counter()
    with pytest.raises(ClusterError) as caught, Workspace(tmp_path / "ws") as ws:
        run_batch([batch_dir], TranscribeOptions(), ws, engine=FakeEngine(),
                  cluster=ClusterSpec("tcp://127.0.0.1:9", connect_timeout=2))
    assert time.perf_counter() - started < 10
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("cannot reach the Dask scheduler at tcp://127.0.0.1:9")


def _clips(folder: Path) -> Path:
    """Four short real recordings cut from tests/data, and a corrupt one."""
    folder.mkdir()
    for n, (source, start) in enumerate([("apollo11.mp3", 0), ("apollo11.mp3", 8),
                                         ("phone-call.wav", 0), ("phone-call.wav", 10)]):
        piece = load_audio(DATA / source)[start * SAMPLE_RATE:(start + 6) * SAMPLE_RATE]
        with wave.open(str(folder / f"clip{n}.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SAMPLE_RATE)
            w.writeframes((piece * 32767).astype("<i2").tobytes())
    (folder / "clip9.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt " + bytes(range(7, 250)) * 4)
    return folder


@pytest.mark.slow
def test_cluster_transcripts_match_in_process_row_for_row(tmp_path, cluster):
    folder = _clips(tmp_path / "clips")
    options = TranscribeOptions()
    with Workspace(tmp_path / "here") as ws:
        here = run_batch([folder], options, ws)
    with Workspace(tmp_path / "there") as ws:
        there = run_batch([folder], options, ws, cluster=cluster)
    assert len(here.transcripts) == 4 and len(here.failures) == 1
    assert there.failures == here.failures
    for frame in (segments_frame, words_frame):
        assert frame(there.transcripts).equals(frame(here.transcripts))
