"""Benchmark speaker labelling on real audio: DER, share of transmissions right, speed.

Prints, side by side in one run:

* phone call (tests/data/phone-call.wav, 2 speakers, reference RTTM): DER with pyannote.metrics
  at collar 0 and at the usual 0.25 s either side; speakers estimated and given (2).
* Apollo 11 (tests/data/apollo11.mp3, 4 speakers): share of the 11 NASA transmissions whose
  label maps to the right speaker under the best 1-to-1 mapping; estimated and given (4).
* audio_samples/manifest.csv, when it exists: share of transmissions right, and whether the
  dispatcher role lands on the dispatcher.
* seconds of processing per minute of audio (embedding + clustering; decoding excluded).

Usage: ``.venv/bin/python bench/bench_speakers.py``
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_speakers import (  # noqa: E402
    APOLLO_LINES,
    MANIFEST,
    data_file,
    der,
    read_rttm,
    share_correct,
)

from pipeline import audio  # noqa: E402
from pipeline import speakers as sp  # noqa: E402


def timed(samples, spans, options, encoder, clock):
    """Diarize and add the time taken and the audio length to ``clock``."""
    t0 = time.perf_counter()
    turns = sp.diarize(samples, spans, options, encoder)
    clock[0] += time.perf_counter() - t0
    clock[1] += len(samples) / audio.SAMPLE_RATE
    return turns


def bench_phone(encoder, clock) -> None:
    samples = audio.load_audio(data_file("phone-call.wav", "phone-call/sample.wav"))
    spans = audio.find_transmissions(samples)
    reference = read_rttm(data_file("phone-call.rttm", "phone-call/sample.rttm"))
    for label, options in [("estimated", None), ("given 2", sp.SpeakerOptions(num_speakers=2))]:
        turns = timed(samples, spans, options, encoder, clock)
        print(f"phone call, speakers {label:9}: found {len({t.speaker for t in turns})}, "
              f"DER collar 0 = {der(reference, turns, 0.0):.3f}, "
              f"DER collar 0.25 s = {der(reference, turns, 0.5):.3f}  (bar 0.15)")


def bench_apollo(encoder, clock) -> None:
    samples = audio.load_audio(data_file("apollo11.mp3", "apollo11/apollo11.mp3"))
    spans = audio.find_transmissions(samples)
    truth = [who for _, _, who in APOLLO_LINES]
    for label, options in [("estimated", None), ("given 4", sp.SpeakerOptions(num_speakers=4))]:
        turns = timed(samples, spans, options, encoder, clock)
        found = [sp.speaker_at(turns, a, b) for a, b, _ in APOLLO_LINES]
        roles = sp.name_roles(turns)
        capcom = roles.get(sp.speaker_at(turns, 12.0, 25.2))
        print(f"apollo11,   speakers {label:9}: found {len(set(t.speaker for t in turns))}, "
              f"transmissions right = {share_correct(truth, found):.2f}  (bar 0.85), "
              f"CAPCOM named {capcom}")


def bench_manifest(encoder, clock) -> None:
    if not MANIFEST.exists():
        print("manifest:   audio_samples/manifest.csv not made yet (pending)")
        return
    rows = list(csv.DictReader(MANIFEST.open()))
    recordings = []
    for name in dict.fromkeys(r["recording"] for r in rows):
        samples = audio.load_audio(MANIFEST.parent / name)
        recordings.append((name, samples, audio.find_transmissions(samples)))
        clock[1] += len(samples) / audio.SAMPLE_RATE
    t0 = time.perf_counter()
    turns = sp.diarize_batch(recordings, None, encoder)
    clock[0] += time.perf_counter() - t0
    truth = [r["speaker"] for r in rows]
    found = [sp.speaker_at(turns[r["recording"]], float(r["start_s"]), float(r["end_s"]))
             for r in rows]
    roles = sp.name_roles(t for name, _, _ in recordings for t in turns[name])
    said = [t for t, f in zip(truth, found, strict=True) if roles.get(f) == sp.DISPATCHER]
    named = max(set(said), key=said.count) if said else "nobody"
    print(f"manifest:   transmissions right = {share_correct(truth, found):.3f}  (bar 0.95), "
          f"Dispatcher role given to {named}")


def main() -> None:
    t0 = time.perf_counter()
    encoder = sp.load_encoder()
    print(f"encoder loaded in {time.perf_counter() - t0:.1f} s")
    clock = [0.0, 0.0]
    bench_phone(encoder, clock)
    bench_apollo(encoder, clock)
    bench_manifest(encoder, clock)
    print(f"speed: {60 * clock[0] / clock[1]:.1f} s per minute of audio "
          f"({clock[0]:.1f} s for {clock[1]:.0f} s, first call includes warm-up)")


if __name__ == "__main__":
    main()
