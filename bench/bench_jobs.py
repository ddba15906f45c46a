"""Both cores: worker processes against CTranslate2 threads, side by side in one run.

``dispatch transcribe`` (the default pipeline, speaker labels included) as a subprocess
on the 30-minute scanner-like recording of ``bench_throughput.py``, laid out two ways:
one 30-minute file, and the same audio cut into ``--files`` files. Each layout is
transcribed with the default options, with ``--jobs 1 --threads 2`` and with
``--jobs 2 --threads 1``, interleaved, ``--repeat`` times; the best wall time of each
is printed with the load average before each run (the machine is shared).

``--jobs`` spreads recordings over worker processes, so on a single file ``--jobs 2
--threads 1`` runs one worker with one thread. The table goes to stdout and to
``bench/results/jobs.txt``.

Example:
    .venv/bin/python bench/bench_jobs.py
    .venv/bin/python bench/bench_jobs.py --minutes 10 --repeat 1   # quick
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_throughput import SR, Printout, build_recording, write_wav  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "jobs.txt"
CONFIGS = {"default": [], "--jobs 1 --threads 2": ["--jobs", "1", "--threads", "2"],
           "--jobs 2 --threads 1": ["--jobs", "2", "--threads", "1"]}


def layouts(folder: Path, minutes: float, files: int) -> dict[str, Path]:
    """The recording as one file and cut into ``files`` files: name -> path to transcribe."""
    samples, _ = build_recording(minutes)
    one = folder / "one"
    one.mkdir()
    write_wav(one / "scanner.wav", samples)
    many = folder / "many"
    many.mkdir()
    step = len(samples) // files
    for n in range(files):
        write_wav(many / f"part{n:02d}.wav", samples[n * step:(n + 1) * step])
    return {f"1 x {len(samples) / SR / 60:.0f} min": one / "scanner.wav",
            f"{files} x {step / SR / 60:.0f} min": many}


def run(path: Path, extra: list[str], model: str, out: Path) -> float:
    """Wall seconds of one ``dispatch transcribe`` subprocess."""
    cmd = [sys.executable, "-m", "pipeline", "transcribe", str(path), "--out", str(out),
           "--model", model, "--quiet", *extra]
    started = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--files", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--model", default="tiny.en")
    args = ap.parse_args()
    printout = Printout()
    say = printout.say
    say(f"dispatch transcribe (speaker labels included), model {args.model}, best of {args.repeat}")
    best: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for layout, path in layouts(Path(tmp), args.minutes, args.files).items():
            for r in range(args.repeat):
                for name, extra in CONFIGS.items():
                    load = os.getloadavg()[0]
                    wall = run(path, extra, args.model, Path(tmp) / f"out-{layout}-{name}-{r}")
                    say(f"  {layout:12s} {name:22s} {wall:7.1f} s   (load {load:.2f} before)")
                    key = (layout, name)
                    best[key] = min(best.get(key, wall), wall)
    say()
    say(f"{'layout':12s} " + " ".join(f"{name:>22s}" for name in CONFIGS) + "   fastest")
    for layout in dict.fromkeys(k[0] for k in best):
        times = {name: best[(layout, name)] for name in CONFIGS}
        say(f"{layout:12s} " + " ".join(f"{t:21.1f}s" for t in times.values())
            + f"   {min(times, key=times.get)}")
    printout.write(RESULTS)


if __name__ == "__main__":
    main()
