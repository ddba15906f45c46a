"""One recording in, one ``Transcript`` out.

The recording is split into transmissions (``audio.find_transmissions``); the
transmissions are packed into windows of up to 30 s with short gaps between them
(``audio.pack_windows``), so Whisper's fixed 30 s input is filled with speech
instead of padding; the windows go to the engine ``decode.batch_size`` at a time
(``Engine.transcribe_batch``: one batched model call on faster-whisper), their
audio built only for the batch in hand, and every word is mapped back to its
absolute time in the recording. A Whisper segment that spans
two packed transmissions is split at the transmission boundary, so every
``Segment`` belongs to exactly one transmission. A transmission a packed window
gives no words (Whisper stops early after a change of voice or channel, or a guard
drops the segment holding it) is decoded again alone (``decode_windows``).

Nothing here decodes files twice or loads models: the caller passes samples and
an engine.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace

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
    gap_s: float = 0.5
    """Silence in seconds between two packed transmissions (shorter made Whisper stop
    early in more windows: 0.3 s missed 28 transmissions of 119 on the bench, 0.5 s 16)."""
    lookahead: int = 1
    """How many of the next transmissions may fill the end of a packed window
    (``audio.pack_windows``); 1 packs strictly consecutive transmissions. On the bench
    5 packed 19 windows instead of 20, but Whisper then missed 27 transmissions instead
    of 16 (a short one pulled to a window's end is the one it skips): more windows in all."""

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
    windows = plan_windows(transmissions, options)
    segments = decode_windows(samples, windows, engine, options.decode)
    segments.sort(key=lambda s: s.start)
    for n, seg in enumerate(segments):
        seg.segment_id = n
    return transmissions, segments


def plan_windows(transmissions: list[Transmission], options: TranscribeOptions) -> list[audio.Window]:
    """The windows ``transcribe_samples`` decodes first: packed, or one per transmission."""
    if not options.pack:
        return audio.pack_windows(transmissions, max_window_s=0.0)
    return audio.pack_windows(transmissions, options.max_window_s, options.gap_s, options.lookahead)


def decode_windows(samples: np.ndarray, windows: list[audio.Window], engine: Engine,
                   decode: DecodeOptions) -> list[Segment]:
    """Transcribe windows into segments with absolute times, one transmission each.

    Packed windows go first, ``decode.batch_size`` at a time, with timestamp tokens
    and without the temperature fallback. Whisper often ends a packed window early
    (after a change of voice or channel it takes the rest for silence) or a guard
    drops a segment; a transmission left without words, or the one the decoding
    stopped inside of, is then decoded alone, at the first temperature: on the
    bench the fallback on these cost 15 s of 55 and changed no word error (0.486
    with it, 0.485 without; what it retries is hard audio that comes back as other
    wrong words). Windows of one transmission (``--no-pack``, or longer than a
    window) are decoded alone with the fallback. The extra windows are logged.
    """
    size = max(1, decode.batch_size)
    packed = [w for w in windows if len(w.placements) > 1]
    missed: list[audio.Window] = []
    segments: list[Segment] = []
    for first in range(0, len(packed), size):
        batch = packed[first:first + size]
        decoded = _transcribe_windows(engine, samples, batch, decode, packed=True)
        for window, window_segments in zip(batch, decoded, strict=True):
            again = _missed(window, window_segments or [])
            segments += [p for seg in window_segments or [] for p in _unpack(seg, window)
                         if p.transmission_id not in again]
            missed += [_alone(window.placements[n]) for n in again.values()]
    single = [w for w in windows if len(w.placements) == 1]
    log.info("%d windows packed, then %d decoded alone (%d transmissions the packed missed)",
             len(packed), len(single) + len(missed), len(missed))
    segments += _decode_alone(engine, samples, single, decode)
    segments += _decode_alone(engine, samples, missed, replace(decode, temperature=decode.temperature[:1]))
    return segments


def _decode_alone(engine: Engine, samples: np.ndarray, windows: list[audio.Window],
                  decode: DecodeOptions) -> list[Segment]:
    """Segments of windows holding one transmission each, in time order, batched."""
    windows = sorted(windows, key=lambda w: w.start)
    size = max(1, decode.batch_size)
    segments: list[Segment] = []
    for first in range(0, len(windows), size):
        batch = windows[first:first + size]
        decoded = _transcribe_windows(engine, samples, batch, decode, packed=False)
        for window, window_segments in zip(batch, decoded, strict=True):
            segments += [p for seg in window_segments for p in _unpack(seg, window)]
    return segments


STOPPED_S = 1.0
"""A packed window's decoding counts as stopped inside a transmission when its last word
ends more than this before the transmission does."""


def _missed(window: audio.Window, segments: list[Segment]) -> dict[int, int]:
    """Transmissions of a decoded packed window to decode again alone, index -> placement.

    Those that got no words, and the one the decoding stopped inside of, if any
    (segments stand in for words when there are no word times).
    """
    spans = [w for seg in segments for w in seg.words] or segments
    stop = max((x.end for x in spans), default=0.0)
    got = {window.placement_at((x.start + x.end) / 2).index for x in spans}
    return {p.index: n for n, p in enumerate(window.placements)
            if p.index not in got or p.offset < stop < p.end_offset - STOPPED_S}


def _alone(placement: audio.Placement) -> audio.Window:
    """A window holding one transmission."""
    return audio.Window([audio.Placement(placement.index, placement.transmission, 0.0)])


def _transcribe_windows(engine: Engine, samples: np.ndarray, windows: list[audio.Window],
                        decode: DecodeOptions, packed: bool) -> list[list[Segment] | None]:
    """Window-relative segments per window, batched where the engine can (the audio is
    built for these windows only). Packed: timestamp tokens, and None for a window that
    fails the thresholds; alone: one segment per window, temperature fallback."""
    audios = [audio.window_audio(samples, w) for w in windows]
    batched = getattr(engine, "transcribe_batch", None)
    if batched is not None:
        return batched(audios, decode, fallback=not packed, timestamps=packed)
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
