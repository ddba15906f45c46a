"""Engines: one interface over faster-whisper and openai-whisper, one set of records.

An engine transcribes a window of samples (float32 mono 16 kHz, up to a recording)
into :class:`~pipeline.records.Segment` records with word times and probabilities,
times in seconds relative to the first sample. It then drops what Whisper invents on
radio audio (silence, static, squelch, repetition loops, subtitle credits) with
:func:`is_hallucination`, logging each drop.

Both engines run on the same bundled weights (see ``models.py``): faster-whisper
(CTranslate2, int8 on CPU by default) reads them directly; openai-whisper reads the
converted state dict. With the same options and float32 they give the same words.

Packing several transmissions into one 30 s window is the caller's job
(``transcribe.py``); ``clips`` restricts decoding to given spans of the window.
:meth:`Engine.transcribe_batch` takes many windows at once: faster-whisper encodes
and decodes ``DecodeOptions.batch_size`` windows per call (its
``BatchedInferencePipeline``, each window a clip of its own, so word times and
probabilities stay per window, with timestamp tokens so a window is cut into
segments the guards judge one by one), and decodes alone, with Whisper's
temperature fallback, only the windows whose batched decode fails the thresholds
(or hands them back undecided, for the caller to split).
openai-whisper decodes windows one after another. Engines do not segment audio,
store results or know about quotes.

The temperature fallback samples. So that a rerun tells the same story, sampling is
seeded (:data:`SEED`): openai-whisper before each decode, CTranslate2 when the model
loads (its generators cannot be reseeded after), so there a fresh run over the same
windows in the same order gives the same words.
"""

from __future__ import annotations

import logging
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.audio import SAMPLE_RATE
from pipeline.models import DEFAULT_MODEL, ModelError
from pipeline.records import Segment, Word

log = logging.getLogger(__name__)

ENGINES = ("faster-whisper", "openai-whisper")
"""Engine names, the default first."""
SEED = 0
"""Seed of the sampling in the temperature fallback."""


PROMPT_TOKENS = 223
"""Most tokens of an initial prompt Whisper reads: its prompt takes half of the 448-token
text context, 224 positions, one of them the start-of-previous-text token. Both engines
keep only the last 223 tokens of a longer prompt (its end), so :func:`fit_prompt` trims
one first, keeping its beginning."""


def prompt_tokens(text: str, model: str = DEFAULT_MODEL) -> int:
    """How many tokens Whisper makes of ``text`` as a prompt (English-only models, named
    ``*.en``, have a tokenizer of their own)."""
    from whisper.tokenizer import get_tokenizer

    english = ".en" in Path(str(model)).name
    tokenizer = get_tokenizer(multilingual=not english, language=None if english else "en",
                              task=None if english else "transcribe")
    return len(tokenizer.encode(" " + text.strip()))


def fit_prompt(given: str | None, terms: Sequence[str], model: str = DEFAULT_MODEL,
               limit: int = PROMPT_TOKENS) -> str | None:
    """A prompt of ``given`` (``--prompt`` and ``--vocab``, kept whole) then ``terms`` (an
    agency glossary's), joined by ``, ``, within ``limit`` tokens.

    The rule: terms are added in the order given while the prompt still fits; the first
    that would take it past the limit, and every term after it, is left out (logged), so
    the terms listed first in the glossary are the ones kept. A ``given`` text longer than
    the limit on its own is kept whole, with a warning: Whisper reads its end.
    """
    parts = [given] if given else []
    if given and prompt_tokens(given, model) > limit:
        log.warning("the prompt takes more than Whisper's %d tokens: it reads only its end", limit)
    for n, term in enumerate(terms):
        if prompt_tokens(", ".join([*parts, term]), model) > limit:
            log.warning("%d of %d glossary terms left out of the recognition prompt (Whisper "
                        "reads %d tokens); kept the first %d", len(terms) - n, len(terms), limit, n)
            break
        parts.append(term)
    return ", ".join(parts) or None


@dataclass
class DecodeOptions:
    """How an engine decodes a window: Whisper's options and the hallucination guards."""

    beam_size: int = 5
    """Beam width at temperature 0; 1 decodes greedily (about twice as fast)."""
    language: str | None = "en"
    """Spoken language code; None detects it (multilingual models only)."""
    initial_prompt: str | None = None
    """Text shown to the model as preceding context: unit names, streets, ten-codes."""
    hotwords: str | None = None
    """Hint phrases (faster-whisper ``hotwords``; openai-whisper gets them before the prompt)."""
    temperature: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    """Temperatures tried in turn while a decode fails the thresholds below."""
    best_of: int = 5
    """Candidates sampled at temperatures above 0."""
    no_speech_threshold: float | None = 0.6
    """No-speech probability above which a window counts as silent (with the log-prob test)."""
    log_prob_threshold: float | None = -1.0
    """Average log-probability below which a decode fails (retry hotter; silent if no-speech)."""
    compression_ratio_threshold: float | None = 2.4
    """gzip compression ratio above which text is a repetition loop (retry; then dropped)."""
    condition_on_previous_text: bool = False
    """Feed each window's text to the next; off, so one bad window cannot start a loop."""
    word_timestamps: bool = True
    """Compute word times and probabilities (cross-attention alignment)."""
    hallucination_silence_threshold: float | None = None
    """Skip silent gaps longer than this (seconds) around suspected hallucinations; None off."""
    guard: bool = True
    """Drop segments :func:`is_hallucination` flags (logged)."""
    max_repeats: int = 4
    """Most times a phrase of up to four words may repeat back to back before it is a loop."""
    batch_size: int = 8
    """Windows encoded and decoded together by :meth:`Engine.transcribe_batch`
    (faster-whisper); 1 decodes each window alone."""


# --------------------------------------------------------------------------- hallucinations

HALLUCINATION_PATTERNS: tuple[tuple[str, str], ...] = (
    ("subtitle credit", r"\b(subtitles?|captions?|transcript(ion)?s?|translat\w+) (by|from)\b"),
    ("subtitle credit", r"amara\.org|\bwww\.|dotsub|\bsubs by\b"),
    ("video sign-off", r"\bthanks? (you )?(so much )?for (watching|listening|viewing)\b"),
    ("video sign-off", r"\b(please |don'?t forget to )?(like and )?subscribe\b"),
    ("video sign-off", r"\bsee you (in the )?next (video|time|episode)\b"),
    ("sound annotation", r"^\s*[\[(][^\])]*[\])]\s*$"),
    ("music symbols", r"^[\s♪♫♬#*.-]+$"),
)
"""(reason, regex) pairs matched against a segment's lower-cased text: known phrases
Whisper produces on silence, static and squelch (learned from subtitled video)."""

SILENCE_FILLERS: tuple[str, ...] = ("you", "thank you", "thanks", "bye", "so", "uh", "um")
"""Whole-segment texts Whisper emits on near-silence; dropped only when it was unsure
(no-speech probability at least :data:`FILLER_NO_SPEECH`)."""

FILLER_NO_SPEECH = 0.3
"""No-speech probability from which a lone filler counts as invented."""


def is_hallucination(segment: Segment, options: DecodeOptions | None = None) -> str | None:
    """Why a segment looks invented by the recogniser, or None if it looks real.

    Checks, in order: empty text; silence (no-speech probability above and average
    log-probability below their thresholds, Whisper's own rule); compression ratio;
    a phrase repeated back to back; :data:`HALLUCINATION_PATTERNS`; a lone
    :data:`SILENCE_FILLERS` word on an unsure window.

    Args:
        segment: A transcribed segment, with Whisper's statistics.
        options: Thresholds; the defaults when None.

    Returns:
        A short reason a person can read, or None.
    """
    options = options or DecodeOptions()
    text = segment.text.strip().lower()
    checks = (_empty, _silent, _compressed, _looping, _known_phrase, _filler)
    for check in checks:
        reason = check(segment, text, options)
        if reason:
            return reason
    return None


def _empty(segment: Segment, text: str, options: DecodeOptions) -> str | None:
    return "empty text" if not text else None


def _silent(segment: Segment, text: str, options: DecodeOptions) -> str | None:
    nst, lpt = options.no_speech_threshold, options.log_prob_threshold
    if nst is None or lpt is None:
        return None
    if segment.no_speech_prob > nst and segment.avg_logprob < lpt:
        return (f"silence: no-speech probability {segment.no_speech_prob:.2f} > {nst} and "
                f"average log-probability {segment.avg_logprob:.2f} < {lpt}")
    return None


def _compressed(segment: Segment, text: str, options: DecodeOptions) -> str | None:
    crt = options.compression_ratio_threshold
    if crt is not None and segment.compression_ratio > crt:
        return f"repetition: compression ratio {segment.compression_ratio:.2f} > {crt}"
    return None


def _looping(segment: Segment, text: str, options: DecodeOptions) -> str | None:
    words = re.findall(r"[\w'-]+", text)
    for size in range(1, 5):
        for start in range(len(words) - size):
            phrase = words[start:start + size]
            repeats = 1
            while words[start + repeats * size:start + (repeats + 1) * size] == phrase:
                repeats += 1
            if repeats > options.max_repeats:
                return f"repetition loop: {' '.join(phrase)!r} {repeats} times in a row"
    return None


def _known_phrase(segment: Segment, text: str, options: DecodeOptions) -> str | None:
    for reason, pattern in HALLUCINATION_PATTERNS:
        if re.search(pattern, text):
            return f"{reason}: {segment.text.strip()!r}"
    return None


def _filler(segment: Segment, text: str, options: DecodeOptions) -> str | None:
    bare = re.sub(r"[^\w' ]+", "", text).strip()
    if bare in SILENCE_FILLERS and segment.no_speech_prob >= FILLER_NO_SPEECH:
        return (f"lone filler {segment.text.strip()!r} on a window that is probably silent "
                f"(no-speech probability {segment.no_speech_prob:.2f})")
    return None


def drop_hallucinations(segments: Iterable[Segment], options: DecodeOptions) -> list[Segment]:
    """Keep the segments :func:`is_hallucination` passes and that are not part of a
    repetition loop across segments (:func:`looping_segments`); log the others."""
    segments = list(segments)
    looping = looping_segments(segments, options.max_repeats)
    kept = []
    for n, seg in enumerate(segments):
        reason = is_hallucination(seg, options)
        if n in looping:
            reason = reason or f"repetition loop: {seg.text.strip()!r} {looping[n]} segments in a row"
        if reason:
            log.info("dropped %.2f-%.2f s %r: %s", seg.start, seg.end, seg.text, reason)
        else:
            kept.append(seg)
    return kept


def looping_segments(segments: Sequence[Segment], max_repeats: int) -> dict[int, int]:
    """Segments in a run of more than ``max_repeats`` with the same words, index -> run length.

    With timestamp tokens Whisper cuts a loop into one short segment per repeat
    ("Okay." "Okay." ...), which the in-segment check cannot see.
    """
    keys = [" ".join(re.findall(r"[\w'-]+", s.text.lower())) for s in segments]
    out: dict[int, int] = {}
    start = 0
    for n in range(1, len(keys) + 1):
        if n == len(keys) or keys[n] != keys[start]:
            if n - start > max_repeats and keys[start]:
                out.update(dict.fromkeys(range(start, n), n - start))
            start = n
    return out


# --------------------------------------------------------------------------- records


def make_segment(start: float, end: float, text: str, words: Sequence[tuple],
                 avg_logprob: float, no_speech_prob: float, compression_ratio: float) -> Segment:
    """Build a :class:`Segment` from an engine's raw values.

    The text is the raw words joined (so text and words always agree); each word's
    leading space is stripped, as the records want.

    Args:
        start: Segment start in seconds.
        end: Segment end in seconds.
        text: The engine's segment text (used when there are no words).
        words: ``(start, end, word, probability)`` tuples, word with its leading space.
        avg_logprob: Mean token log-probability.
        no_speech_prob: No-speech probability of the window.
        compression_ratio: gzip compression ratio of the window's text.
    """
    records = [Word(float(s), max(float(s), float(e)), w.strip(), float(p))
               for s, e, w, p in words]
    joined = "".join(w for _, _, w, _ in words).strip() if words else text.strip()
    return Segment(segment_id=-1, start=float(start), end=float(end), text=joined, words=records,
                   avg_logprob=float(avg_logprob), no_speech_prob=float(no_speech_prob),
                   compression_ratio=float(compression_ratio))


def _needs_fallback(segments: Sequence[Segment], options: DecodeOptions) -> bool:
    """Whether a window's first-temperature decode fails Whisper's thresholds.

    Whisper's rule: a decode fails on a compression ratio above its threshold, or an
    average log-probability below its threshold unless the window is silent (its
    no-speech probability above that threshold). Only then is a hotter temperature
    tried, so only then is there anything to redo.
    """
    if len(options.temperature) < 2:
        return False
    crt, lpt, nst = (options.compression_ratio_threshold, options.log_prob_threshold,
                     options.no_speech_threshold)
    for s in segments:
        if crt is not None and s.compression_ratio > crt:
            return True
        silent = nst is not None and s.no_speech_prob > nst
        if lpt is not None and s.avg_logprob < lpt and not silent:
            return True
    return False


def _clip_of(seek: int, starts: np.ndarray) -> int:
    """Index of the clip a batched segment came from, by its ``seek`` (the clip's start in
    10 ms frames, rounded down); a segment's own start is rounded to 10 ms too, and can
    fall a few ms before its clip's start, in the clip before it."""
    return int(np.argmin(np.abs(starts * 100 - seek)))


def usable_cpus() -> int:
    """CPU cores this process may run on (CTranslate2 otherwise starts 4 threads)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _flat_clips(clips: list[tuple[float, float]] | None) -> list[float] | None:
    """``[(start, end), ...]`` as Whisper's flat ``[start, end, start, end, ...]``."""
    if not clips:
        return None
    return [float(t) for clip in clips for t in clip]


# --------------------------------------------------------------------------- engines


class Engine(ABC):
    """A loaded Whisper model behind one interface."""

    name: str
    """Engine name: ``faster-whisper`` or ``openai-whisper``."""
    model: str
    """Model name or path as the user gave it."""

    def transcribe(self, audio: np.ndarray, options: DecodeOptions,
                   clips: list[tuple[float, float]] | None = None) -> list[Segment]:
        """Transcribe a window with word times, dropping hallucinations.

        Args:
            audio: float32 mono samples at 16 kHz.
            options: Decoding options and guards.
            clips: Spans ``(start, end)`` in seconds to decode, in order; None decodes all.

        Returns:
            Segments in time order, times relative to ``audio[0]``; ``segment_id`` and
            ``transmission_id`` are left for the caller.
        """
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        segments = list(self._decode(audio, options, clips))
        return drop_hallucinations(segments, options) if options.guard else segments

    def transcribe_batch(self, windows: Sequence[np.ndarray], options: DecodeOptions,
                         fallback: bool = True, timestamps: bool = True) -> list[list[Segment] | None]:
        """Transcribe several windows; one list of segments per window.

        The default decodes them one after another; a batched backend overrides it.

        Args:
            windows: float32 mono samples at 16 kHz, each at most 30 s.
            options: Decoding options and guards.
            fallback: Decode a window that fails Whisper's thresholds again, hotter
                (as :meth:`transcribe` does); False gives None for it instead, so
                the caller can split it (a backend without a batched first pass
                always falls back).
            timestamps: Predict timestamp tokens in the batched pass, so a window comes
                back as Whisper's segments; False gives one segment per window (fine for
                a window holding one transmission). Sequential decoding always predicts them.

        Returns:
            Per window, what :meth:`transcribe` returns for it (or None, above).
        """
        return [self.transcribe(window, options) for window in windows]

    @abstractmethod
    def _decode(self, audio: np.ndarray, options: DecodeOptions,
                clips: list[tuple[float, float]] | None) -> Iterable[Segment]:
        """Run the model: segments before the guards."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.model}>"


class FasterWhisperEngine(Engine):
    """faster-whisper (CTranslate2) on the verified bundled weights."""

    name = "faster-whisper"

    def __init__(self, model: str = DEFAULT_MODEL, threads: int = 0,
                 compute_type: str | None = None) -> None:
        """Load the model.

        Args:
            model: A registry name, CTranslate2 directory or faster-whisper model name.
            threads: CPU threads (0: CTranslate2's default).
            compute_type: CTranslate2 compute type; ``int8`` when None.
        """
        import ctranslate2
        from faster_whisper import WhisperModel

        from pipeline.models import ct2_model_dir

        ctranslate2.set_random_seed(SEED)  # read by the model's threads as they start
        self.model = model
        self.compute_type = compute_type or "int8"
        self.threads = threads or usable_cpus()
        self.whisper = WhisperModel(str(ct2_model_dir(model)), device="cpu",
                                    compute_type=self.compute_type, cpu_threads=self.threads)
        self._batched = None

    def transcribe_batch(self, windows, options, fallback=True, timestamps=True):
        """Decode ``options.batch_size`` windows per model call; see :class:`Engine`.

        Each window is one clip of the batched pipeline, decoded at the first
        temperature, with timestamp tokens unless ``timestamps`` is False (so a packed
        window comes back as Whisper's segments, each judged by the guards on its
        own, not as one segment kept or dropped whole); words keep their own times
        and probabilities. A window whose decode fails Whisper's thresholds
        (compression ratio, or low log-probability on a window that is not silent)
        is decoded again alone, through the temperature fallback, as
        :meth:`transcribe` would, or given back as None when ``fallback`` is False.
        """
        if options.batch_size <= 1 or not windows:
            return super().transcribe_batch(windows, options, fallback, timestamps)
        windows = [np.ascontiguousarray(w, dtype=np.float32) for w in windows]
        out: list[list[Segment] | None] = []
        decoded = self._decode_batched(windows, options, timestamps)
        for window, segments in zip(windows, decoded, strict=True):
            if _needs_fallback(segments, options):
                if not fallback:
                    out.append(None)
                    continue
                log.debug("window of %.1f s fails the thresholds batched: decoding it alone",
                             len(window) / SAMPLE_RATE)
                segments = list(self._decode(window, options, None))
            out.append(drop_hallucinations(segments, options) if options.guard else segments)
        return out

    def _decode_batched(self, windows: list[np.ndarray], options: DecodeOptions,
                        timestamps: bool = True):
        """Segments per window from one pass of the batched pipeline, window times."""
        from faster_whisper import BatchedInferencePipeline

        if self._batched is None:
            self._batched = BatchedInferencePipeline(self.whisper)
        edges = np.cumsum([0] + [len(w) for w in windows])
        starts = edges[:-1] / SAMPLE_RATE
        clips = [{"start": a / SAMPLE_RATE, "end": b / SAMPLE_RATE}
                 for a, b in zip(edges[:-1], edges[1:], strict=True)]
        kwargs = self._kwargs(options)
        for unused in ("condition_on_previous_text", "hallucination_silence_threshold"):
            kwargs.pop(unused)
        kwargs["temperature"] = options.temperature[0]
        segments, _info = self._batched.transcribe(
            np.concatenate(windows), **kwargs, clip_timestamps=clips,
            batch_size=options.batch_size, without_timestamps=not timestamps, vad_filter=False,
        )
        per_window: list[list[Segment]] = [[] for _ in windows]
        for s in segments:
            n = _clip_of(s.seek, starts)
            at = starts[n]
            words = [(w.start - at, w.end - at, w.word, w.probability) for w in (s.words or [])]
            per_window[n].append(make_segment(s.start - at, s.end - at, s.text, words,
                                              s.avg_logprob, s.no_speech_prob,
                                              s.compression_ratio))
        return per_window

    def _decode(self, audio, options, clips):
        segments, _info = self.whisper.transcribe(
            audio, **self._kwargs(options), vad_filter=False,
            clip_timestamps=_flat_clips(clips) or "0",
        )
        for s in segments:
            words = [(w.start, w.end, w.word, w.probability) for w in (s.words or [])]
            yield make_segment(s.start, s.end, s.text, words, s.avg_logprob,
                               s.no_speech_prob, s.compression_ratio)

    @staticmethod
    def _kwargs(options: DecodeOptions) -> dict:
        return dict(
            language=options.language, beam_size=options.beam_size, best_of=options.best_of,
            temperature=list(options.temperature), initial_prompt=options.initial_prompt,
            hotwords=options.hotwords,
            compression_ratio_threshold=options.compression_ratio_threshold,
            log_prob_threshold=options.log_prob_threshold,
            no_speech_threshold=options.no_speech_threshold,
            condition_on_previous_text=options.condition_on_previous_text,
            word_timestamps=options.word_timestamps,
            hallucination_silence_threshold=options.hallucination_silence_threshold,
        )


class OpenAIWhisperEngine(Engine):
    """openai-whisper (PyTorch) on the bundled weights, converted once."""

    name = "openai-whisper"

    def __init__(self, model: str = DEFAULT_MODEL, threads: int = 0) -> None:
        """Load the model.

        Args:
            model: A registry name, CTranslate2 directory, ``.pt`` checkpoint or
                openai-whisper model name.
            threads: Torch CPU threads (0: leave torch's setting).
        """
        import torch

        from pipeline.convert import load_openai_model

        self.threads = threads or torch.get_num_threads()
        torch.set_num_threads(self.threads)
        self.model = model
        self.whisper = load_openai_model(model)
        self._aligner_ready = False

    def _decode(self, audio, options, clips):
        import torch
        import whisper

        if options.word_timestamps and not self._aligner_ready:
            compile_aligner()
            self._aligner_ready = True
        torch.set_num_threads(self.threads)
        torch.manual_seed(SEED)
        with torch.inference_mode():
            result = whisper.transcribe(
                self.whisper, audio, verbose=None, fp16=False, **self._kwargs(options),
                clip_timestamps=_flat_clips(clips) or "0",
            )
        for s in result["segments"]:
            words = [(w["start"], w["end"], w["word"], w["probability"])
                     for w in s.get("words", [])]
            yield make_segment(s["start"], s["end"], s["text"], words, s["avg_logprob"],
                               s["no_speech_prob"], s["compression_ratio"])

    @staticmethod
    def _kwargs(options: DecodeOptions) -> dict:
        prompt = " ".join(p.strip() for p in (options.hotwords, options.initial_prompt) if p)
        return dict(
            language=options.language,
            beam_size=options.beam_size if options.beam_size > 1 else None,
            best_of=options.best_of, temperature=tuple(options.temperature),
            initial_prompt=prompt or None,
            compression_ratio_threshold=options.compression_ratio_threshold,
            logprob_threshold=options.log_prob_threshold,
            no_speech_threshold=options.no_speech_threshold,
            condition_on_previous_text=options.condition_on_previous_text,
            word_timestamps=options.word_timestamps,
            hallucination_silence_threshold=options.hallucination_silence_threshold,
        )


def compile_aligner() -> None:
    """Compile openai-whisper's word-timestamp DTW (numba) before decoding or aligning.

    numba's first compilation resets the OpenMP thread count it shares with torch to
    every core, silently undoing ``torch.set_num_threads``; on a shared machine the
    extra spinning thread made each decode step about 10x slower (openai-whisper fell
    below real time with word timestamps). Compiling here lets the engine pin its
    threads again right after.
    """
    from whisper.timing import dtw_cpu

    dtw_cpu(np.zeros((2, 2)))


def load_engine(model: str = DEFAULT_MODEL, engine: str = "faster-whisper", threads: int = 0,
                compute_type: str | None = None) -> Engine:
    """Load a model into an engine, once per process.

    Args:
        model: A registry name (``tiny.en``, ``base``), a CTranslate2 directory, an
            openai-whisper ``.pt`` file, or a name either package can download.
        engine: ``faster-whisper`` or ``openai-whisper``.
        threads: CPU threads (0: the library default).
        compute_type: faster-whisper only: ``int8`` (default), ``float32``, ...

    Returns:
        The loaded engine.

    Raises:
        ModelError: Unknown engine or model, or weights that fail their checksum.
    """
    if engine == "faster-whisper":
        return FasterWhisperEngine(model, threads=threads, compute_type=compute_type)
    if engine == "openai-whisper":
        if compute_type not in (None, "float32"):
            raise ModelError(f"openai-whisper runs float32 on CPU; compute_type {compute_type!r} "
                             f"is for faster-whisper")
        return OpenAIWhisperEngine(model, threads=threads)
    raise ModelError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
