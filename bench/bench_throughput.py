"""Throughput against the engines a user would pick, on three kinds of recording, in one run.

Profiles (``--profiles``), built here from the sample recordings
(``audio_samples/*.mp3``), the real ones in ``tests/data`` (Apollo 11
air-to-ground, a telephone call) and espeak-ng phrases (``bench_calls.py``):

- ``scanner``: the pieces whole, one after another, 30-120 s of low hiss between
  (``--minutes``; mostly silence, as an overnight scanner recording);
- ``busy``: single reference lines, 0.5-3 s of hiss between (a busy channel);
- ``calls``: a trunk-recorder folder of ``--calls`` files of 2-15 s
  (``bench_calls.build_calls``).

On each, same model, beam and threads: ``dispatch transcribe`` as a subprocess
(start-up, model loading, speaker labels and tables included; run again with
``--no-speakers`` for the speakers' share of the time), faster-whisper's
``WhisperModel.transcribe`` plain and with ``vad_filter=True``, its
``BatchedInferencePipeline`` (batch 8, its own VAD), each on every file with the
model loaded before timing and word timestamps on, and openai-whisper on the first
``--openai-minutes`` of audio, its time extrapolated. Each gets its word error
(jiwer, Whisper's English normaliser, each file against its own reference), wall
and CPU seconds (CPU is steadier where others load the machine). Printed per
profile: windows the pipeline decoded (from its log: packed, packed again after
Whisper skipped transmissions, alone) per minute of speech and against the fewest
30 s windows that hold the speech; the speakers' share of the time and the speakers
found against the truth; the targets met or missed; peak memory on ``scanner``.
``--extras`` adds segmentation against pydub, locating and adjudicating quotes.
The output goes to stdout and to ``--out`` (``bench/results/throughput.txt``).

Example:
    .venv/bin/python bench/bench_throughput.py --minutes 30 --calls 200
    .venv/bin/python bench/bench_throughput.py --minutes 4 --calls 6 --profiles busy,calls
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_calls import reference_spans, speaker_key, write_wav  # noqa: E402

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
    speaker: str = ""
    """Who says it (``bench_calls.speaker_key``)."""


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
        lines += [Line(at / SR + s, t, piece, speaker_key(piece, who))
                  for s, _, t, who in reference_spans(piece, len(clip) / SR)]
        out.append(clip)
        at += len(clip)
        n += 1
    out.append(rng.normal(0, 0.001, total - at).astype(np.float32))
    return np.concatenate(out), lines


def ref_text(lines: list[Line], until: float = float("inf")) -> str:
    """The reference text of the lines starting before ``until``."""
    return " ".join(x.text for x in lines if x.start < until)


def timed(fn, *args, **kwargs):
    """(result, wall seconds, CPU seconds of this process)."""
    t, c = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - t, time.process_time() - c


# --------------------------------------------------------------------------- runs


def run_pipeline(target: Path, out: Path, args, *extra: str
                 ) -> tuple[float, float, tuple[int, int, int], Path]:
    """``dispatch -v transcribe`` in a subprocess: (wall seconds, peak RSS in GB,
    (windows packed, windows packed again, windows decoded alone) summed over its log,
    the output folder)."""
    cmd = [sys.executable, "-m", "pipeline", "-v", "transcribe", str(target), "--out", str(out),
           "--model", args.model, "--beam-size", str(args.beam_size),
           "--threads", str(args.threads), "--quiet", *extra]
    started = time.perf_counter()
    done = subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    found = re.findall(r"(\d+) windows packed, (\d+) packed again, then (\d+) decoded alone",
                       done.stderr)
    windows = tuple(sum(int(f[k]) for f in found) for k in range(3))
    return wall, peak_kb / 1024 / 1024, windows, out


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


PROFILES = ("scanner", "busy", "calls")
"""Recording profiles measured, in this order."""


@dataclass
class Profile:
    """One kind of recording the engines are compared on."""

    name: str
    """``scanner``, ``busy`` or ``calls``."""
    about: str
    """One line on how it was built."""
    target: Path
    """What ``dispatch transcribe`` is given: a file or a folder."""
    files: list[Path]
    """The files the other engines transcribe, one by one."""
    refs: list[str]
    """Reference text of each file."""
    speakers: int
    """How many people speak in it."""


@dataclass
class Run:
    """One engine's pass over a profile."""

    name: str
    """Engine and settings."""
    seconds: float
    """Wall seconds (extrapolated where ``note`` says so)."""
    cpu: float
    """CPU seconds, every thread (extrapolated alike): steadier than wall time on a
    machine others load."""
    wer: float
    """Word error against the reference (of the part it ran on)."""
    note: str = ""
    """How it ran, where that matters."""


def build_busy(minutes: float, seed: int = 0) -> tuple[np.ndarray, list[Line]]:
    """A busy channel: the reference lines of every piece one after another (espeak-ng
    phrases among them), 0.5-3 s of hiss between two, cut to ``minutes``."""
    from bench_calls import espeak_lines, real_lines

    rng = np.random.default_rng(seed)
    real = real_lines()
    with tempfile.TemporaryDirectory() as tmp:
        spoken = espeak_lines(20, rng, Path(tmp))
    total = int(minutes * 60 * SR)
    out, lines, at, n = [], [], 0, 0
    while True:
        if spoken and rng.random() < 0.25:
            line = spoken[int(rng.integers(len(spoken)))]
        else:
            line, n = real[n % len(real)], n + 1
        gap = int(rng.uniform(0.5, 3.0) * SR)
        if at + gap + len(line.samples) > total:
            break
        out.append(rng.normal(0, 0.001, gap).astype(np.float32))
        at += gap
        lines.append(Line(at / SR, line.text, "", line.speaker))
        out.append(line.samples)
        at += len(line.samples)
    out.append(rng.normal(0, 0.001, total - at).astype(np.float32))
    return np.concatenate(out), lines


def make_profile(name: str, tmp: Path, args) -> Profile:
    """Build a profile's audio under ``tmp``."""
    if name == "calls":
        from bench_calls import build_calls

        calls = build_calls(args.calls, tmp / "calls")
        return Profile(name, f"{len(calls)} trunk-recorder calls of 2-15 s (bench_calls.py), "
                       f"{sum(c.duration for c in calls) / 60:.1f} min", tmp / "calls",
                       [c.path for c in calls], [c.text for c in calls],
                       len({u for c in calls for _, u in c.units}))
    if name == "scanner":
        samples, lines = build_recording(args.minutes)
        about = f"{args.minutes:g} min, the pieces whole with 30-120 s of hiss between"
    else:
        samples, lines = build_busy(args.minutes)
        about = (f"{args.minutes:g} min, single lines with 0.5-3 s of hiss between "
                 f"(a busy channel)")
    wav = tmp / f"{name}.wav"
    write_wav(wav, samples)
    LINES[name] = lines
    return Profile(name, about, wav, [wav], [ref_text(lines)], len({x.speaker for x in lines}))


def profile_wer(refs: list[str], texts: list[str]) -> float:
    """Word error of ``texts`` (one per file) against their references."""
    import jiwer
    from whisper.normalizers import EnglishTextNormalizer

    norm = EnglishTextNormalizer()
    refs = [norm(r) for r in refs]
    if not any(r.strip() for r in refs):  # nothing was said in the part heard
        return float("nan")
    return jiwer.wer(refs, [norm(t) for t in texts])


def faster_whisper_runs(profile: Profile, args) -> list[Run]:
    """Plain faster-whisper, with ``vad_filter=True``, and ``BatchedInferencePipeline``
    (batch 8, its own VAD), each on every file, model loaded before timing."""
    import ctranslate2
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    from pipeline.engines import SEED
    from pipeline.models import ct2_model_dir

    ctranslate2.set_random_seed(SEED)
    model = WhisperModel(str(ct2_model_dir(args.model)), device="cpu", compute_type="int8",
                         cpu_threads=args.threads)
    batched = BatchedInferencePipeline(model)
    common = dict(language="en", beam_size=args.beam_size, word_timestamps=True)
    ways = (("faster-whisper", model.transcribe, dict(vad_filter=False)),
            ("faster-whisper vad_filter=True", model.transcribe, dict(vad_filter=True)),
            ("BatchedInferencePipeline (batch 8)", batched.transcribe, dict(batch_size=8)))
    runs = []
    for name, fn, kwargs in ways:
        log(f"{profile.name}: {name}")
        started, cpu, texts = time.perf_counter(), time.process_time(), []
        for path in profile.files:
            segments, _ = fn(audio.load_audio(path), **common, **kwargs)
            texts.append(" ".join(s.text for s in segments))
        runs.append(Run(name, time.perf_counter() - started, time.process_time() - cpu,
                        profile_wer(profile.refs, texts)))
    return runs


def openai_run(profile: Profile, args) -> Run:
    """openai-whisper on the first ``--openai-minutes`` of the profile, extrapolated."""
    budget, texts, seconds, cpu, done, heard = args.openai_minutes * 60, [], 0.0, 0.0, 0, 0.0
    total = sum(len(audio.load_audio(p)) for p in profile.files) / SR
    for path in profile.files:
        samples = audio.load_audio(path)[: int((budget - heard) * SR)]
        text, wall, used = plain_openai_whisper(samples, args)
        texts.append(text)
        seconds, cpu, done = seconds + wall, cpu + used, done + 1
        heard += len(samples) / SR
        if heard >= budget - 0.1:
            break
    if len(profile.files) == 1:  # the reference lines starting in the part it heard
        wer_ = profile_wer([ref_text(LINES[profile.name], heard)], texts)
    else:
        wer_ = profile_wer(profile.refs[:done], texts)
    return Run("openai-whisper", seconds * total / heard, cpu * total / heard, wer_,
               f"first {heard / 60:.1f} min ({seconds:.1f} s), extrapolated" if heard < total else "")


LINES: dict[str, list[Line]] = {}
"""Reference lines of the single-file profiles (the openai-whisper part needs them)."""


def log(message: str) -> None:
    """Progress on stderr (not kept in the results)."""
    print(f"  .. {message}", file=sys.stderr, flush=True)


def pipeline_runs(profile: Profile, tmp: Path, args) -> tuple[Run, dict]:
    """``dispatch transcribe`` with speakers, then without (the speakers' share of the time)."""
    log(f"{profile.name}: dispatch transcribe")
    before = _children_cpu()
    wall, peak, windows, out = run_pipeline(profile.target, tmp / f"out-{profile.name}", args)
    cpu = _children_cpu() - before
    texts, transcripts = pipeline_texts(out, profile)
    bare, _, _, _ = run_pipeline(profile.target, tmp / f"bare-{profile.name}", args,
                                 "--no-speakers")
    speech = sum(t.speech_seconds for t in transcripts)
    found = len({s.speaker for t in transcripts for s in t.segments if s.speaker})
    facts = dict(peak=peak, windows=windows, speech=speech, found=found,
                 speaker_share=max(0.0, (wall - bare) / wall), bare=bare)
    return Run("dispatch transcribe", wall, cpu, profile_wer(profile.refs, texts)), facts


def _children_cpu() -> float:
    """CPU seconds of this process's finished subprocesses."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def pipeline_texts(out: Path, profile: Profile):
    """Text per file of the profile, and the transcripts, from the pipeline's workspace."""
    from pipeline.workspace import Workspace

    with Workspace(out) as ws:
        transcripts = list(ws.transcripts())
    by_path = {str(Path(t.recording).resolve()): t for t in transcripts}
    texts = [" ".join(s.text for s in by_path[str(p.resolve())].segments)
             if str(p.resolve()) in by_path else "" for p in profile.files]
    return texts, transcripts


def report_profile(say, profile: Profile, runs: list[Run], facts: dict) -> None:
    """The profile's table, its windows and speakers, and the targets met or missed."""
    import math

    ours, plain, vad, batched = runs[0], runs[1], runs[2], runs[3]
    say(f"profile {profile.name}: {profile.about}; {facts['speech'] / 60:.1f} min of speech "
        f"(transmissions)")
    say(f"  {'engine':36s} {'seconds':>8s} {'x ours':>7s} {'cpu s':>7s} {'x ours':>7s} "
        f"{'word error':>10s}")
    for r in runs:
        say(f"  {r.name:36s} {r.seconds:8.1f} {r.seconds / ours.seconds:7.2f} {r.cpu:7.1f} "
            f"{r.cpu / ours.cpu:7.2f} {r.wer:10.3f}"
            + (f"   {r.note}" if r.note else ""))
    packed, again, alone = facts["windows"]
    decoded = packed + again + alone
    minimum = max(1, math.ceil(facts["speech"] / 30.0))
    per_min = decoded / max(facts["speech"] / 60, 1e-9)
    say(f"  windows decoded {decoded} ({packed} packed + {again} packed again + {alone} alone), "
        f"{per_min:.2f} per minute of speech; the fewest that hold the speech {minimum}: "
        f"{decoded / minimum:.2f}x {_target(decoded / minimum <= 1.3, '<= 1.3x')}")
    say(f"  speaker labelling {100 * facts['speaker_share']:.0f}% of the time "
        f"({ours.seconds - facts['bare']:.1f} s; {_target(facts['speaker_share'] <= 0.10, '<= 10%')}),"
        f" {facts['found']} speakers found, {profile.speakers} true "
        f"{_target(abs(facts['found'] - profile.speakers) <= 1, 'within 1')}")
    def speed(r: Run) -> str:
        return f"{r.seconds / ours.seconds:.2f}x wall, {r.cpu / ours.cpu:.2f}x CPU"

    checks = (
        (f"{speed(plain)} against plain faster-whisper", plain.seconds / ours.seconds >= 3, ">= 3x"),
        (f"{speed(vad)} against vad_filter", vad.seconds / ours.seconds >= 1.5, ">= 1.5x"),
        (f"{speed(batched)} against BatchedInferencePipeline",
         batched.seconds / ours.seconds >= 1.0, ">= 1x"),
        (f"word error {ours.wer:.3f} vs {min(plain.wer, vad.wer, batched.wer):.3f} (best baseline)",
         ours.wer < min(plain.wer, vad.wer, batched.wer), "lower"),
    )
    for text, ok, target in checks:
        say(f"  {text}: {_target(ok, target)}")
    if profile.name == "scanner":
        say(f"  peak memory {facts['peak']:.2f} GB {_target(facts['peak'] <= 1.5, '<= 1.5 GB')}")
    say()


def _target(ok: bool, target: str) -> str:
    return f"(target {target}: {'met' if ok else 'MISSED'})"


def extras(say, samples: np.ndarray, transcript, lines: list[Line], args) -> None:
    """Segmentation against pydub, locating and adjudicating quotes (``--extras``)."""
    seg_min = min(args.segment_minutes, args.minutes)
    pydub_s, ours_s = segmentation(samples, seg_min)
    locate_s = locate_quotes(transcript, lines, args.quotes)
    first_place, per_quote, judged, searched, judge_load, torch_threads = adjudicate_quotes(
        transcript, samples, lines, args.adjudicate)
    say(f"segmentation vs pydub ({seg_min:g} min): {ours_s:.3f} s vs {pydub_s:.2f} s, "
        f"{pydub_s / ours_s:.0f}x")
    say(f"locate {args.quotes} quotes: {locate_s:.2f} s")
    say(f"verify with base: {per_quote:.2f} s per quote ({first_place:.2f} s at the best match "
        f"only; {judged} quotes, {searched} tried elsewhere; judge loaded in {judge_load:.1f} s; "
        f"torch threads {torch_threads})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30,
                    help="length of the scanner and busy-channel recordings")
    ap.add_argument("--calls", type=int, default=200, help="calls in the call folder profile")
    ap.add_argument("--profiles", default=",".join(PROFILES))
    ap.add_argument("--model", default="tiny.en")
    ap.add_argument("--beam-size", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2,
                    help="CTranslate2 threads, pipeline and faster-whisper alike")
    ap.add_argument("--torch-threads", type=int, default=1,
                    help="torch threads for openai-whisper (1: two spin on a shared machine)")
    ap.add_argument("--openai-minutes", type=float, default=3,
                    help="openai-whisper runs on this much of each profile, extrapolated")
    ap.add_argument("--extras", action="store_true",
                    help="also segmentation vs pydub, locating and adjudicating (scanner)")
    ap.add_argument("--segment-minutes", type=float, default=3)
    ap.add_argument("--quotes", type=int, default=1000)
    ap.add_argument("--adjudicate", type=int, default=20, help="quotes judged with base")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    printout = Printout()
    say = printout.say
    say(f"model {args.model}, beam {args.beam_size}, CTranslate2 threads {args.threads}, "
        f"openai-whisper torch threads {args.torch_threads}; dispatch transcribe is the command "
        f"as a subprocess (start-up, model loading, speakers, tables); the others transcribe() "
        f"with the model loaded, word timestamps on")
    say()
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.profiles.split(","):
            profile = make_profile(name, Path(tmp), args)
            ours, facts = pipeline_runs(profile, Path(tmp), args)
            runs = [ours, *faster_whisper_runs(profile, args)]
            log(f"{name}: openai-whisper")
            runs.append(openai_run(profile, args))
            report_profile(say, profile, runs, facts)
            if args.extras and name == "scanner":
                transcript = pipeline_texts(Path(tmp) / "out-scanner", profile)[1][0]
                extras(say, audio.load_audio(profile.target), transcript, LINES[name], args)
    printout.write(args.out)


if __name__ == "__main__":
    main()
