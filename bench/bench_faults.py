"""Nothing lost, nothing twice: a 1,000-file batch killed, resumed, then renamed and moved.

Plumbing only: the recordings are generated tone bursts and the engine is the fake one
of ``tests/conftest.py`` (injected as the tests inject it), because the claim is about
the workspace and the tables, not about what Whisper hears. One run prints, as counts:

1. A batch of ``--files`` short WAVs, 5 % of them damaged (cut inside the header, empty,
   text named .wav, random bytes named .mp3), is started as ``dispatch transcribe`` in a
   process of its own and killed with SIGKILL after a random number of recordings; the
   same command is run again. Against a clean run of the same batch: lost rows,
   duplicated rows, files transcribed again after they were committed, damaged files
   reported with a reason.
2. The folder is moved and every file renamed; the same command again: recordings
   transcribed again (0 expected), and whether the tables are identical except for paths.
3. Peak memory of the real ``dispatch transcribe`` (tiny.en, speakers labelled) on a
   ``--hours`` long MP3 of a quiet channel: low noise with a 12 s transmission from the
   audio samples every two minutes (the audio is held whole, decoded to 16 kHz float32).

The printout goes to stdout and to ``bench/results/faults.txt``.

Example:
    .venv/bin/python bench/bench_faults.py
    .venv/bin/python bench/bench_faults.py --files 200   # quick
"""

from __future__ import annotations

import argparse
import collections
import csv
import logging
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from bench_throughput import Printout  # noqa: E402
from conftest import FakeEngine  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "faults.txt"
FAKE_DISPATCH = ROOT / "tests" / "fake_dispatch.py"
SR = 16000
DAMAGES = ("truncated", "empty", "not audio", "wrong extension")


def write_call(path: Path, seed: int) -> None:
    """A short call: one or two tone bursts with noise, different for every seed."""
    rng = np.random.default_rng(seed)
    duration = rng.uniform(1.5, 3.0)
    samples = np.zeros(int(duration * SR), dtype=np.float32)
    for _ in range(rng.integers(1, 3)):
        start = rng.uniform(0.1, duration - 0.8)
        a, b = int(start * SR), int((start + rng.uniform(0.4, 0.7)) * SR)
        t = np.arange(b - a) / SR
        samples[a:b] += 0.3 * np.sin(2 * np.pi * rng.uniform(300, 900) * t)
    samples += 0.01 * rng.standard_normal(len(samples)).astype(np.float32)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def make_batch(folder: Path, files: int, seed: int) -> dict[str, str]:
    """``files`` recordings under ``folder`` (in 10 subfolders), 5 % damaged.

    Returns:
        Damaged file -> which damage.
    """
    rng = random.Random(seed)
    damaged_at = set(rng.sample(range(files), max(1, files // 20)))
    damaged = {}
    for n in range(files):
        sub = folder / f"day{n % 10:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"call-{n:04d}.wav"
        write_call(path, seed * 100_000 + n)
        if n in damaged_at:
            kind = DAMAGES[len(damaged) % len(DAMAGES)]
            if kind == "truncated":
                path.write_bytes(path.read_bytes()[:30])
            elif kind == "empty":
                path.write_bytes(b"")
            elif kind == "not audio":
                path.write_text("<html><body>404 not found</body></html>\n")
            else:
                path.unlink()
                path = path.with_suffix(".mp3")
                path.write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
            damaged[path.relative_to(folder.parent).as_posix()] = kind
    return damaged


def transcribe(paths: list[str], out: str):
    """``dispatch transcribe`` in this process with the fake engine: its summary."""
    from pipeline.batch import transcribe_paths
    from pipeline.transcribe import TranscribeOptions

    return transcribe_paths(paths, TranscribeOptions(), out, speakers=None, progress=False)


def committed(out: Path) -> int:
    """Transcripts committed in a workspace (read while another process may write it)."""
    if not (out / "workspace.sqlite").exists():
        return 0
    db = sqlite3.connect(f"file:{out / 'workspace.sqlite'}?mode=ro", uri=True, timeout=5)
    try:
        return db.execute("SELECT count(*) FROM transcripts").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


def kill_after(out: Path, done: int, delay: float) -> tuple[int, float]:
    """Run the batch in its own process and SIGKILL it once ``done`` transcripts are in.

    Returns:
        Transcripts committed when it died, and seconds it ran.
    """
    command = [sys.executable, str(FAKE_DISPATCH), "--delay", str(delay), "transcribe", "calls",
               "--out", str(out), "--quiet", "--no-speakers"]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while process.poll() is None and committed(out) < done:
            time.sleep(0.02)
        if process.poll() is not None:
            raise SystemExit("the batch finished before the kill: lower --delay's speed-up")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    return committed(out), time.perf_counter() - started


def read_rows(path: Path) -> list[tuple]:
    with open(path, encoding="utf-8", newline="") as f:
        return [tuple(row.items()) for row in csv.DictReader(f)]


def compare(resumed: list[tuple], clean: list[tuple]) -> tuple[int, int]:
    """Rows of the clean table missing from the resumed one, and rows there too often."""
    have, want = collections.Counter(resumed), collections.Counter(clean)
    return sum((want - have).values()), sum((have - want).values())


def renamed(table: list[tuple], moves: dict[str, str]) -> list[tuple]:
    """A table with its recording paths moved."""
    return [tuple((k, moves.get(v, v) if k == "recording" else v) for k, v in row) for row in table]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--hours", type=float, default=3.0,
                    help="length of the long recording of part 3 (0 leaves part 3 out)")
    ap.add_argument("--delay", type=float, default=0.01,
                    help="seconds per window in the killed run, so the kill lands mid-batch")
    args = ap.parse_args()
    out = Printout()
    out.say("plumbing only: generated tone-burst WAVs, and the fake engine of tests/conftest.py "
            "instead of Whisper (the claim is about the workspace and the tables)")
    import pipeline.engines
    from pipeline.workspace import Workspace

    logging.getLogger("pipeline").setLevel(logging.ERROR)  # the damaged files are counted below
    engine = FakeEngine()
    pipeline.engines.load_engine = lambda *a, **k: engine
    with tempfile.TemporaryDirectory(prefix="bench_faults_") as tmp:
        os.chdir(tmp)
        damaged = make_batch(Path("calls"), args.files, args.seed)
        good = args.files - len(damaged)
        kinds = collections.Counter(damaged.values())
        out.say(f"\nbatch: {args.files} files in calls/, {len(damaged)} damaged "
                f"({', '.join(f'{n} {k}' for k, n in kinds.items())})")

        clean = transcribe(["calls"], "clean")
        out.say(f"clean run: {len(clean.transcripts)} transcribed, {len(clean.failures)} reported "
                f"failed, {clean.seconds:.1f} s")

        kill_at = random.Random(args.seed).randrange(good // 10, good * 9 // 10)
        done, ran = kill_after(Path("out"), kill_at, args.delay)
        out.say(f"\n1. killed (SIGKILL) after {done} of {good} recordings were committed "
                f"({ran:.1f} s in), then the same command again")
        calls_before = engine.calls
        resumed = transcribe(["calls"], "out")
        table = {name: read_rows(Path("out", name)) for name in ("segments.csv", "words.csv")}
        reference = {name: read_rows(Path("clean", name)) for name in table}
        lost = {name: compare(table[name], reference[name]) for name in table}
        identical = all(Path("out", n).read_bytes() == Path("clean", n).read_bytes() for n in table)
        reported = {f.recording: f.reason for f in resumed.failures}
        out.say(f"   recordings in the tables: {len(resumed.transcripts)} of {good} good files")
        for name, (missing, extra) in lost.items():
            out.say(f"   {name}: {len(table[name])} rows; lost rows {missing}, duplicated rows {extra}")
        out.say(f"   files transcribed again after they were committed: "
                f"{resumed.transcribed - (good - done)} (rerun transcribed {resumed.transcribed}, "
                f"{good - done} were left; {engine.calls - calls_before} engine windows)")
        out.say(f"   transcripts stored: {committed(Path('out'))} for {good} good files")
        out.say(f"   damaged files reported with a reason: "
                f"{sum(1 for p in damaged if reported.get(p))} of {len(damaged)}; "
                f"other failures: {len(set(reported) - set(damaged))}")
        out.say(f"   tables byte-identical to the clean run: {'yes' if identical else 'no'}")
        for kind in DAMAGES:
            example = next(p for p, k in damaged.items() if k == kind)
            out.say(f"   {kind}: {reported.get(example, 'NOT REPORTED').split(': ', 1)[-1]}")

        shutil.move("calls", "archive")
        moves = {}
        for path in sorted(Path("archive").rglob("*.*")):
            target = Path("moved") / path.parent.name / f"2024-04-{path.name}"
            target.parent.mkdir(parents=True, exist_ok=True)
            path.rename(target)
            moves[("calls" / path.relative_to("archive")).as_posix()] = target.as_posix()
        calls_before = engine.calls
        _DECODED.clear()
        moved = transcribe(["moved"], "out")
        same = all(read_rows(Path("out", n)) == renamed(table[n], moves) for n in table)
        out.say("\n2. every file moved to moved/ and renamed, then the same command on moved/")
        damaged_now = {moves[p] for p in damaged}
        good_decoded = [p for p in _DECODED if p not in damaged_now]
        out.say(f"   recordings transcribed again: {moved.transcribed} "
                f"({engine.calls - calls_before} engine windows, {len(good_decoded)} good files "
                f"decoded); {moved.cached} taken from the workspace")
        out.say(f"   recordings in the tables: {len(moved.transcripts)}; failures reported: "
                f"{len(moved.failures)} (the damaged files, decoded and refused again)")
        with Workspace("out") as ws:
            exported = [t.recording for t in ws.transcripts()]
        out.say(f"   dispatch export: {len(exported)} recordings, {len(set(exported))} distinct, "
                f"{sum(p.startswith('calls/') for p in exported)} under their old paths")
        out.say(f"   tables identical except for the paths: {'yes' if same else 'no'}")
        os.chdir(ROOT)
        if args.hours:
            long_recording(out, Path(tmp), args.hours)
    out.write(RESULTS)


def long_recording(out: Printout, tmp: Path, hours: float) -> None:
    """Part 3: ``dispatch transcribe`` on a long MP3 in a process of its own; its peak RSS."""
    path = tmp / "long.mp3"
    write_long_mp3(path, hours)
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "pipeline", "transcribe", str(path),
                              "--out", str(tmp / "long-out"), "-q"], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    error = child.stderr.read().decode(errors="replace").strip().splitlines()
    with (tmp / "long-out" / "segments.csv").open(encoding="utf-8-sig") as f:
        segments = sum(1 for _ in f) - 1
    out.say(f"\n3. dispatch transcribe on a {hours:g}-hour MP3 ({path.stat().st_size / 1e6:.0f} MB, "
            f"a transmission every 2 min), tiny.en, speakers labelled: exit {child.returncode}"
            f"{' (' + error[-1] + ')' if child.returncode and error else ''}, {segments} segments, "
            f"{time.perf_counter() - started:.0f} s")
    out.say(f"   peak memory (max RSS): {usage.ru_maxrss / 1e6:.2f} GB; the decoded audio alone is "
            f"{hours * 3600 * 16000 * 4 / 1e9:.2f} GB")


def write_long_mp3(path: Path, hours: float, every_s: int = 120, clip_s: int = 12) -> None:
    """A quiet channel: low noise, and a clip of the demo's recording every ``every_s``."""
    import av

    from pipeline import audio

    sr = audio.SAMPLE_RATE
    clip = audio.load_audio(ROOT / "audio_samples" / "dispatch-channel.mp3")[: clip_s * sr]
    rng = np.random.default_rng(0)
    block = every_s * sr
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mp3", rate=sr)
        stream.bit_rate, stream.layout = 32000, "mono"
        for _ in range(-(-int(hours * 3600 * sr) // block)):
            x = rng.standard_normal(block).astype(np.float32) * np.float32(0.003)
            x[: len(clip)] += clip
            frame = av.AudioFrame.from_ndarray(x.reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = sr
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


_DECODED: list[str] = []
"""Recordings decoded in this process (a file decoded is a file about to be transcribed)."""


def _count_decodes() -> None:
    """Keep every path ``audio.load_audio`` decodes in ``_DECODED``."""
    from pipeline import audio

    load_audio = audio.load_audio

    def counting(path, *args, **kwargs):
        _DECODED.append(str(path))
        return load_audio(path, *args, **kwargs)

    audio.load_audio = counting


if __name__ == "__main__":
    _count_decodes()
    main()
