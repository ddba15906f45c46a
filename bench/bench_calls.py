"""A folder of many short calls (trunk-recorder layout): ``dispatch transcribe`` against
plain faster-whisper run on each file, side by side in one run.

A day of one talkgroup is thousands of 2-15 s files. The folder is generated here:
each call is one to three lines of speech with short hiss between them (as when a
unit and the dispatcher key up in one call), the lines cut from the project's own
recordings at their reference times (``audio_samples/manifest.csv``, Apollo 11,
the telephone call) or spoken by ``espeak-ng`` from dispatch phrases built here
(skipped, and said, where espeak-ng is not installed). Files are written as
trunk-recorder writes them (``SYSTEM/YYYY/M/D/TG-EPOCH_FREQ-call_N.wav`` with a
``.json`` beside: ``start_time``, ``talkgroup``, ``srcList`` with each line's unit
and position), three talkgroups in time order.

Measured, same model, beam and threads:

1. ``dispatch transcribe FOLDER`` as a subprocess (start-up, model loading, speaker
   labels and tables included) against faster-whisper's ``WhisperModel.transcribe``
   on each file (model loaded before timing; decoding the file is part of it, as in
   the scanner tools); ``met`` at 4x faster or more at no worse word error.
2. ``transcribe.transcribe_many`` in process, the model loaded, packing across
   calls (``TranscribeOptions.pack_calls``) and each call alone, against the same;
   the per-file overhead of the packed run beyond decoding audio and recognition
   (hashing, segmenting, packing, mapping words back), with the engine's calls and
   audio decoding timed apart; ``met`` at 20 ms or less.

Word error is over the whole folder (every call's reference against its own
transcript, jiwer, Whisper's English normaliser). Output goes to stdout and to
``bench/results/calls.txt``.

Example:
    .venv/bin/python bench/bench_calls.py --calls 1000
    .venv/bin/python bench/bench_calls.py --calls 100   # quick
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import audio  # noqa: E402
from pipeline.audio import write_wav  # noqa: E402

SR = audio.SAMPLE_RATE
RESULTS = ROOT / "bench" / "results" / "calls.txt"
REAL = ("audio_samples/dispatch-channel.mp3", "audio_samples/routine-traffic.mp3",
        "tests/data/apollo11.mp3", "tests/data/phone-call.wav")
TALKGROUPS = ((8101, "Zone 8 Dispatch"), (8102, "Zone 8 Tac"), (9001, "Fire Dispatch"))
FIRST_CALL = 1_759_613_000
"""Epoch of the first call (4 October 2025, evening UTC)."""


@dataclass
class Line:
    """One line of speech with its reference text."""

    samples: np.ndarray
    """float32 mono 16 kHz, a little margin on both sides."""
    text: str
    """What is said."""
    speaker: str
    """Who says it (a name within its source)."""


@dataclass
class Call:
    """One generated call file."""

    path: Path
    """The audio file."""
    talkgroup: int
    """Talkgroup number."""
    start_time: float
    """Epoch seconds the call started."""
    text: str
    """Reference text of the whole call."""
    duration: float
    """Seconds of audio."""
    units: list[tuple[float, int]] = field(default_factory=list)
    """(position in seconds, unit ID) of each line."""


def real_lines() -> list[Line]:
    """Lines cut from the project's recordings at their reference times."""
    out = []
    for piece in REAL:
        samples = audio.load_audio(ROOT / piece)
        spans = reference_spans(piece, len(samples) / SR)
        for start, end, text, who in spans:
            a, b = max(0.0, start - 0.15), min(len(samples) / SR, end + 0.25)
            if 0.4 < b - a < 14.0:
                out.append(Line(samples[int(a * SR):int(b * SR)].copy(), text,
                                speaker_key(piece, who)))
    return out


def speaker_key(piece: str, who: str) -> str:
    """One name per voice: the sample recordings share their cast, the others do not."""
    return who if piece.startswith("audio_samples") else f"{Path(piece).stem}:{who}"


def reference_spans(piece: str, length: float) -> list[tuple[float, float, str, str]]:
    """(start, end, text, speaker) of a piece's reference lines."""
    name = Path(piece).name
    if piece.startswith("audio_samples"):
        with open(ROOT / "audio_samples" / "manifest.csv", encoding="utf-8") as f:
            return [(float(r["start_s"]), float(r["end_s"]), r["text"], r["speaker"])
                    for r in csv.DictReader(f) if r["recording"] == name]
    if name == "apollo11.mp3":  # starts only (approximate): a line ends where the next begins
        rows = [r.split("\t") for r in (ROOT / "tests/data/apollo11.tsv").read_text().splitlines()[1:]]
        starts = [float(r[0]) for r in rows] + [length]
        return [(starts[i], starts[i + 1] - 0.3, r[3], r[2]) for i, r in enumerate(rows)]
    rows = [r.split(maxsplit=5) for r in (ROOT / "tests/data/phone-call.stm").read_text().splitlines()]
    return [(float(r[3]), float(r[4]), r[5], r[2]) for r in rows]


UNITS = ("eight twelve", "eight thirty-three", "Adam fourteen", "unit four oh two",
         "Boy twenty-one", "Engine sixteen", "Medic five", "Sam thirty")
ACTIONS = ("show us on scene", "we're en route", "copy that", "ten four, clear",
           "we'll be out on a traffic stop", "can you run a plate for me",
           "show us back in service", "requesting a second unit", "we're code four here",
           "one in custody, we're heading to the station")
PLACES = ("at Seventy-ninth and Halsted", "on Main near Fifth", "at the Shell station on Western",
          "in the alley behind Oak Street", "at the north parking lot of the hospital",
          "on the Eisenhower eastbound at Harlem", "", "")
VOICES = (("en-us+m3", 165), ("en-us+f2", 175), ("en+m1", 155), ("en-us+m7", 185))


def espeak_lines(count: int, rng: np.random.Generator, workdir: Path) -> list[Line]:
    """``count`` dispatch phrases spoken by espeak-ng (none where it is not installed)."""
    if shutil.which("espeak-ng") is None:
        return []
    out = []
    for n in range(count):
        text = f"{rng.choice(UNITS).capitalize()}, {rng.choice(ACTIONS)} {rng.choice(PLACES)}"
        text = text.strip() + "."
        voice, speed = VOICES[n % len(VOICES)]
        wav = workdir / f"espeak-{n}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text],
                       check=True, capture_output=True)
        samples = audio.load_audio(wav)
        pad = np.zeros(int(0.15 * SR), dtype=np.float32)
        out.append(Line(np.concatenate([pad, 0.6 * samples, pad]), text, f"espeak:{voice}"))
    return out


def build_calls(n: int, root: Path, seed: int = 0, espeak: int = 40) -> list[Call]:
    """Write ``n`` calls of 2-15 s in trunk-recorder layout under ``root``.

    Returns:
        The calls in the order they were written (time order within each talkgroup).
    """
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        lines = real_lines() + espeak_lines(espeak, rng, Path(tmp))
    units = {who: 1_000_000 + 37 * i for i, who in enumerate(sorted({x.speaker for x in lines}))}
    clock = {tg: float(FIRST_CALL) for tg, _ in TALKGROUPS}
    calls = []
    for k in range(n):
        tg, tag = TALKGROUPS[int(rng.integers(len(TALKGROUPS)))]
        pieces, text, who = [_hiss(rng, 0.2)], [], []
        length = len(pieces[0]) / SR
        for _ in range(int(rng.integers(1, 4))):
            line = lines[int(rng.integers(len(lines)))]
            if length + len(line.samples) / SR + 0.8 > 15.0:
                break
            if text:
                pieces.append(_hiss(rng, float(rng.uniform(0.3, 1.0))))
                length += len(pieces[-1]) / SR
            who.append((round(length, 2), units[line.speaker]))
            gain = float(rng.uniform(0.6, 1.0))
            pieces.append(line.samples * gain + rng.normal(0, 0.002, len(line.samples)).astype(np.float32))
            length += len(line.samples) / SR
            text.append(line.text)
        pieces.append(_hiss(rng, max(0.3, 2.0 - length)))
        samples = np.concatenate(pieces).astype(np.float32)
        clock[tg] += float(rng.uniform(5, 90))
        start = clock[tg]
        call = Call(_call_path(root, tg, start, k), tg, start, " ".join(text), len(samples) / SR, who)
        clock[tg] += call.duration
        write_wav(call.path, samples)
        _write_json(call, tag)
        calls.append(call)
    return calls


def _hiss(rng: np.random.Generator, seconds: float) -> np.ndarray:
    return rng.normal(0, 0.002, int(seconds * SR)).astype(np.float32)


def _call_path(root: Path, tg: int, start: float, k: int) -> Path:
    day = time.gmtime(start)
    folder = root / "metro" / str(day.tm_year) / str(day.tm_mon) / str(day.tm_mday)
    return folder / f"{tg}-{int(start)}_851012500.0-call_{k}.wav"


def _write_json(call: Call, tag: str) -> None:
    """The call's JSON as trunk-recorder's ``create_call_json`` writes it (the fields used here)."""
    start = int(call.start_time)
    meta = {
        "freq": 851012500, "start_time": start, "stop_time": start + int(round(call.duration)),
        "start_time_ms": int(call.start_time * 1000),
        "stop_time_ms": int((call.start_time + call.duration) * 1000),
        "emergency": 0, "encrypted": 0, "call_length": round(call.duration, 2),
        "talkgroup": call.talkgroup, "talkgroup_tag": tag, "talkgroup_description": tag,
        "talkgroup_group": "Metro", "audio_type": "digital", "short_name": "metro",
        "freqList": [{"freq": 851012500, "time": start, "pos": 0.0, "len": call.duration,
                      "error_count": 0, "spike_count": 0}],
        "srcList": [{"src": unit, "time": start + int(pos), "pos": pos, "emergency": 0,
                     "signal_system": "", "tag": ""} for pos, unit in call.units],
    }
    call.path.with_suffix(".json").write_text(json.dumps(meta, indent=2), encoding="utf-8")


# --------------------------------------------------------------------------- measures


def folder_wer(calls: list[Call], texts: dict[str, str]) -> float:
    """Word error over the folder: each call's reference against its own transcript."""
    import jiwer
    from whisper.normalizers import EnglishTextNormalizer

    norm = EnglishTextNormalizer()
    refs = [norm(c.text) for c in calls]
    hyps = [norm(texts.get(str(c.path), "")) for c in calls]
    return jiwer.wer(refs, hyps)


def run_dispatch(root: Path, out: Path, args, extra: tuple[str, ...] = ()
                 ) -> tuple[float, float, str]:
    """``dispatch -v transcribe ROOT`` as a subprocess: (wall seconds, CPU seconds, its log)."""
    cmd = [sys.executable, "-m", "pipeline", "-v", "transcribe", str(root), "--out", str(out),
           "--model", args.model, "--beam-size", str(args.beam_size),
           "--threads", str(args.threads), "--quiet", *extra]
    started, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    return time.perf_counter() - started, _children_cpu() - cpu, done.stderr


def _children_cpu() -> float:
    import resource

    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def dispatch_texts(out: Path) -> dict[str, str]:
    """Recording path (absolute) -> transcript text, from the pipeline's workspace."""
    from pipeline.workspace import Workspace

    with Workspace(out) as ws:
        return {str(Path(t.recording).resolve()): " ".join(s.text for s in t.segments)
                for t in ws.transcripts()}


def plain_per_file(calls: list[Call], args, **kwargs) -> tuple[dict[str, str], float, float]:
    """faster-whisper's transcribe on each file (path in, so it decodes it): (texts, wall, CPU)."""
    import ctranslate2
    from faster_whisper import WhisperModel

    from pipeline.engines import SEED
    from pipeline.models import ct2_model_dir

    ctranslate2.set_random_seed(SEED)
    model = WhisperModel(str(ct2_model_dir(args.model)), device="cpu", compute_type="int8",
                         cpu_threads=args.threads)
    texts, started, cpu = {}, time.perf_counter(), time.process_time()
    for c in calls:
        segments, _ = model.transcribe(str(c.path), language="en", beam_size=args.beam_size,
                                       word_timestamps=True, **kwargs)
        texts[str(c.path)] = " ".join(s.text for s in segments)
    return texts, time.perf_counter() - started, time.process_time() - cpu


def in_process(calls: list[Call], args, pack_calls: bool) -> dict:
    """``transcribe_many`` in process (model loaded before timing), its engine calls and
    audio decoding timed apart.

    Returns:
        wall, cpu, engine (seconds in the engine), decode (seconds decoding audio), hash
        (seconds hashing), windows (decoded), texts (path -> text).
    """
    from pipeline import transcribe
    from pipeline.engines import load_engine
    from pipeline.workspace import file_sha256

    engine = load_engine(args.model, threads=args.threads)
    inner, spent = engine.transcribe_batch, {"engine": 0.0, "windows": 0}

    def timed_batch(windows, *a, **k):
        t = time.perf_counter()
        try:
            return inner(windows, *a, **k)
        finally:
            spent["engine"] += time.perf_counter() - t
            spent["windows"] += len(windows)

    engine.transcribe_batch = timed_batch
    options = transcribe.TranscribeOptions(model=args.model, pack_calls=pack_calls)
    options.decode.beam_size = args.beam_size
    started, cpu = time.perf_counter(), time.process_time()
    t = time.perf_counter()
    items = [transcribe.Recording(str(c.path), audio.load_audio(c.path), "") for c in calls]
    decode_s = time.perf_counter() - t
    t = time.perf_counter()
    for item in items:
        item.sha256 = file_sha256(item.recording)
    hash_s = time.perf_counter() - t
    transcripts = transcribe.transcribe_many(items, engine, options)
    return dict(wall=time.perf_counter() - started, cpu=time.process_time() - cpu,
                engine=spent["engine"], decode=decode_s, hash=hash_s, windows=spent["windows"],
                texts={t.recording: " ".join(s.text for s in t.segments) for t in transcripts})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--model", default="tiny.en")
    ap.add_argument("--beam-size", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    sys.path.insert(0, str(ROOT / "bench"))
    from bench_throughput import Printout

    printout = Printout()
    say = printout.say
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "calls"
        calls = build_calls(args.calls, root)
        audio_s = sum(c.duration for c in calls)
        say(f"folder: {len(calls)} calls, {audio_s / 60:.1f} min of audio, "
            f"{min(c.duration for c in calls):.1f}-{max(c.duration for c in calls):.1f} s each, "
            f"{len(TALKGROUPS)} talkgroups, trunk-recorder layout; "
            f"{sum(len(c.text.split()) for c in calls)} reference words")
        say(f"model {args.model}, beam {args.beam_size}, CTranslate2 threads {args.threads}")
        pipe_s, pipe_cpu, _log = run_dispatch(root, Path(tmp) / "out", args)
        pipe_wer = folder_wer(calls, dispatch_texts(Path(tmp) / "out"))
        plain, plain_s, plain_cpu = plain_per_file(calls, args)
        plain_wer = folder_wer(calls, plain)
        packed = in_process(calls, args, pack_calls=True)
        alone = in_process(calls, args, pack_calls=False)
    packed_wer, alone_wer = folder_wer(calls, packed["texts"]), folder_wer(calls, alone["texts"])
    say()
    say(f"{'':34s} {'seconds':>8s} {'per file':>9s} {'cpu s':>7s} {'word error':>10s}")
    say(f"{'dispatch transcribe FOLDER':34s} {pipe_s:8.1f} {1000 * pipe_s / len(calls):7.0f}ms "
        f"{pipe_cpu:7.1f} {pipe_wer:10.3f}")
    say(f"{'faster-whisper on each file':34s} {plain_s:8.1f} {1000 * plain_s / len(calls):7.0f}ms "
        f"{plain_cpu:7.1f} {plain_wer:10.3f}")
    for name, run in (("transcribe_many, packed across calls", packed),
                      ("transcribe_many, each call alone", alone)):
        say(f"{name:34s} {run['wall']:8.1f} {1000 * run['wall'] / len(calls):7.0f}ms "
            f"{run['cpu']:7.1f} {folder_wer(calls, run['texts']):10.3f}   (in process, model "
            f"loaded; {run['windows']} windows)")
    say("(dispatch transcribe: the command as a subprocess, start-up, speakers and tables "
        "included, calls alone by default; transcribe_many: decoding audio, hashing and "
        "transcribing only)")
    for name, ours, ours_wer in (("dispatch transcribe", pipe_s, pipe_wer),
                                 ("packed across calls", packed["wall"], packed_wer)):
        r = plain_s / ours
        met = r >= 4 and ours_wer <= plain_wer
        say(f"{name}: {r:.2f}x faster than faster-whisper on each file (target >= 4x at no "
            f"worse word error): {'met' if met else 'missed'}"
            + ("" if r >= 4 else f" by {4 - r:.2f}x")
            + ("" if ours_wer <= plain_wer else f"; word error worse by {ours_wer - plain_wer:.3f}"))
    say(f"packed across calls against each call alone: {alone['wall'] / packed['wall']:.2f}x wall, "
        f"{alone['cpu'] / packed['cpu']:.2f}x CPU, word error {packed_wer:.3f} against {alone_wer:.3f}")
    wall, engine_s, decode_s, hash_s = (packed[k] for k in ("wall", "engine", "decode", "hash"))
    over = (wall - engine_s - decode_s) / len(calls)
    say(f"packed: engine {engine_s:.1f} s, audio decoding {decode_s:.1f} s, hashing {hash_s:.2f} s "
        f"of {wall:.1f} s")
    say(f"per-file overhead beyond decoding and recognition {1000 * over:.1f} ms "
        f"(target <= 20 ms): {'met' if over <= 0.020 else f'missed by {1000 * (over - 0.020):.1f} ms'}")
    printout.write(args.out)


if __name__ == "__main__":
    main()
