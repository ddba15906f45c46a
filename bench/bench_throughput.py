"""Throughput of the default pipeline against plain Whisper, side by side in one run.

Builds a dispatch-like recording (``--minutes``, default 30): the sample recordings
(``audio_samples/*.mp3``) and the real ones in ``tests/data`` (Apollo 11 air-to-ground,
a telephone call) placed one after another, cycling, with 30-120 s of low hiss
between them, so most of it is silence. The reference text is each piece's own
(``audio_samples/manifest.csv``, ``apollo11.tsv``, ``phone-call.stm``) at the
offset where the piece was put. Then, one after another on the same machine, same
model (``--model``), same beam size, threads pinned:

1. ``dispatch transcribe`` (the default pipeline, speaker labels included) run as a
   subprocess, start-up and model loading included, against faster-whisper's
   ``WhisperModel.transcribe`` on the whole file (model already loaded, word
   timestamps on); ``ok`` at 2x faster or more.
2. against openai-whisper's ``whisper.transcribe`` on the whole file; ``ok`` at 5x
   or more. On long recordings openai-whisper runs on the first ``--openai-minutes``
   only and its time is extrapolated per second of audio (said in the output).
3. padding waste, (windows x 30 s) / seconds of speech (transmissions), the windows
   being those the pipeline packs (``transcribe.plan_windows``); ``ok`` at 1.2 or less.
   Beside it, the same ratio over every window the pipeline decoded (read from its log), which is
   what the encoder really paid for: the packed ones, the windows it packed again
   from the transmissions Whisper skipped when it ended a packed window early, and
   those it then decoded alone.
4. segmentation: ``audio.detect_nonsilent`` against ``pydub.silence.detect_nonsilent``
   on the same audio with the same arguments (``--segment-minutes``, since pydub
   takes minutes on 30); ``ok`` at 100x or more.
5. locating 1,000 quotes drawn from the reference in the pipeline's transcript, as a
   share of the transcription time (``ok`` at 5% or less); adjudicating a few located
   sample quotes as ``dispatch verify`` does (base judging, tiny.en as witness, torch's
   default threads), seconds per quote (``ok`` at 1 s or less).
6. peak memory (max RSS) of the pipeline subprocess with tiny.en (``ok`` at 1.5 GB or
   less).

Each engine's word error rate (jiwer, Whisper's English normaliser on both sides)
is printed beside its time, and the pipeline's with ``--no-pack`` (each
transmission its own window), so speed is never bought with accuracy unseen. The
table goes to stdout and to ``bench/results/throughput.txt``.

Example:
    .venv/bin/python bench/bench_throughput.py --minutes 30
    .venv/bin/python bench/bench_throughput.py --minutes 5   # quick
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import audio  # noqa: E402

SR = audio.SAMPLE_RATE
RESULTS = ROOT / "bench" / "results" / "throughput.txt"
PIECES = ("audio_samples/dispatch-channel.mp3", "audio_samples/routine-traffic.mp3",
          "tests/data/apollo11.mp3", "tests/data/phone-call.wav")


@dataclass
class Line:
    """One reference line placed in the built recording."""

    start: float
    """Absolute start in seconds (approximate for Apollo 11)."""
    text: str
    """What was said."""
    piece: str
    """The file it came from."""


def reference_lines(piece: str) -> list[tuple[float, str]]:
    """(start in the piece, text) of a piece's reference."""
    name = Path(piece).name
    if piece.startswith("audio_samples"):
        with open(ROOT / "audio_samples" / "manifest.csv", encoding="utf-8") as f:
            return [(float(r["start_s"]), r["text"]) for r in csv.DictReader(f)
                    if r["recording"] == name]
    if name == "apollo11.mp3":
        rows = (ROOT / "tests/data/apollo11.tsv").read_text().splitlines()[1:]
        return [(float(r.split("\t")[0]), r.split("\t")[3]) for r in rows]
    rows = (ROOT / "tests/data/phone-call.stm").read_text().splitlines()
    return [(float(r.split(maxsplit=5)[3]), r.split(maxsplit=5)[5]) for r in rows]


def build_recording(minutes: float, seed: int = 0) -> tuple[np.ndarray, list[Line]]:
    """The pieces in turn with 30-120 s of hiss between, cut to ``minutes``."""
    rng = np.random.default_rng(seed)
    clips = {p: audio.load_audio(ROOT / p) for p in PIECES}
    total = int(minutes * 60 * SR)
    out, lines, at, n = [], [], 0, 0
    while True:
        gap = int(rng.uniform(30, 120) * SR)
        piece = PIECES[n % len(PIECES)]
        clip = clips[piece]
        if at + gap + len(clip) > total:
            break
        out.append(rng.normal(0, 0.001, gap).astype(np.float32))
        at += gap
        lines += [Line(at / SR + s, t, piece) for s, t in reference_lines(piece)]
        out.append(clip)
        at += len(clip)
        n += 1
    out.append(rng.normal(0, 0.001, total - at).astype(np.float32))
    return np.concatenate(out), lines


def write_wav(path: Path, samples: np.ndarray) -> None:
    """16-bit mono WAV at 16 kHz."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate after Whisper's English normaliser on both sides."""
    import jiwer
    from whisper.normalizers import EnglishTextNormalizer

    norm = EnglishTextNormalizer()
    return jiwer.wer(norm(reference), norm(hypothesis))


def ref_text(lines: list[Line], until: float = float("inf")) -> str:
    """The reference text of the lines starting before ``until``."""
    return " ".join(x.text for x in lines if x.start < until)


def timed(fn, *args, **kwargs):
    """(result, wall seconds, CPU seconds of this process)."""
    t, c = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - t, time.process_time() - c


# --------------------------------------------------------------------------- runs


def run_pipeline(wav: Path, out: Path, args) -> tuple[float, float, tuple[int, int, int]]:
    """``dispatch -v transcribe`` in a subprocess: (wall seconds, peak RSS in GB,
    (windows packed, windows packed again, windows decoded alone) from its log)."""
    cmd = [sys.executable, "-m", "pipeline", "-v", "transcribe", str(wav), "--out", str(out),
           "--model", args.model, "--beam-size", str(args.beam_size),
           "--threads", str(args.threads), "--quiet"]
    started = time.perf_counter()
    done = subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    found = re.search(r"(\d+) windows packed, (\d+) packed again, then (\d+) decoded alone",
                      done.stderr)
    return wall, peak_kb / 1024 / 1024, (int(found[1]), int(found[2]), int(found[3]))


def pipeline_transcript(out: Path):
    """The transcript the pipeline stored."""
    from pipeline.workspace import Workspace

    with Workspace(out) as ws:
        return next(iter(ws.transcripts()))


def plain_faster_whisper(samples: np.ndarray, args) -> tuple[str, float, float]:
    """faster-whisper's own transcribe on the whole file (word timestamps on): (text, wall, CPU)."""
    import ctranslate2
    from faster_whisper import WhisperModel

    from pipeline.engines import SEED
    from pipeline.models import ct2_model_dir

    ctranslate2.set_random_seed(SEED)  # its fallback samples: seeded as ours is, the same every run
    model = WhisperModel(str(ct2_model_dir(args.model)), device="cpu", compute_type="int8",
                         cpu_threads=args.threads)
    segments, _ = model.transcribe(samples, language="en", beam_size=args.beam_size,
                                   word_timestamps=True, vad_filter=False)
    return timed(lambda: " ".join(s.text for s in segments))  # decoding happens here


def plain_openai_whisper(samples: np.ndarray, args) -> tuple[str, float, float]:
    """openai-whisper's transcribe on ``samples``: (text, wall, CPU)."""
    import torch
    import whisper

    from pipeline.convert import load_openai_model
    from pipeline.engines import SEED, compile_aligner

    model = load_openai_model(args.model)
    compile_aligner()  # numba's first compile would reset torch's threads
    default = torch.get_num_threads()
    torch.set_num_threads(args.torch_threads)
    torch.manual_seed(SEED)  # its fallback samples too
    with torch.inference_mode():
        result, wall, cpu = timed(whisper.transcribe, model, samples, language="en",
                                  beam_size=args.beam_size, word_timestamps=True, fp16=False,
                                  verbose=None)
    torch.set_num_threads(default)  # what verify runs on later in this process
    return result["text"], wall, cpu


def no_pack_text(samples: np.ndarray, args) -> tuple[str, float]:
    """The pipeline's transcript with each transmission alone (``--no-pack``): (text, wall)."""
    from pipeline.engines import DecodeOptions, load_engine
    from pipeline.transcribe import TranscribeOptions, transcribe_samples

    engine = load_engine(args.model, threads=args.threads)
    options = TranscribeOptions(model=args.model, pack=False,
                                decode=DecodeOptions(beam_size=args.beam_size))
    (_, segments), wall, _ = timed(transcribe_samples, samples, engine, options)
    return " ".join(s.text for s in segments), wall


def segmentation(samples: np.ndarray, minutes: float) -> tuple[float, float]:
    """(pydub seconds, ours seconds): ``detect_nonsilent`` both ways, same AudioSegment and
    arguments (as ``bench_segment.py``: 1 s silences, 1 ms seek step), first ``minutes``."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        from pydub import silence

    part = samples[: int(minutes * 60 * SR)]
    seg = audio.array_to_segment(part)
    kw = dict(min_silence_len=1000, silence_thresh=audio.silence_threshold(part), seek_step=1)
    _, ours, _ = timed(audio.detect_nonsilent, seg, **kw)
    _, theirs, _ = timed(silence.detect_nonsilent, seg, **kw)
    return theirs, ours


def locate_quotes(transcript, lines: list[Line], n: int, seed: int = 1) -> float:
    """Seconds to index the transcript and locate ``n`` quotes drawn from the reference."""
    from pipeline.locate import WordIndex
    from pipeline.records import Quote

    rng = np.random.default_rng(seed)
    long_lines = [x.text.split() for x in lines if len(x.text.split()) >= 6]
    quotes = []
    for q in range(n):
        words = long_lines[int(rng.integers(len(long_lines)))]
        size = int(rng.integers(6, min(20, len(words)) + 1))
        first = int(rng.integers(0, len(words) - size + 1))
        text = " ".join(words[first:first + size])
        quotes.append(Quote(f"q{q}", "bench", text, [text]))
    started = time.perf_counter()
    index = WordIndex([transcript])
    for quote in quotes:
        index.locate(quote)
    return time.perf_counter() - started


def adjudicate_quotes(transcript, samples: np.ndarray, lines: list[Line], n: int):
    """``verify_quotes`` as ``dispatch verify`` runs it (base judging, tiny.en witness, torch's
    default threads) on ``n`` sample lines of five words or more: first judged at the
    transcript's best match only, then as by default (unconfirmed quotes tried at other
    places), each from cold (no encoded window kept).

    Returns:
        (seconds per quote at the best match, seconds per quote by default, quotes judged,
        quotes the default tried elsewhere, scorers' load seconds, torch threads).
    """
    import torch

    from pipeline.records import Quote
    from pipeline.verify import VerifyOptions, load_scorers, verify_quotes

    scorers, load_s, _ = timed(load_scorers, VerifyOptions())
    picked = [x for x in lines if x.piece.startswith("audio_samples") and len(x.text.split()) >= 5]
    quotes = [Quote(f"q{i}", "bench", x.text, [x.text]) for i, x in enumerate(picked[:n])]
    per_quote = []
    for options in (VerifyOptions(alternatives=0), VerifyOptions()):
        for scorer in scorers:
            scorer.forget()
        checks, seconds, _ = timed(verify_quotes, quotes, [transcript], lambda _: samples,
                                   scorers, options)
        per_quote.append(seconds / max(1, len(quotes)))
    searched = sum(any("other place" in r for r in c.reasons) for c in checks)
    return (*per_quote, len(quotes), searched, load_s, torch.get_num_threads())


# --------------------------------------------------------------------------- report


class Printout:
    """What a benchmark prints, kept to write into its results file: the command, the
    date and the machine's load at the top, the load again at the end."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        load = os.getloadavg()
        self.say(f"command: {' '.join([Path(sys.executable).name] + sys.argv)}")
        self.say(f"date: {datetime.datetime.now().isoformat(timespec='seconds')}; machine: nproc "
                 f"{os.cpu_count()}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at start")

    def say(self, text: str = "") -> None:
        """Print a line and keep it."""
        print(text, flush=True)
        self.lines.append(text)

    def write(self, path: Path) -> None:
        """Print the load average at the end, then write every line to ``path``."""
        load = os.getloadavg()
        self.say(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(self.lines) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--model", default="tiny.en")
    ap.add_argument("--beam-size", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="CTranslate2 threads, pipeline and plain faster-whisper alike")
    ap.add_argument("--torch-threads", type=int, default=1,
                    help="torch threads for openai-whisper (1: two spin on a shared machine)")
    ap.add_argument("--openai-minutes", type=float, default=5,
                    help="openai-whisper runs on this much of the recording, extrapolated")
    ap.add_argument("--segment-minutes", type=float, default=3,
                    help="audio for the pydub comparison (pydub takes minutes on 30)")
    ap.add_argument("--quotes", type=int, default=1000)
    ap.add_argument("--adjudicate", type=int, default=20, help="quotes judged with base")
    args = ap.parse_args()

    printout = Printout()
    say = printout.say
    samples, lines = build_recording(args.minutes)
    duration = len(samples) / SR
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "scanner.wav"
        write_wav(wav, samples)
        samples = audio.load_audio(wav)  # what the pipeline sees (16-bit)
        log = lambda m: print(f"  .. {m}", file=sys.stderr, flush=True)  # noqa: E731
        log("pipeline (subprocess)")
        pipe_s, peak_gb, (packed_n, again_n, alone_n) = run_pipeline(wav, Path(tmp) / "out", args)
        transcript = pipeline_transcript(Path(tmp) / "out")
        pipe_text = " ".join(s.text for s in transcript.segments)
        log(f"pipeline {pipe_s:.1f} s; plain faster-whisper")
        fw_text, fw_s, fw_cpu = plain_faster_whisper(samples, args)
        log(f"faster-whisper {fw_s:.1f} s; openai-whisper")
        oa_len = min(duration, args.openai_minutes * 60)
        oa_text, oa_part_s, _ = plain_openai_whisper(samples[: int(oa_len * SR)], args)
        oa_s = oa_part_s * duration / oa_len
        log(f"openai-whisper {oa_part_s:.1f} s; --no-pack")
        nopack_text, nopack_s = no_pack_text(samples, args)
        log("segmentation")
        seg_min = min(args.segment_minutes, args.minutes)
        pydub_s, ours_s = segmentation(samples, seg_min)
        log("locate")
        locate_s = locate_quotes(transcript, lines, args.quotes)
        log("adjudicate")
        first_place, per_quote, judged, searched, judge_load, torch_threads = adjudicate_quotes(
            transcript, samples, lines, args.adjudicate)
    from pipeline.transcribe import TranscribeOptions, plan_windows

    windows = plan_windows(transcript.transmissions, TranscribeOptions())
    speech_tx = sum(t.duration for t in transcript.transmissions)
    ref = ref_text(lines)

    say(f"recording: {duration / 60:.1f} min built from {', '.join(PIECES)} with 30-120 s of "
        f"hiss between; {speech_tx / 60:.1f} min in {len(transcript.transmissions)} "
        f"transmissions ({100 * speech_tx / duration:.0f}%); {len(ref.split())} reference words")
    say(f"model {args.model}, beam {args.beam_size}, CTranslate2 threads {args.threads}, "
        f"openai-whisper torch threads {args.torch_threads}")
    say()
    say(f"{'measure':34s} {'ours':>10s} {'theirs':>10s} {'ratio':>9s} {'bar':>8s}  ok")

    def row(name, ours, theirs, ratio, bar, ok, unit="s"):
        say(f"{name:34s} {ours:9.2f}{unit} {theirs:9.2f}{unit} {ratio:9.3g} {bar:>8s}  "
            f"{'yes' if ok else 'NO'}")

    r1 = fw_s / pipe_s
    row("1 transcribe vs faster-whisper", pipe_s, fw_s, r1, ">= 2x", r1 >= 2)
    r2 = oa_s / pipe_s
    row("2 transcribe vs openai-whisper*", pipe_s, oa_s, r2, ">= 5x", r2 >= 5)
    waste = len(windows) * 30.0 / speech_tx
    say(f"{'3 padding (windows x 30 s / speech)':34s} {len(windows) * 30.0:9.1f}s "
        f"{speech_tx:9.1f}s {waste:9.3g} {'<= 1.2':>8s}  {'yes' if waste <= 1.2 else 'NO'}"
        f"   ({len(windows)} windows packed)")
    decoded_n = packed_n + again_n + alone_n
    say(f"{'3 same, every window decoded':34s} {decoded_n * 30.0:9.1f}s {speech_tx:9.1f}s "
        f"{decoded_n * 30.0 / speech_tx:9.3g} {'':>8s}      ({packed_n} packed + {again_n} "
        f"packed again from what they missed + {alone_n} transmissions decoded alone)")
    r4 = pydub_s / ours_s
    row(f"4 segmentation vs pydub ({seg_min:g} min)", ours_s, pydub_s, r4, ">= 100x", r4 >= 100)
    share = locate_s / pipe_s
    row(f"5 locate {args.quotes} quotes / transcribe", locate_s, pipe_s, share, "<= 0.05",
        share <= 0.05)
    say(f"{'5 verify with base, per quote':34s} {per_quote:9.2f}s {'':>10s} "
        f"{judged:>9d}q {'<= 1 s':>8s}  {'yes' if per_quote <= 1 else 'NO'}"
        f"   (judge and witness loaded once in {judge_load:.1f} s, not counted; "
        f"torch threads {torch_threads}; {searched} of {judged} tried at other places)")
    say(f"{'5 same, at the best match only':34s} {first_place:9.2f}s {'':>10s} "
        f"{judged:>9d}q {'<= 1 s':>8s}  {'yes' if first_place <= 1 else 'NO'}"
        f"   (VerifyOptions(alternatives=0): no place search)")
    say(f"{'6 peak memory of the pipeline':34s} {peak_gb:9.2f}G {'':>10s} {'':>9s} "
        f"{'<= 1.5 GB':>8s}  {'yes' if peak_gb <= 1.5 else 'NO'}")
    say()
    say("word error rate against the reference (jiwer, Whisper's English normaliser):")
    say(f"  dispatch transcribe (packed, batched)   {wer(ref, pipe_text):.3f}")
    say(f"  dispatch transcribe --no-pack           {wer(ref, nopack_text):.3f}"
        f"   ({nopack_s:.1f} s, in process, model loaded)")
    say(f"  faster-whisper on the whole file        {wer(ref, fw_text):.3f}")
    say(f"  openai-whisper on the first {oa_len / 60:.1f} min     "
        f"{wer(ref_text(lines, oa_len), oa_text):.3f}   (reference lines starting in it)")
    say()
    say(f"* openai-whisper ran on the first {oa_len / 60:.1f} min only ({oa_part_s:.1f} s); its "
        f"time is extrapolated per second of audio to the {duration / 60:.1f} min"
        if oa_len < duration else "* openai-whisper ran on the whole file")
    say("transcribe = `python -m pipeline transcribe` as a subprocess (start-up, model and "
        "voice encoder loading, decoding, segmentation, speaker labels, CSVs); faster-whisper "
        "and openai-whisper: transcribe() alone, models loaded before timing, word timestamps on")
    printout.write(RESULTS)


if __name__ == "__main__":
    main()
