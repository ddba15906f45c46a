"""Benchmark: vectorised silence detection against pydub's, on one long recording.

Builds a scanner-like recording (the Apollo 11 air-to-ground clip repeated,
long stretches of low hiss between, most of it silence), runs
``pydub.silence.detect_nonsilent`` and ``pipeline.audio.detect_nonsilent`` on
the same ``AudioSegment`` with the same arguments, and prints both times, the
speed-up and the largest boundary disagreement; PASS when the speed-up is at least
100x and no boundary moves more than 10 ms.

pydub's takes minutes on 30 minutes of audio; ``--minutes 3`` is a quick run.

Example:
    .venv/bin/python bench/bench_segment.py --minutes 30
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import audio  # noqa: E402

CLIP = ROOT / "tests" / "data" / "apollo11.mp3"
MIN_SPEEDUP = 100.0
"""Speed-up over pydub that PASS needs."""
MAX_DISAGREEMENT_MS = 10
"""Largest boundary difference from pydub's, in ms, that PASS allows."""


def build_recording(minutes: float, gap_s: float, seed: int = 0) -> np.ndarray:
    """The clip, then ``gap_s`` of hiss at about -60 dBFS, repeated and cut to ``minutes``."""
    clip = audio.load_audio(CLIP)
    rng = np.random.default_rng(seed)
    total = int(minutes * 60 * audio.SAMPLE_RATE)
    pieces, length = [], 0
    while length < total:
        hiss = rng.normal(0.0, 0.001, int(gap_s * audio.SAMPLE_RATE)).astype(np.float32)
        pieces += [clip, hiss]
        length += len(clip) + len(hiss)
    return np.concatenate(pieces)[:total]


def max_disagreement_ms(ours: list[list[int]], theirs: list[list[int]]) -> float:
    """Largest difference between paired boundaries; infinite when the counts differ."""
    if len(ours) != len(theirs):
        return float("inf")
    if not ours:
        return 0.0
    return float(np.abs(np.array(ours) - np.array(theirs)).max())


def timed(fn, *args, **kwargs):
    """Call ``fn`` and return its result and the seconds it took."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="recording length (30)")
    parser.add_argument("--gap", type=float, default=300.0, help="seconds of hiss between clips")
    parser.add_argument("--min-silence", type=int, default=1000, help="min_silence_len in ms")
    parser.add_argument("--seek-step", type=int, default=1, help="seek_step in ms")
    args = parser.parse_args()

    samples = build_recording(args.minutes, args.gap)
    seg = audio.array_to_segment(samples)
    thresh = audio.silence_threshold(samples)
    kw = dict(min_silence_len=args.min_silence, silence_thresh=thresh, seek_step=args.seek_step)
    print(
        f"recording: {len(seg) / 60000:.1f} min, {seg.frame_rate} Hz mono, "
        f"threshold {thresh:.1f} dBFS, min_silence_len {args.min_silence} ms, "
        f"seek_step {args.seek_step} ms"
    )

    ours, t_ours = timed(audio.detect_nonsilent, seg, **kw)
    print(f"vectorised detect_nonsilent: {t_ours:8.3f} s  ({len(ours)} ranges)", flush=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        from pydub import silence
    theirs, t_pydub = timed(silence.detect_nonsilent, seg, **kw)
    print(f"pydub detect_nonsilent:      {t_pydub:8.3f} s  ({len(theirs)} ranges)")
    _, t_find = timed(audio.find_transmissions, samples)
    print(f"find_transmissions (defaults, from samples): {t_find:.3f} s")

    speedup = t_pydub / t_ours
    worst = max_disagreement_ms(ours, theirs)
    ok = speedup >= MIN_SPEEDUP and worst <= MAX_DISAGREEMENT_MS
    print(f"speed-up: {speedup:.0f}x (PASS needs >= {MIN_SPEEDUP:.0f}x)")
    print(f"max boundary disagreement: {worst:g} ms (PASS needs <= {MAX_DISAGREEMENT_MS} ms)")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
