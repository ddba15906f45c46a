"""Who spoke, and when, in a trunk-recorder capture: words' units and wall-clock times.

A folder of short calls is generated in trunk-recorder's layout from the re-enactment's
transmissions (``audio_samples/manifest.csv``, both recordings): each call holds one to
three transmissions cut at their reference times, with 0.3-1.0 s of hiss between them
(a unit answered within the hang time), and its JSON's ``srcList`` keys each
transmission's unit 0.2 s before its speech. ``dispatch transcribe`` (in process, tiny.en,
speakers left to the radio) then transcribes it, and for every word of ``words.csv``:

1. **unit**: does its ``unit`` match the unit of the transmission it was spoken in (the
   one holding the middle of the word, or the nearest)? ``met`` at a share of 0.99.
2. **wall-clock**: is ``started_at`` the call's ``start_time_ms`` plus the word's offset,
   within 0.1 s? ``met`` when every word is.
3. also printed: the share of words whose recognised times fall inside the transmission
   they were spoken in, give or take 0.1 s (the recogniser's timing, not the metadata's).

The generated capture of ``scripts/make_capture.py`` is measured the same way. Output goes
to stdout and ``bench/results/units.txt``.

Example:
    .venv/bin/python bench/bench_units.py --calls 100
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import audio  # noqa: E402

SR = audio.SAMPLE_RATE
RESULTS = ROOT / "bench" / "results" / "units.txt"
CAPTURE = ROOT / "audio_samples" / "capture"
FIRST_CALL_MS = 1_759_632_000_000
KEY_UP_S = 0.2
UNITS = {"Dispatcher": 1081, "Relay": 1082, "Unit 1": 8330, "Unit 2": 8120, "Unit 3": 8210}


@dataclass
class Truth:
    """Who spoke when in one generated call."""

    start_ms: int
    """The call's ``start_time_ms``."""
    spans: list[tuple[float, float, str]] = field(default_factory=list)
    """(start, end, unit ID) of each transmission's speech, seconds into the call."""


def lines() -> list[tuple[np.ndarray, str]]:
    """Each manifest transmission's speech (with 0.1 s either side) and its unit ID."""
    with (ROOT / "audio_samples" / "manifest.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    decoded = {r["recording"]: audio.load_audio(ROOT / "audio_samples" / r["recording"])
               for r in rows}
    out = []
    for r in rows:
        a, b = int((float(r["start_s"]) - 0.1) * SR), int((float(r["end_s"]) + 0.1) * SR)
        out.append((decoded[r["recording"]][a:b], str(UNITS[r["speaker"]])))
    return out


def build(n: int, root: Path, seed: int = 0) -> dict[str, Truth]:
    """Write ``n`` calls under ``root``; returns the truth by file name."""
    rng = np.random.default_rng(seed)
    pool = lines()
    truth, clock = {}, FIRST_CALL_MS
    for k in range(n):
        pieces = [rng.normal(0, 0.002, int(0.3 * SR)).astype(np.float32)]
        at, t = 0.3, Truth(clock)
        for _ in range(int(rng.integers(1, 4))):
            samples, unit = pool[int(rng.integers(len(pool)))]
            if at + len(samples) / SR > 15.0:
                break
            t.spans.append((at + 0.1, at + len(samples) / SR - 0.1, unit))
            pieces.append(samples)
            gap = float(rng.uniform(0.3, 1.0))
            pieces.append(rng.normal(0, 0.002, int(gap * SR)).astype(np.float32))
            at += len(samples) / SR + gap
        call = np.concatenate(pieces)
        path = root / "metro" / "2025" / "10" / "5" / f"3105-{clock // 1000}_851012500.0-call_{k}.wav"
        audio.write_wav(path, call, SR)
        src = [{"src": int(u), "time": (clock // 1000) + int(s), "pos": round(0.0 if i == 0 else
                                                                             s - KEY_UP_S, 2),
                "emergency": 0, "signal_system": "", "tag": ""}
               for i, (s, _e, u) in enumerate(t.spans)]
        length = len(call) / SR
        path.with_suffix(".json").write_text(json.dumps({
            "freq": 851012500.0, "start_time": clock // 1000, "start_time_ms": clock,
            "stop_time": (clock + int(length * 1000)) // 1000,
            "stop_time_ms": clock + int(length * 1000), "emergency": 0, "encrypted": 0,
            "call_length": round(length), "talkgroup": 3105, "talkgroup_tag": "PD Zone 8",
            "short_name": "metro", "audio_type": "digital", "freqList": [], "srcList": src}))
        truth[path.name] = t
        clock += int((length + float(rng.uniform(2, 60))) * 1000)
    return truth


def capture_truth() -> dict[str, Truth]:
    """The truth of the capture ``scripts/make_capture.py`` wrote."""
    out: dict[str, Truth] = {}
    with (CAPTURE / "truth.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            name = Path(r["call"]).name
            if name not in out:
                meta = json.loads((CAPTURE / r["call"]).with_suffix(".json").read_text())
                out[name] = Truth(meta["start_time_ms"])
            out[name].spans.append((float(r["start_s"]), float(r["end_s"]), r["unit"]))
    return out


def measure(folder: Path, truth: dict[str, Truth], tags: Path | None = None) -> dict:
    """Transcribe ``folder`` and score its words against ``truth``."""
    from pipeline.batch import transcribe_paths
    from pipeline.calls import CallOptions
    from pipeline.transcribe import TranscribeOptions

    with tempfile.TemporaryDirectory() as out:
        began = time.perf_counter()
        transcribe_paths([folder], TranscribeOptions(), out, speakers=None, progress=False,
                         calls=CallOptions(unit_tags=tags, tz="America/Chicago"))
        seconds = time.perf_counter() - began
        with (Path(out) / "words.csv").open(encoding="utf-8") as f:
            words = list(csv.DictReader(f))
    right = inside = 0
    worst = 0.0
    for w in words:
        t = truth[Path(w["recording"]).name]
        s, e = float(w["start_s"]), float(w["end_s"])
        mid = (s + e) / 2
        a, b, unit = min(t.spans, key=lambda x: max(x[0] - mid, mid - x[1], 0))
        right += w["unit"] == unit
        inside += a - 0.1 <= s and e <= b + 0.1
        expected = datetime.fromtimestamp(t.start_ms / 1000, timezone.utc) + timedelta(seconds=s)
        worst = max(worst, abs((datetime.fromisoformat(w["started_at"]) - expected).total_seconds()))
    n = max(1, len(words))
    return {"calls": len(truth), "words": len(words), "unit_share": right / n,
            "worst_clock_s": worst, "inside_share": inside / n, "seconds": seconds}


def report(name: str, m: dict) -> str:
    unit_ok = "met" if m["unit_share"] >= 0.99 else "NOT met"
    clock_ok = "met" if m["worst_clock_s"] <= 0.1 else "NOT met"
    return (f"{name}: {m['calls']} calls, {m['words']} words, transcribed in {m['seconds']:.0f} s\n"
            f"  words with the unit keyed up as they were spoken: {m['unit_share']:.4f} "
            f"(target 0.99: {unit_ok})\n"
            f"  wall-clock vs start_time_ms + offset, worst: {m['worst_clock_s'] * 1000:.1f} ms "
            f"(target 100 ms: {clock_ok})\n"
            f"  words inside their transmission +-0.1 s (the recogniser's timing): "
            f"{m['inside_share']:.3f}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=100, help="generated calls (default 100)")
    args = parser.parse_args()
    text = report("audio_samples/capture", measure(CAPTURE, capture_truth(),
                                                   CAPTURE / "unit_tags.csv"))
    with tempfile.TemporaryDirectory() as tmp:
        truth = build(args.calls, Path(tmp))
        text += report("generated capture", measure(Path(tmp), truth))
    text = "tiny.en, beam 5, this machine; " + time.strftime("%Y-%m-%d") + "\n" + text
    print(text, end="")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
