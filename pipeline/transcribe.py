"""One recording in, one ``Transcript`` out.

The recording is split into transmissions (``audio.find_transmissions``); the
transmissions are packed into windows of up to 30 s with short gaps between them
(``audio.pack_windows``), so Whisper's fixed 30 s input is filled with speech
instead of padding; the windows go to the engine ``decode.batch_size`` at a time
(``Engine.transcribe_batch``: one batched model call on faster-whisper), their
audio built only for the batch in hand, and every word is mapped back to its
absolute time in the recording. A Whisper segment that spans
two packed transmissions is split at the transmission boundary, so every
``Segment`` belongs to exactly one transmission.

Nothing here decodes files twice or loads models: the caller passes samples and
an engine.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

import numpy as np

from pipeline import audio
from pipeline.engines import DecodeOptions, Engine
from pipeline.records import Segment, Transcript, Transmission, Word

log = logging.getLogger(__name__)


@dataclass
class TranscribeOptions:
    """Everything that shapes a transcript (and so its workspace key)."""

    model: str = "tiny.en"
    """Model name from the registry, a CTranslate2 directory or a ``.pt`` checkpoint."""
    engine: str = "faster-whisper"
    """``faster-whisper`` (default, int8 on CPU) or ``openai-whisper``."""
    decode: DecodeOptions = field(default_factory=DecodeOptions)
    """Decoding options passed to the engine."""
    segment: audio.SegmentOptions = field(default_factory=audio.SegmentOptions)
    """How recordings are split into transmissions."""
    pack: bool = True
    """Pack consecutive transmissions into windows of up to ``max_window_s``."""
    max_window_s: float = 30.0
    """Longest packed window in seconds (Whisper's input length)."""

    def fingerprint(self) -> dict:
        """The options as plain data, for the workspace key."""
        return asdict(self)


def transcribe_samples(
    samples: np.ndarray, engine: Engine, options: TranscribeOptions
) -> tuple[list[Transmission], list[Segment]]:
    """Split samples into transmissions and transcribe them.

    Args:
        samples: float32 mono audio at ``audio.SAMPLE_RATE``.
        engine: A loaded engine.
        options: Transcription options.

    Returns:
        The transmissions and the segments, segment ids counted from 0, times absolute.
    """
    transmissions = audio.find_transmissions(samples, options.segment)
    max_window = options.max_window_s if options.pack else 0.0
    windows = audio.pack_windows(transmissions, max_window_s=max_window)
    segments: list[Segment] = []
    size = max(1, options.decode.batch_size)
    for first in range(0, len(windows), size):
        batch = windows[first:first + size]
        decoded = _transcribe_windows(engine, [audio.window_audio(samples, w) for w in batch],
                                      options.decode)
        for window, window_segments in zip(batch, decoded, strict=True):
            for seg in window_segments:
                segments.extend(_unpack(seg, window))
    segments.sort(key=lambda s: s.start)
    for n, seg in enumerate(segments):
        seg.segment_id = n
    return transmissions, segments


def _transcribe_windows(engine: Engine, audios: list[np.ndarray], decode) -> list[list[Segment]]:
    """One list of window-relative segments per window, batched where the engine can."""
    batched = getattr(engine, "transcribe_batch", None)
    if batched is not None:
        return batched(audios, decode)
    return [engine.transcribe(a, decode) for a in audios]


def _unpack(seg: Segment, window: audio.Window) -> list[Segment]:
    """Map a window-relative segment to absolute times, one segment per transmission."""
    by_transmission: dict[int, list[Word]] = {}
    for w in seg.words:
        tid, start, end = window.span_to_absolute(w.start, w.end)
        by_transmission.setdefault(tid, []).append(Word(start, end, w.word, w.probability))
    if not by_transmission:  # a segment without words: keep its span, mapped by its midpoint
        tid, start, end = window.span_to_absolute(seg.start, seg.end)
        return [_piece(seg, tid, start, end, [], seg.text.strip())]
    pieces = []
    for tid, words in by_transmission.items():
        text = "".join(w.word if w.word.startswith(" ") else " " + w.word for w in words).strip()
        pieces.append(_piece(seg, tid, words[0].start, words[-1].end, words, text))
    return pieces


def _piece(seg: Segment, tid: int, start: float, end: float, words: list[Word], text: str):
    return Segment(
        segment_id=-1,
        start=start,
        end=end,
        text=text,
        words=[Word(w.start, w.end, w.word.strip(), w.probability) for w in words],
        avg_logprob=seg.avg_logprob,
        no_speech_prob=seg.no_speech_prob,
        compression_ratio=seg.compression_ratio,
        transmission_id=tid,
    )


def transcribe_file(
    recording: str, samples: np.ndarray, sha256: str, engine: Engine, options: TranscribeOptions
) -> Transcript:
    """Transcribe one decoded recording into a ``Transcript``.

    Args:
        recording: The path as the user gave it.
        samples: The decoded audio (``audio.load_audio``).
        sha256: The file's content hash.
        engine: A loaded engine.
        options: Transcription options.
    """
    transmissions, segments = transcribe_samples(samples, engine, options)
    log.info("%s: %d transmissions, %d segments", recording, len(transmissions), len(segments))
    return Transcript(
        recording=recording,
        sha256=sha256,
        duration=len(samples) / audio.SAMPLE_RATE,
        model=options.model,
        engine=options.engine,
        segments=segments,
        transmissions=transmissions,
    )
