"""Real-time factor of each engine on the test recordings, side by side in one run.

Usage:
    .venv/bin/python bench/bench_engines.py [--quick] [--model tiny.en] [--repeat N]

Each configuration (engine x greedy/beam 5) transcribes the same audio; runs are
interleaved round-robin so a busy machine slows all of them alike, and the best of
``--repeat`` runs is kept. Prints seconds of audio per second of compute ("x real
time") and each configuration's speed relative to the first. Models are loaded
before timing. ``bench/run_all.py`` records what it prints in ``bench/results/engines.txt``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA = ROOT / "tests" / "data"
SR = 16000
CONFIGS = (
    ("faster-whisper", "greedy", 1),
    ("faster-whisper", "beam 5", 5),
    ("openai-whisper", "greedy", 1),
    ("openai-whisper", "beam 5", 5),
)
"""(engine, label, beam size) measured, in print order."""


def load_clips(quick: bool) -> dict:
    """Name → float32 samples of the recordings to transcribe."""
    from pipeline.audio import load_audio

    names = ["phone-call.wav"] if quick else ["phone-call.wav", "apollo11.mp3"]
    return {name: load_audio(DATA / name) for name in names}


def time_config(engine, beam: int, clips: dict) -> float:
    """Seconds to transcribe every clip once with one engine and beam size."""
    from pipeline.engines import DecodeOptions

    options = DecodeOptions(beam_size=beam)
    started = time.perf_counter()
    for samples in clips.values():
        engine.transcribe(samples, options)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="phone call only, one run")
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--repeat", type=int, default=2, help="runs per configuration (best kept)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: default)")
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat

    from pipeline.engines import load_engine

    clips = load_clips(args.quick)
    audio_s = sum(len(c) for c in clips.values()) / SR
    engines = {name: load_engine(args.model, name, threads=args.threads)
               for name in dict.fromkeys(e for e, _, _ in CONFIGS)}
    load_before = os.getloadavg()[0]
    best = {cfg: float("inf") for cfg in CONFIGS}
    for _ in range(repeat):
        for cfg in CONFIGS:
            seconds = time_config(engines[cfg[0]], cfg[2], clips)
            print(f"  {cfg[0]} {cfg[1]}: {seconds:.2f} s", file=sys.stderr, flush=True)
            best[cfg] = min(best[cfg], seconds)
    report(best, audio_s, args, clips, (load_before, os.getloadavg()[0]))


def report(best: dict, audio_s: float, args, clips: dict, load: tuple) -> None:
    """Print the table of real-time factors and ratios."""
    print(f"model {args.model}, {audio_s:.1f} s of audio ({', '.join(clips)}), "
          f"best of {1 if args.quick else args.repeat}, {os.cpu_count()} CPUs, "
          f"load average {load[0]:.1f} -> {load[1]:.1f}")
    print(f"{'engine':16s} {'decoding':9s} {'seconds':>8s} {'x real time':>12s} {'vs first':>9s}")
    first = next(iter(best.values()))
    for (engine, label, _), seconds in best.items():
        print(f"{engine:16s} {label:9s} {seconds:8.2f} {audio_s / seconds:11.1f}x "
              f"{first / seconds:8.2f}x")


if __name__ == "__main__":
    main()
