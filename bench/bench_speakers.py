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
  Also with the embeddings centred on the recording's mean window (the usual cure for
  resemblyzer's all-positive vectors), with sub-second clips tiled to the encoder's 1.6 s, and
  with a recording-path feature (below) added to the voice distance at the best of 5 weights.
* separation on each data set: the embedding windows of our segmented speech that lie inside
  one reference speaker's turn, and for each feature the AUC that a same-speaker pair is closer
  than a different-speaker pair (0.5 = no information): the voice (raw, centred), two
  recording-path features (cepstral mean of the loud frames: long-term spectrum and tilt; of
  the quietest fifth: noise floor), and the voice plus the better path feature at the best
  weight. On Apollo also CAPCOM (ground loop) against the crew (downlink).
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
    DATA,
    MANIFEST,
    der,
    read_rttm,
    share_correct,
)

from pipeline import audio  # noqa: E402
from pipeline import speakers as sp  # noqa: E402
from pipeline.records import Transmission  # noqa: E402
from pipeline.speakers.embedding import embed_mels, embed_windows, mel_frames  # noqa: E402
from pipeline.speakers.options import FRAME_S  # noqa: E402

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
    samples = audio.load_audio(DATA / "phone-call.wav")
    spans = audio.find_transmissions(samples)
    reference = read_rttm(DATA / "phone-call.rttm")
    for label, options in [("estimated", None), ("given 2", sp.SpeakerOptions(num_speakers=2))]:
        turns = timed(samples, spans, options, encoder, clock)
        report(f"phone call, speakers {label:9}: found {len({t.speaker for t in turns})}, "
              f"DER collar 0 = {der(reference, turns, 0.0):.3f}, "
              f"DER collar 0.25 s = {der(reference, turns, 0.5):.3f}  (target <= 0.15)")


def bench_apollo(encoder, clock) -> None:
    samples = audio.load_audio(DATA / "apollo11.mp3")
    spans = audio.find_transmissions(samples)
    truth = [who for _, _, who in APOLLO_LINES]
    for label, options in [("estimated", None), ("given 4", sp.SpeakerOptions(num_speakers=4))]:
        turns = timed(samples, spans, options, encoder, clock)
        found = [sp.speaker_at(turns, a, b) for a, b, _ in APOLLO_LINES]
        roles = sp.name_roles(turns)
        capcom = roles.get(sp.speaker_at(turns, 12.0, 25.2))
        report(f"apollo11,   speakers {label:9}: found {len(set(t.speaker for t in turns))}, "
              f"transmissions right = {share_correct(truth, found):.2f}  (target 0.85), "
              f"CAPCOM named {capcom}")


def bench_apollo_ceiling(encoder) -> None:
    samples = audio.load_audio(DATA / "apollo11.mp3")
    lines = [Transmission(a, b) for a, b, _ in APOLLO_LINES]
    emb = sp.embed_spans(encoder, samples, lines)
    spans = sorted(audio.find_transmissions(samples), key=lambda t: t.start)
    mean = embed_windows(encoder, [samples], [spans], sp.SpeakerOptions())[1].mean(0)
    line_windows = [embed_windows(encoder, [samples], [[t]], sp.SpeakerOptions())[1]
                    for t in lines]
    centred = unit(np.stack([(w - mean).mean(0) for w in line_windows]))
    tiled = np.stack([tiled_embedding(encoder, samples, t) for t in lines])
    for label, vectors in [("", emb), (", centred", centred), (", short clips tiled", tiled)]:
        share, short = true_centroid_ceiling(vectors)
        report(f"apollo11,   ceiling (true centroids{label}): transmissions right = {share:.2f}; "
               f"short ones: {'; '.join(short)}")
    for name, quiet in [("spectrum", False), ("noise floor", True)]:
        path = np.stack([cepstral_mean(cut(samples, t), quiet) for t in lines])
        share, weight = max(path_ceiling(emb, path, w) for w in (0.01, 0.02, 0.05, 0.1, 1.0))
        report(f"apollo11,   ceiling (true centroids, voice + {weight} x {name}): "
               f"transmissions right = {share:.2f} (best of 5 weights)")


def cut(samples: np.ndarray, span: Transmission) -> np.ndarray:
    """The samples of one span."""
    return samples[int(span.start * audio.SAMPLE_RATE) : int(span.end * audio.SAMPLE_RATE)]


def path_ceiling(emb: np.ndarray, path: np.ndarray, weight: float) -> tuple[float, float]:
    """True-centroid ceiling on cosine distance plus ``weight`` x RMS path-feature distance."""
    truth = np.array([who for _, _, who in APOLLO_LINES])
    long = np.array([b - a >= 2.0 for a, b, _ in APOLLO_LINES])
    names = sorted(set(truth[long]))
    voice = unit(np.stack([emb[long & (truth == k)].mean(0) for k in names]))
    cents = np.stack([path[long & (truth == k)].mean(0) for k in names])
    dist = 1 - emb @ voice.T + weight * np.sqrt(((path[:, None] - cents[None]) ** 2).mean(2))
    return float(np.mean(truth == np.array(names)[np.argmin(dist, axis=1)])), weight


def unit(x: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1."""
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)


def tiled_embedding(encoder, samples: np.ndarray, span: Transmission) -> np.ndarray:
    """One embedding of a span; a span shorter than 1.6 s is repeated to fill one window."""
    mel = mel_frames(cut(samples, span))
    frames = int(round(sp.SpeakerOptions().window_s / FRAME_S))
    if len(mel) >= frames:
        return sp.embed_spans(encoder, samples, [span])[0]
    return embed_mels(encoder, [np.tile(mel, (-(-frames // len(mel)), 1))[:frames]])[0]


def true_centroid_ceiling(emb: np.ndarray) -> tuple[float, list[str]]:
    """Share of Apollo lines nearest their own speaker's centroid (lines of 2 s or more)."""
    truth = np.array([who for _, _, who in APOLLO_LINES])
    long = np.array([b - a >= 2.0 for a, b, _ in APOLLO_LINES])
    names = sorted(set(truth[long]))
    cents = unit(np.stack([emb[long & (truth == k)].mean(0) for k in names]))
    sims = emb @ cents.T
    found = [names[i] for i in np.argmax(sims, axis=1)]
    short = [f"{a:.1f}s {who}->{f} ({sims[i].max():.2f} vs own {sims[i, names.index(who)]:.2f})"
             for i, ((a, b, who), f) in enumerate(zip(APOLLO_LINES, found, strict=True))
             if b - a < 2.0]
    return float(np.mean(truth == np.array(found))), short


# --- separation: voice and recording-path features -------------------------------------


def sole_speaker(reference: list[tuple[float, float, str]], start: float, end: float) -> str:
    """The reference speaker covering at least 80% of [start, end] with no other above 20%."""
    cover: dict[str, float] = {}
    for a, b, who in reference:
        cover[who] = cover.get(who, 0.0) + max(0.0, min(b, end) - max(a, start))
    if not cover:
        return ""
    best = max(cover, key=cover.get)
    others = sum(cover.values()) - cover[best]
    return best if cover[best] >= 0.8 * (end - start) and others <= 0.2 * (end - start) else ""


def labelled_windows(encoder, recordings, references):
    """Embedding windows of the segmented speech inside one reference turn, with the speaker."""
    spans = [sorted(audio.find_transmissions(s), key=lambda t: t.start) for s in recordings]
    windows, emb = embed_windows(encoder, recordings, spans, sp.SpeakerOptions())
    who = [sole_speaker(references[w.recording], w.start, w.end) for w in windows]
    keep = [i for i, k in enumerate(who) if k]
    return [windows[i] for i in keep], emb[keep], np.array([who[i] for i in keep]), emb.mean(0)


def cepstral_mean(x: np.ndarray, quiet: bool) -> np.ndarray:
    """Mean cepstrum (c1-c12 of the log-mel) of the loud frames, or of the quietest fifth."""
    import scipy.fft

    logmel = 10 * np.log10(mel_frames(x) + 1e-10)
    level = logmel.mean(1)
    pick = level <= np.percentile(level, 20) if quiet else level > level.max() - 25
    return scipy.fft.dct(logmel[pick].mean(0), norm="ortho")[1:13]


def auc(dist: np.ndarray, labels: np.ndarray) -> float:
    """Probability that a same-speaker pair is closer than a different-speaker pair."""
    same = labels[:, None] == labels[None]
    upper = np.triu_indices(len(labels), 1)
    d_same, d_diff = dist[upper][same[upper]], dist[upper][~same[upper]]
    closer = (d_same[:, None] < d_diff[None]).mean() + 0.5 * (d_same[:, None] == d_diff[None]).mean()
    return float(closer)


def separation(windows, emb, labels, mean, recordings) -> str:
    """AUC of each feature on labelled windows, as one line of the table."""
    voice = 1 - emb @ emb.T
    centred = unit(emb - mean)
    cols = {"voice": voice, "voice centred": 1 - centred @ centred.T}
    for name, quiet in [("spectrum", False), ("noise floor", True)]:
        feats = np.stack([cepstral_mean(cut(recordings[w.recording], w), quiet) for w in windows])
        cols[name] = np.sqrt(((feats[:, None] - feats[None]) ** 2).mean(2))
    path = max(["spectrum", "noise floor"], key=lambda k: auc(cols[k], labels))
    scale = np.median(voice) / np.median(cols[path])
    best = max((auc(voice + w * scale * cols[path], labels), w) for w in (0.1, 0.25, 0.5, 1.0))
    parts = [f"{k} {auc(d, labels):.2f}" for k, d in cols.items()]
    return ", ".join(parts) + f", voice + {best[1]} x {path} {best[0]:.2f}"


def bench_separation(encoder) -> None:
    phone = audio.load_audio(DATA / "phone-call.wav")
    apollo = audio.load_audio(DATA / "apollo11.mp3")
    sets = [("phone call", [phone], [read_rttm(DATA / "phone-call.rttm")]),
            ("apollo11", [apollo], [list(APOLLO_LINES)])]
    if MANIFEST.exists():
        rows = list(csv.DictReader(MANIFEST.open()))
        names = list(dict.fromkeys(r["recording"] for r in rows))
        sets.append(("manifest", [audio.load_audio(MANIFEST.parent / n) for n in names],
                     [[(float(r["start_s"]), float(r["end_s"]), r["speaker"]) for r in rows
                       if r["recording"] == n] for n in names]))
    for name, recordings, references in sets:
        windows, emb, labels, mean = labelled_windows(encoder, recordings, references)
        report(f"separation, {name} ({len(windows)} windows), AUC: "
               f"{separation(windows, emb, labels, mean, recordings)}")
        if name == "apollo11":
            crew = np.where(labels == "CC", "CC", "crew")
            report(f"separation, apollo11 CAPCOM vs crew, AUC: "
                   f"{separation(windows, emb, crew, mean, recordings)}")


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
    report(f"manifest:   transmissions right = {share_correct(truth, found):.3f}  (target 0.95), "
          f"Dispatcher role given to {named}")


def main() -> None:
    t0 = time.perf_counter()
    encoder = sp.load_encoder()
    report(f"encoder loaded in {time.perf_counter() - t0:.1f} s")
    clock = [0.0, 0.0]
    bench_phone(encoder, clock)
    bench_apollo(encoder, clock)
    bench_apollo_ceiling(encoder)
    bench_separation(encoder)
    bench_manifest(encoder, clock)
    report(f"speed: {60 * clock[0] / clock[1]:.1f} s per minute of audio "
          f"({clock[0]:.1f} s for {clock[1]:.0f} s, first call includes warm-up)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    command = " ".join([".venv/bin/python", *sys.argv])
    stamp = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    RESULTS.write_text(f"$ {command}\n# {stamp}\n" + "\n".join(LINES) + "\n")


if __name__ == "__main__":
    main()
