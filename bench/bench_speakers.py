"""Benchmark speaker labelling on real audio: DER, share of transmissions right, speed.

Prints, side by side in one run:

* phone call (tests/data/phone-call.wav, 2 speakers, reference RTTM): DER with pyannote.metrics
  at collar 0 and at the usual 0.25 s either side; speakers estimated and given (2).
* Apollo 11 (tests/data/apollo11.mp3, 4 speakers): share of the 11 NASA transmissions whose
  label maps to the right speaker under the best 1-to-1 mapping; estimated and given (4).
* audio_samples/manifest.csv, when it exists: share of transmissions right, and whether the
  dispatcher role lands on the dispatcher.
* Apollo 11 ceiling: each of the 11 transmissions embedded on its own and given to the speaker
  whose centroid (the mean of the transmissions of 2 s or more, labels taken from the truth)
  is nearest. No clustering can do better than the embeddings allow; this says how far that is.
* seconds of processing per minute of audio (embedding + clustering; decoding excluded).

The table is printed and also written to ``bench/results/speakers.txt``, with the command line
and the date at the top.

Usage: ``.venv/bin/python bench/bench_speakers.py``
"""

from __future__ import annotations

import csv
import datetime
import sys
import time
from pathlib import Path

import numpy as np

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
from pipeline.records import Transmission  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "speakers.txt"
LINES: list[str] = []


def report(line: str) -> None:
    """Print one line of the table and keep it for the results file."""
    print(line, flush=True)
    LINES.append(line)


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
        report(f"phone call, speakers {label:9}: found {len({t.speaker for t in turns})}, "
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
        report(f"apollo11,   speakers {label:9}: found {len(set(t.speaker for t in turns))}, "
              f"transmissions right = {share_correct(truth, found):.2f}  (bar 0.85), "
              f"CAPCOM named {capcom}")


def bench_apollo_ceiling(encoder) -> None:
    samples = audio.load_audio(data_file("apollo11.mp3", "apollo11/apollo11.mp3"))
    emb = sp.embed_spans(encoder, samples, [Transmission(a, b) for a, b, _ in APOLLO_LINES])
    truth = np.array([who for _, _, who in APOLLO_LINES])
    long = np.array([b - a >= 2.0 for a, b, _ in APOLLO_LINES])
    names = sorted(set(truth[long]))
    cents = np.stack([emb[long & (truth == k)].mean(0) for k in names])
    cents /= np.linalg.norm(cents, axis=1, keepdims=True)
    sims = emb @ cents.T
    found = [names[i] for i in np.argmax(sims, axis=1)]
    short = [f"{a:.1f}s {who}->{f} ({sims[i].max():.2f} vs own {sims[i, names.index(who)]:.2f})"
             for i, ((a, b, who), f) in enumerate(zip(APOLLO_LINES, found, strict=True))
             if b - a < 2.0]
    report(f"apollo11,   ceiling (true centroids): transmissions right = "
           f"{np.mean(truth == np.array(found)):.2f}; short ones: {'; '.join(short)}")


def bench_manifest(encoder, clock) -> None:
    if not MANIFEST.exists():
        report("manifest:   audio_samples/manifest.csv not made yet (pending)")
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
    report(f"manifest:   transmissions right = {share_correct(truth, found):.3f}  (bar 0.95), "
          f"Dispatcher role given to {named}")


def main() -> None:
    t0 = time.perf_counter()
    encoder = sp.load_encoder()
    report(f"encoder loaded in {time.perf_counter() - t0:.1f} s")
    clock = [0.0, 0.0]
    bench_phone(encoder, clock)
    bench_apollo(encoder, clock)
    bench_apollo_ceiling(encoder)
    bench_manifest(encoder, clock)
    report(f"speed: {60 * clock[0] / clock[1]:.1f} s per minute of audio "
          f"({clock[0]:.1f} s for {clock[1]:.0f} s, first call includes warm-up)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    command = " ".join([".venv/bin/python", *sys.argv])
    stamp = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    RESULTS.write_text(f"$ {command}\n# {stamp}\n" + "\n".join(LINES) + "\n")


if __name__ == "__main__":
    main()
