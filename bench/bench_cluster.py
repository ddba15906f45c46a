"""The same batch in a process pool (``--jobs 2``) and on a Dask cluster (``--cluster local:2``).

Four parts, in one run on this machine:

1. A folder of 13 real recordings (the audio samples and the test clips cut into 30 s
   pieces) and a corrupt one, transcribed with tiny.en by ``run_batch`` with ``jobs=2``
   and with ``cluster=local:2`` (each from a fresh workspace, worker start and model
   loading included; interleaved, the best of ``--repeat`` runs kept, as the machine is
   shared): wall times side by side, and whether the segments, words and failures are
   identical row for row.
2. The cluster's own cost per task on 5-minute recordings (the scanner-like recording
   of ``bench_throughput.py``): on a warm 1-worker, 1-thread cluster, one recording per
   batch, the time from submitting the task to holding its transcript, less the
   transcription's own time on the worker; with the path read by the worker, and with
   the audio shipped (``--ship-audio``).
3. The client's single workspace writer: 5-minute transcripts stored per second.
4. On paper, from the per-core speed of part 2 and the writer of part 3: a year of 50
   talkgroups on 10 and on 100 workers.

Speaker labelling is left out (``--no-speakers``): it runs on the client after the batch,
the same way on both paths. The table goes to stdout and to ``bench/results/cluster.txt``.

Example:
    .venv/bin/python bench/bench_cluster.py
    .venv/bin/python bench/bench_cluster.py --five-minute 1   # quicker
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_throughput import SR, Printout, build_recording, write_wav  # noqa: E402

from pipeline import audio  # noqa: E402
from pipeline.batch import run_batch  # noqa: E402
from pipeline.executors import ClusterSpec  # noqa: E402
from pipeline.export import segments_frame, words_frame  # noqa: E402
from pipeline.transcribe import TranscribeOptions  # noqa: E402
from pipeline.workspace import Workspace  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "cluster.txt"
SOURCES = ["audio_samples/dispatch-channel.mp3", "audio_samples/routine-traffic.mp3",
           "tests/data/apollo11.mp3", "tests/data/phone-call.wav"]
PIECE_S = 30
TALKGROUPS = 50
YEAR_H = 365 * 24


def make_folder(folder: Path) -> Path:
    """The sources cut into pieces of up to 30 s (13 recordings), and a corrupt file."""
    folder.mkdir()
    for source in SOURCES:
        samples = audio.load_audio(ROOT / source)
        for n, start in enumerate(range(0, len(samples), PIECE_S * SR)):
            piece = samples[start:start + PIECE_S * SR]
            if len(piece) >= 10 * SR:
                write_wav(folder / f"{Path(source).stem}-{n}.wav", piece)
    (folder / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt " + bytes(range(7, 250)) * 4)
    return folder


def timed_batch(paths, out: Path, **kwargs):
    """A batch from a fresh workspace: its summary and wall seconds."""
    started = time.perf_counter()
    with Workspace(out) as ws:
        summary = run_batch(paths, TranscribeOptions(), ws, **kwargs)
    return summary, time.perf_counter() - started


def identical(a, b) -> bool:
    """Same segments, words and failures, row for row."""
    return (segments_frame(a.transcripts).equals(segments_frame(b.transcripts))
            and words_frame(a.transcripts).equals(words_frame(b.transcripts))
            and a.failures == b.failures)


class Timings(logging.Handler):
    """Keeps the executor's per-batch report: (tasks, median overhead ms, share of work %)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.reports: list[tuple] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "tasks on the cluster" in record.msg:
            self.reports.append(record.args)


def side_by_side(out: Printout, tmp: Path, repeat: int) -> None:
    folder = make_folder(tmp / "calls")
    n = len(list(folder.iterdir()))
    ways = {"--jobs 2 (process pool)": {"jobs": 2},
            "--cluster local:2 (Dask)": {"cluster": ClusterSpec("local:2")}}
    order = [*ways, *reversed(ways)] * repeat
    runs: dict[str, list] = {name: [] for name in ways}
    loads = []
    for k, name in enumerate(order[:2 * repeat]):
        loads.append(f"{os.getloadavg()[0]:.1f}")
        runs[name].append(timed_batch([folder], tmp / f"run{k}", **ways[name]))
    (pool, pool_s), (dask, dask_s) = (min(runs[name], key=lambda r: r[1]) for name in ways)
    minutes = pool.audio_hours * 60
    out.say(f"1. {n} recordings ({len(pool.transcripts)} good, {minutes:.1f} min of audio, "
            f"{len(pool.failures)} corrupt), tiny.en, fresh workspaces, workers started and models "
            f"loaded inside the time; best of {repeat}, interleaved (load before each run: "
            f"{', '.join(loads)})")
    out.say(f"  --jobs 2 (process pool)        {pool_s:6.1f} s   "
            f"(all: {', '.join(f'{s:.1f}' for _, s in runs[order[0]])})")
    out.say(f"  --cluster local:2 (Dask)       {dask_s:6.1f} s   ratio {dask_s / pool_s:.2f}   "
            f"(all: {', '.join(f'{s:.1f}' for _, s in runs[order[1]])})")
    out.say(f"  outputs identical (segments, words, failures): {identical(pool, dask)}")
    out.say(f"  of the cluster's time, starting and stopping the scheduler and 2 worker processes "
            f"with nothing to do: {cluster_start_stop():.1f} s (the pool forks its workers)")


def cluster_start_stop() -> float:
    """Seconds to start a 2-worker ``LocalCluster``, connect, and close it."""
    from distributed import Client, LocalCluster

    started = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR) as local, Client(local):
        pass
    return time.perf_counter() - started


def five_minute(out: Printout, tmp: Path, count: int) -> tuple[list, list[float]]:
    """Per-task overhead on 5-minute recordings; returns the transcripts, and the seconds
    each took to transcribe on its one-thread worker."""
    from distributed import LocalCluster

    folder = tmp / "five"
    folder.mkdir()
    files = []
    for k in range(count):
        write_wav(folder / f"scanner{k}.wav", build_recording(5, seed=k)[0])
        files.append(folder / f"scanner{k}.wav")
    handler = Timings()
    logging.getLogger("pipeline.executors").addHandler(handler)
    logging.getLogger("pipeline.executors").setLevel(logging.INFO)
    transcripts, work_seconds = [], []
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as local:
        address = local.scheduler_address
        warm = make_warmup(tmp)
        timed_batch([warm], tmp / "warm", cluster=ClusterSpec(address), threads=1)
        handler.reports.clear()
        out.say("2. 5-minute recordings on a warm 1-worker, 1-thread cluster, one per batch "
                "(overhead = submit to result on the client, less the work's time on the worker)")
        for ship in (False, True):
            for k, path in enumerate(files):
                summary, wall = timed_batch([path], tmp / f"five-{ship}-{k}",
                                            cluster=ClusterSpec(address, ship_audio=ship), threads=1)
                _, overhead_ms, share = handler.reports[-1]
                transcripts.append(summary.transcripts[0])
                work_seconds.append(overhead_ms / 1000 / (share / 100))
                out.say(f"  {path.name}  {'shipped' if ship else 'path   '}  batch {wall:5.1f} s   "
                        f"overhead {overhead_ms:6.1f} ms = {share:.2f} % of transcription "
                        f"({path.stat().st_size / 1e6:.1f} MB WAV), transcribed in "
                        f"{work_seconds[-1]:.1f} s")
    return transcripts, work_seconds


def make_warmup(tmp: Path) -> Path:
    path = tmp / "warm.wav"
    write_wav(path, audio.load_audio(ROOT / SOURCES[3])[:10 * SR])
    return path


def writer(out: Printout, tmp: Path, transcripts: list, repeat: int = 200) -> float:
    """5-minute transcripts stored per second by one workspace writer."""
    fingerprint = TranscribeOptions().fingerprint()
    copies = [dataclasses.replace(transcripts[n % len(transcripts)], recording=f"r{n}.wav")
              for n in range(repeat)]
    words = sum(len(s.words) for t in copies for s in t.segments)
    hashing = time.perf_counter()
    for t in transcripts:
        hashlib.sha256(Path(t.recording).read_bytes()).hexdigest()
    hash_mb_s = sum(Path(t.recording).stat().st_size for t in transcripts) / 1e6 / (
        time.perf_counter() - hashing)
    with Workspace(tmp / "writer") as ws:
        started = time.perf_counter()
        for n, t in enumerate(copies):
            ws.put(f"key{n}", t, fingerprint)
        seconds = time.perf_counter() - started
    out.say(f"3. workspace writer: {repeat / seconds:.0f} five-minute transcripts/s "
            f"({words / seconds:,.0f} words/s, {words / repeat:.0f} words each); the client hashes "
            f"recordings at {hash_mb_s:,.0f} MB/s from the page cache")
    return repeat / seconds


def on_paper(out: Printout, per_core_rtf: float, writes_per_s: float) -> None:
    audio_h = TALKGROUPS * YEAR_H
    files = audio_h * 12
    out.say(f"4. on paper: {TALKGROUPS} talkgroups x 1 year = {audio_h:,} h of audio = {files:,} "
            f"five-minute files; one core transcribes {per_core_rtf:.1f}x real time "
            f"(part 2); the writer stores {writes_per_s:.0f} files/s (part 3)")
    write_h = files / writes_per_s / 3600
    for workers in (10, 100):
        compute_h = audio_h / per_core_rtf / workers
        out.say(f"  {workers:3d} one-core workers: {compute_h:7,.0f} h = {compute_h / 24:5.1f} days of "
                f"transcription; the writer needs {write_h:.1f} h of it "
                f"({100 * write_h / compute_h:.1f} % busy)")
    out.say(f"  the writer keeps up until {writes_per_s * 300 / per_core_rtf:,.0f} one-core workers")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--five-minute", type=int, default=2, help="5-minute recordings in part 2.")
    ap.add_argument("--repeat", type=int, default=2, help="Runs of each way in part 1 (best kept).")
    args = ap.parse_args()
    out = Printout()
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as folder:
        tmp = Path(folder)
        side_by_side(out, tmp, args.repeat)
        transcripts, work_seconds = five_minute(out, tmp, args.five_minute)
        writes = writer(out, tmp, transcripts)
    per_core_rtf = 300 / sorted(work_seconds)[len(work_seconds) // 2]
    on_paper(out, per_core_rtf, writes)
    out.write(RESULTS)


if __name__ == "__main__":
    main()
