"""Decode recordings and split them into transmissions.

This stage turns a file into samples and samples into ``Transmission`` records:

* **Decoding** goes through PyAV, which bundles FFmpeg's libraries, so every
  common format (wav, mp3, m4a/aac, flac, ogg, opus, 8 kHz telephone audio,
  stereo) decodes in process without a system ``ffmpeg`` binary.
  ``load_audio`` gives float32 mono at 16 kHz. A file that cannot be decoded
  raises ``AudioError`` naming the file and the reason.
* **Segmentation** keeps the semantics of ``pydub.silence.detect_nonsilent``
  (a silence is a window of ``min_silence_len`` ms whose RMS is at or below a
  threshold) but computes every window's RMS at once from a cumulative sum of
  squared samples, instead of re-slicing the audio at every millisecond.
  ``find_transmissions`` sets the threshold relative to the recording's own
  speech loudness, drops squelch tails and clicks, and pads what it keeps.
* **Cutting**: ``cut`` gives the samples between two times.

pydub is kept for two things only. Its ``detect_nonsilent`` defines what a
silence is, and the tests and ``bench/bench_segment.py`` hold the vectorised one
to it on the same audio; and its ``AudioSegment`` is the audio type accepted at
the segmentation edge (``detect_nonsilent``, ``find_transmissions``,
``frame_levels``, ``silence_threshold`` take one as well as samples;
``array_to_segment`` builds one). pydub never decodes: that would need an
ffmpeg binary.

It does not pack transmissions into windows (``packing`` does), it does not
transcribe, and it does not know about models.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.records import Transmission

if TYPE_CHECKING:  # pragma: no cover
    from pydub import AudioSegment

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
"""Sample rate in Hz of the arrays this package works on (Whisper's input rate)."""

_CHUNK_FRAMES = 1 << 20
"""Frames squared and summed at a time, to bound memory on long recordings."""


class AudioError(Exception):
    """A recording that cannot be decoded; the message names the file and the reason."""

    def __init__(self, path: str | Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        """The file as given."""
        self.reason = reason
        """Why it failed, e.g. ``not an audio file`` or ``empty (no audio samples)``."""


# --------------------------------------------------------------------------- decoding


def _pydub():
    """Import pydub without its warning about a missing ffmpeg binary (it never decodes here)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Couldn't find ffmpeg", category=RuntimeWarning)
        import pydub

    return pydub


def _looks_like_text(head: bytes) -> bool:
    """True when the first bytes of a file are plain text (a transcript, a web page)."""
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_MAGIC = {
    b"RIFF": "WAV",
    b"ID3": "MP3",
    b"fLaC": "FLAC",
    b"OggS": "Ogg",
    b"FORM": "AIFF",
    b"\x1aE\xdf\xa3": "Matroska/WebM",
    b"#!AMR": "AMR",
    b"caff": "CAF",
}
"""Leading bytes of common audio containers, to tell a damaged file from a non-audio one."""


def _unreadable_reason(head: bytes, ffmpeg_message: str) -> str:
    """Why FFmpeg could not open a file, judged from its first bytes."""
    kind = next((name for magic, name in _MAGIC.items() if head.startswith(magic)), None)
    if kind is None and head[4:8] == b"ftyp":
        kind = "MP4/M4A"
    if kind is None and len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        kind = "MPEG audio"
    if kind:
        return f"corrupt or truncated ({kind} header, but FFmpeg says: {ffmpeg_message})"
    if _looks_like_text(head):
        return "not an audio file (it holds text)"
    return f"not an audio file (FFmpeg says: {ffmpeg_message})"


def _open_container(path: str | Path):
    """Open a file with PyAV, turning every failure into an ``AudioError``."""
    import av

    p = Path(path)
    if not p.exists():
        raise AudioError(path, "no such file")
    if not p.is_file():
        raise AudioError(path, "not a file")
    if p.stat().st_size == 0:
        raise AudioError(path, "empty file (0 bytes)")
    try:
        container = av.open(str(p), mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as e:
        with open(p, "rb") as f:
            head = f.read(512)
        raise AudioError(path, _unreadable_reason(head, e.strerror)) from e
    if not container.streams.audio:
        container.close()
        raise AudioError(path, "not an audio file (no audio stream)")
    return container


def _decode(path: str | Path, fmt: str, layout: str | None, rate: int | None):
    """Decode a file's first audio stream, resampled as asked.

    Args:
        path: The file.
        fmt: PyAV sample format of the output, packed (``s16`` or ``flt``).
        layout: Channel layout of the output; None keeps the stream's.
        rate: Sample rate of the output; None keeps the stream's.

    Returns:
        The interleaved samples (1-D), the output rate and the number of channels.

    Raises:
        AudioError: The file cannot be opened or holds no decodable samples.
    """
    import av

    with _open_container(path) as container:
        stream = container.streams.audio[0]
        layout = layout or stream.layout.name
        rate = rate or stream.rate
        if not rate:
            raise AudioError(path, "corrupt or truncated (no sample rate)")
        resampler = av.AudioResampler(format=fmt, layout=layout, rate=rate)
        samples, bad = _decode_stream(container, stream, resampler)
        channels = len(av.AudioLayout(layout).channels)
    if samples.size == 0:
        reason = "corrupt or truncated (nothing decodable)" if bad else "empty (no audio samples)"
        raise AudioError(path, reason)
    if bad:
        log.warning("%s: skipped %d undecodable packets (corrupt or truncated)", path, bad)
    return samples, rate, channels


def _decode_stream(container, stream, resampler) -> tuple[np.ndarray, int]:
    """Decode and resample every packet, skipping the bad ones; returns the samples and
    the count of bad packets."""
    import av

    blocks = _Blocks()
    bad = 0
    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                bad += 1
                continue
            for frame in frames:
                frame.pts = None
                blocks.extend(f.to_ndarray().ravel() for f in resampler.resample(frame))
    except av.error.FFmpegError as e:  # the container itself breaks off: truncated
        log.debug("demuxing stopped: %s", e)
        bad += 1
    blocks.extend(f.to_ndarray().ravel() for f in resampler.resample(None))
    return blocks.joined(), bad


class _Blocks:
    """Decoded frames gathered into large blocks as they come.

    A decoder's frames are small arrays that the C allocator keeps in its heap even once
    freed; gathering them into blocks of ``_BLOCK`` samples (each its own mapping, handed
    back to the system when freed) lets :meth:`joined` build the whole recording while
    holding little more than one copy of it.
    """

    def __init__(self):
        self.blocks: list[np.ndarray] = []
        self._pending: list[np.ndarray] = []
        self._size = 0

    def extend(self, chunks) -> None:
        for chunk in chunks:
            self._pending.append(chunk)
            self._size += len(chunk)
            if self._size >= _BLOCK:
                self._flush()

    def _flush(self) -> None:
        if self._pending:
            self.blocks.append(np.concatenate(self._pending))
            self._pending, self._size = [], 0

    def joined(self) -> np.ndarray:
        """All the samples as one array, each block freed once copied, so that joining
        needs little more memory than the audio itself (``np.concatenate`` would hold it
        twice)."""
        self._flush()
        if not self.blocks:
            return np.zeros(0, np.float32)
        out = np.empty(sum(len(b) for b in self.blocks), dtype=self.blocks[0].dtype)
        at = 0
        while self.blocks:
            block = self.blocks.pop(0)
            out[at:at + len(block)] = block
            at += len(block)
        return out


_BLOCK = 1 << 21
"""Samples per block of decoded audio (8 MB of float32)."""


def load_audio(path: str | Path, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Decode a file to float32 mono samples in [-1, 1], resampled to ``sr``.

    Args:
        path: Any format FFmpeg reads (wav, mp3, m4a, flac, ogg, opus, ...).
        sr: Output sample rate in Hz.

    Returns:
        A 1-D float32 array.

    Raises:
        AudioError: Not audio, corrupt, truncated beyond use, or empty.
    """
    samples, _, channels = _decode(path, "flt", None, sr)
    if channels > 1:  # average, as FFmpeg's downmix would scale stereo up by 3 dB
        samples = samples.reshape(-1, channels).mean(axis=1)
    samples = samples.astype(np.float32, copy=False)
    return np.clip(samples, -1.0, 1.0, out=samples)


SHORTFALL_S = 1.0
"""Decoded audio this much shorter than the header states (and ``SHORTFALL_SHARE`` of it)
is flagged as truncated: more than an encoder's padding and priming, which are a few
tens of milliseconds."""
SHORTFALL_SHARE = 0.02
"""The share of the stated length that must be missing too, so that a long recording's
rounding in its header is not taken for damage."""


def decode_warnings(path: str | Path, n_samples: int, sr: int = SAMPLE_RATE) -> list[str]:
    """What is wrong with a file that decoded: its samples fall short of the duration its
    header states (a truncated download or copy).

    Args:
        path: The file, already decoded.
        n_samples: How many samples its decoding gave at ``sr``.
        sr: Their rate.

    Returns:
        Sentences a person can act on; empty when the file looks whole or states no length.
    """
    with _open_container(path) as container:
        stated = _wav_header_seconds(path) or _stated_seconds(container)
    decoded = n_samples / sr
    missing = (stated or 0.0) - decoded
    if missing > SHORTFALL_S and missing > SHORTFALL_SHARE * stated:
        return [f"truncated: decoded {decoded:.1f} s of the {stated:.1f} s its header states; "
                "the transcript covers only what could be decoded"]
    return []


def _wav_header_seconds(path: str | Path) -> float | None:
    """The length a WAV file's header states (FFmpeg reports what the file holds instead)."""
    import wave

    try:
        with wave.open(str(path), "rb") as w:
            return w.getnframes() / w.getframerate()
    except (wave.Error, EOFError, OSError, ZeroDivisionError):
        return None


def _stated_seconds(container) -> float | None:
    """The duration a container's header states, in seconds, if it states one (an MP3's
    Xing or VBRI header does; a constant-bit-rate MP3 without one is estimated from its
    size, so its truncation cannot be seen)."""
    stream = container.streams.audio[0]
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def _segment_frames(seg: AudioSegment) -> np.ndarray:
    """The samples of an ``AudioSegment`` as an integer array of shape (frames, channels)."""
    dtype = {1: np.int8, 2: np.int16, 4: np.int32}[seg.sample_width]
    return np.frombuffer(seg.raw_data, dtype=dtype).reshape(-1, seg.channels)


def array_to_segment(samples: np.ndarray, sr: int = SAMPLE_RATE) -> AudioSegment:
    """Convert float mono samples in [-1, 1] to a 16-bit mono ``AudioSegment``.

    Args:
        samples: 1-D float array; values outside [-1, 1] are clipped.
        sr: Its sample rate in Hz.

    Returns:
        The audio as an ``AudioSegment``.
    """
    return _pydub().AudioSegment(
        data=_to_int16(samples).tobytes(), sample_width=2, frame_rate=sr, channels=1
    )


def write_wav(path: str | Path, samples: np.ndarray, sr: int = SAMPLE_RATE) -> Path:
    """Write mono samples as a 16-bit WAV file (the folder is made if missing).

    Args:
        path: The file to write.
        samples: int16 samples as they are, or float samples in [-1, 1] (clipped, scaled by
            32767 and truncated toward zero).
        sr: Their rate in Hz.

    Returns:
        The path written.
    """
    import wave

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if samples.dtype != np.int16:
        samples = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(samples.astype("<i2").tobytes())
    return path


def _to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] to int16, rounded and clipped."""
    scaled = np.round(np.asarray(samples, dtype=np.float32) * np.float32(32768.0))
    return np.clip(scaled, -32768, 32767).astype(np.int16)


def cut(samples: np.ndarray, start_s: float, end_s: float, sr: int = SAMPLE_RATE) -> np.ndarray:
    """The samples between two times, clamped to the recording (a view, not a copy).

    Args:
        samples: 1-D samples.
        start_s: Start in seconds.
        end_s: End in seconds.
        sr: Sample rate in Hz.

    Returns:
        ``samples[start:end]``; empty when the span lies outside the recording.

    Raises:
        ValueError: ``end_s`` is before ``start_s``.
    """
    if end_s < start_s:
        raise ValueError(f"cut ends ({end_s}) before it starts ({start_s})")
    n = len(samples)
    start = min(max(int(round(start_s * sr)), 0), n)
    end = min(max(int(round(end_s * sr)), start), n)
    return samples[start:end]


# --------------------------------------------------------------------------- silence detection


@dataclass
class _Signal:
    """Integer samples plus what pydub's millisecond arithmetic needs."""

    frames: np.ndarray
    """Samples, shape (frames, channels): integers, or floats on the 16-bit scale."""
    frame_rate: int
    """Frames per second."""
    sample_width: int
    """Bytes per sample (1, 2 or 4)."""
    length_ms: int
    """Length in milliseconds, rounded as ``len(AudioSegment)`` rounds it."""
    scale: float = 1.0
    """What ``frames`` are multiplied by to be on their sample width's scale (float
    samples in [-1, 1] are scaled a chunk at a time, never copied whole)."""

    @classmethod
    def from_segment(cls, seg: AudioSegment) -> _Signal:
        return cls(_segment_frames(seg), seg.frame_rate, seg.sample_width, len(seg))

    @classmethod
    def from_array(cls, samples: np.ndarray, sr: int) -> _Signal:
        frames = np.asarray(samples, dtype=np.float32).reshape(-1, 1)
        return cls(frames, sr, 2, round(1000 * len(frames) / sr), scale=32768.0)

    @property
    def max_amplitude(self) -> float:
        """Largest possible amplitude, as pydub's ``max_possible_amplitude``."""
        return 2 ** (self.sample_width * 8) / 2


def _ms_to_frame(ms: np.ndarray, frame_rate: int) -> np.ndarray:
    """Frame index of each millisecond position, as pydub computes it."""
    return (ms * (frame_rate / 1000.0)).astype(np.int64)


def _cumulative_energy(sig: _Signal) -> np.ndarray:
    """Sum of squared samples from the start up to each millisecond boundary.

    Element ``j`` is the energy of frames ``[0, int(j * rate / 1000))``, for
    ``j`` in ``0 .. length_ms + 2`` (positions past the end clamp to the end,
    as pydub pads a short slice with silence). Squares are summed per
    millisecond, a chunk at a time, so a long recording never needs a second
    full-size array.
    """
    n = len(sig.frames)
    bounds = np.minimum(_ms_to_frame(np.arange(sig.length_ms + 3), sig.frame_rate), n)
    starts, stops = bounds[:-1], bounds[1:]
    # int64 sums of 8- and 16-bit integer squares are exact and cannot overflow
    exact = sig.frames.dtype.kind == "i" and sig.sample_width <= 2
    per_ms = np.zeros(len(starts), dtype=np.int64 if exact else np.float64)
    blocks = np.flatnonzero(stops > starts)  # contiguous: empty blocks have no width
    step = max(_CHUNK_FRAMES * 1000 // max(sig.frame_rate, 1), 1)
    for k in range(0, len(blocks), step):
        idx = blocks[k : k + step]
        f0, f1 = starts[idx[0]], stops[idx[-1]]
        squares = _squares(sig.frames[f0:f1], exact, sig.scale)
        per_ms[idx] = np.add.reduceat(squares, starts[idx] - f0, dtype=per_ms.dtype)
    return np.concatenate(([0], np.cumsum(per_ms)))


def _squares(frames: np.ndarray, exact: bool, scale: float = 1.0) -> np.ndarray:
    """Squared samples of each frame (times ``scale``), summed over channels."""
    if frames.shape[1] == 1:
        x = frames[:, 0].astype(np.int32 if exact else np.float64)
    else:
        x = frames.astype(np.int64 if exact else np.float64)
    if scale != 1.0:
        x *= scale
    squares = x * x
    return squares if squares.ndim == 1 else squares.sum(axis=1)


def _window_starts(length_ms: int, window_ms: int, seek_step: int) -> np.ndarray:
    """Start (ms) of every window pydub tests, the last one always included."""
    last = length_ms - window_ms
    starts = np.arange(0, last + 1, seek_step, dtype=np.int64)
    if last % seek_step:
        starts = np.append(starts, last)
    return starts


def _window_rms(sig: _Signal, cum: np.ndarray, starts: np.ndarray, window_ms: int) -> np.ndarray:
    """RMS of each window ``[start, start + window_ms)``, in sample units."""
    ends = starts + window_ms
    n_frames = _ms_to_frame(ends, sig.frame_rate) - _ms_to_frame(starts, sig.frame_rate)
    energy = (cum[ends] - cum[starts]).astype(np.float64)
    count = np.maximum(n_frames * sig.frames.shape[1], 1)
    return np.sqrt(energy / count)


def _window_is_silent(sig, cum, starts, window_ms, thresh, truncate) -> np.ndarray:
    """Whether each window's RMS is at or below ``thresh``, without square roots.

    With ``truncate`` the RMS is an integer, as audioop (and so pydub) computes
    it: ``floor(sqrt(E / n)) <= T`` is ``E < (floor(T) + 1) ** 2 * n``.
    Without it, ``sqrt(E / n) <= T`` is ``E <= T ** 2 * n``, which scales
    exactly with the recording's gain.
    """
    ends = starts + window_ms
    n_frames = _ms_to_frame(ends, sig.frame_rate) - _ms_to_frame(starts, sig.frame_rate)
    count = np.maximum(n_frames * sig.frames.shape[1], 1)
    energy = cum[ends] - cum[starts]
    if truncate:
        return energy < float(math.floor(thresh) + 1) ** 2 * count
    return energy <= thresh**2 * count


def _silent_ranges(
    sig: _Signal,
    cum: np.ndarray,
    min_silence_len: int,
    thresh_db: float,
    seek_step: int,
    truncate: bool = True,
) -> list[list[int]]:
    """``pydub.silence.detect_silence`` on a signal, vectorised: list of [start, end] ms.

    ``cum`` is the signal's ``_cumulative_energy``; ``truncate`` as in ``_window_is_silent``.
    """
    if sig.length_ms < min_silence_len:
        return []
    thresh = 10 ** (thresh_db / 20) * sig.max_amplitude  # pydub's db_to_float * max amplitude
    starts = _window_starts(sig.length_ms, min_silence_len, seek_step)
    silent = starts[_window_is_silent(sig, cum, starts, min_silence_len, thresh, truncate)]
    if silent.size == 0:
        return []
    step = np.diff(silent)
    breaks = np.flatnonzero((step != seek_step) & (step > min_silence_len))
    firsts = np.concatenate(([0], breaks + 1))
    lasts = np.concatenate((breaks, [silent.size - 1]))
    return [
        [int(silent[a]), int(silent[b]) + min_silence_len]
        for a, b in zip(firsts, lasts, strict=True)
    ]


def _invert(silent: list[list[int]], length_ms: int) -> list[list[int]]:
    """Nonsilent ranges between silent ones, exactly as pydub's ``detect_nonsilent`` does."""
    if not silent:
        return [[0, length_ms]]
    if silent[0][0] == 0 and silent[0][1] == length_ms:
        return []
    ranges, prev_end = [], 0
    for start, end in silent:
        ranges.append([prev_end, start])
        prev_end = end
    if silent[-1][1] != length_ms:
        ranges.append([prev_end, length_ms])
    if ranges[0] == [0, 0]:
        ranges.pop(0)
    return ranges


def detect_nonsilent(
    seg: AudioSegment, min_silence_len: int = 1000, silence_thresh: float = -16, seek_step: int = 1
) -> list[list[int]]:
    """Nonsilent ranges of a recording: ``pydub.silence.detect_nonsilent``, vectorised.

    Same arguments and results as pydub's (a silence is a window of
    ``min_silence_len`` ms whose RMS is at or below ``silence_thresh`` dBFS,
    windows tried every ``seek_step`` ms), but each window's RMS comes from a
    cumulative sum of squares, so a 30-minute file takes a fraction of a
    second instead of minutes (pydub issue #595; ``bench/bench_segment.py``).

    Args:
        seg: The audio.
        min_silence_len: Shortest silence in ms that separates two ranges.
        silence_thresh: Silence threshold in dBFS.
        seek_step: Step between tested windows in ms.

    Returns:
        ``[start_ms, end_ms]`` pairs in time order.
    """
    sig = _Signal.from_segment(seg)
    cum = _cumulative_energy(sig)
    silent = _silent_ranges(sig, cum, min_silence_len, silence_thresh, seek_step)
    return _invert(silent, sig.length_ms)


# --------------------------------------------------------------------------- transmissions


@dataclass
class SegmentOptions:
    """How a recording is split into transmissions.

    The defaults were tuned on real air-to-ground radio (Apollo 11, 8 kHz,
    hiss between transmissions): every reference transmission start has a
    found start within 1.5 s for thresholds of 20-28 dB and minimum silences
    of 350-500 ms; long transmissions are sometimes split at pauses. Checked
    on a telephone call (98% of speech covered, a 0.5 s "Hello?" kept).
    """

    threshold_db: float = 26.0
    """Silence threshold in dB below the recording's speech loudness (not its peak)."""
    loudness_percentile: float = 95.0
    """Percentile of the active frames' levels taken as the speech loudness."""
    floor_percentile: float = 10.0
    """Percentile of all frame levels taken as the noise floor (hiss, squelch, silence)."""
    floor_margin_db: float = 6.0
    """The threshold never falls below the noise floor plus this margin; frames louder than
    floor plus twice the margin count as active when measuring speech loudness."""
    frame_ms: int = 50
    """Frame length in ms for measuring loudness and noise floor."""
    min_silence_ms: int = 450
    """Shortest silence in ms that ends a transmission; shorter gaps stay inside one."""
    seek_step_ms: int = 10
    """Step in ms between tested silence windows (boundaries are this precise)."""
    keep_silence_ms: int = 250
    """Padding in ms kept before and after each transmission (split evenly when two meet)."""
    min_transmission_ms: int = 200
    """Bursts shorter than this (squelch tails, clicks), before padding, are dropped."""


def frame_levels(sig_or_samples, frame_ms: int = 50, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Level of each frame in dBFS (digital silence reads -120).

    Args:
        sig_or_samples: An ``AudioSegment`` or float mono samples.
        frame_ms: Frame length in ms.
        sr: Sample rate of ``sig_or_samples`` when it is an array.

    Returns:
        One level per whole frame.
    """
    sig = _as_signal(sig_or_samples, sr)
    return _frame_levels(sig, _cumulative_energy(sig), frame_ms)


def _frame_levels(sig: _Signal, cum: np.ndarray, frame_ms: int) -> np.ndarray:
    starts = np.arange(0, sig.length_ms - frame_ms + 1, frame_ms, dtype=np.int64)
    rms = _window_rms(sig, cum, starts, frame_ms) / sig.max_amplitude
    return 20 * np.log10(np.maximum(rms, 1e-6))


def silence_threshold(
    sig_or_samples, options: SegmentOptions | None = None, sr: int = SAMPLE_RATE
) -> float:
    """The absolute silence threshold in dBFS that ``options`` gives for this recording.

    Speech loudness is a percentile of the active frames (frames clearly above
    the noise floor), so a recording that is mostly silence, like a scanner's,
    is measured by its speech and not by its silence.

    Args:
        sig_or_samples: An ``AudioSegment`` or float mono samples.
        options: Segmentation options.
        sr: Sample rate of ``sig_or_samples`` when it is an array.

    Returns:
        The threshold in dBFS (``-inf`` for digital silence).
    """
    options = options or SegmentOptions()
    levels = frame_levels(sig_or_samples, options.frame_ms, sr)
    return _threshold_from_levels(levels, options)


def _threshold_from_levels(levels: np.ndarray, options: SegmentOptions) -> float:
    if levels.size == 0:
        return -math.inf
    floor = float(np.percentile(levels, options.floor_percentile))
    active = levels[levels > floor + 2 * options.floor_margin_db]
    pool = active if active.size else levels
    loudness = float(np.percentile(pool, options.loudness_percentile))
    thresh = max(loudness - options.threshold_db, floor + options.floor_margin_db)
    log.debug("floor %.1f dBFS, speech %.1f dBFS, threshold %.1f dBFS", floor, loudness, thresh)
    return thresh


def _as_signal(sig_or_samples, sr: int) -> _Signal:
    if isinstance(sig_or_samples, np.ndarray):
        return _Signal.from_array(sig_or_samples, sr)
    return _Signal.from_segment(sig_or_samples)


def find_transmissions(
    seg_or_samples, options: SegmentOptions | None = None, sr: int = SAMPLE_RATE
) -> list[Transmission]:
    """Split a recording into transmissions: bursts of sound between silences.

    The silence threshold is relative to the recording's own speech loudness
    (``silence_threshold``); silences are found as ``detect_nonsilent`` finds
    them; bursts shorter than ``min_transmission_ms`` are dropped; the rest
    are padded by ``keep_silence_ms``.

    Args:
        seg_or_samples: An ``AudioSegment`` or float mono samples.
        options: Segmentation options.
        sr: Sample rate of ``seg_or_samples`` when it is an array.

    Returns:
        Transmissions in time order, seconds absolute in the recording, not overlapping.
    """
    options = options or SegmentOptions()
    sig = _as_signal(seg_or_samples, sr)
    cum = _cumulative_energy(sig)
    thresh = _threshold_from_levels(_frame_levels(sig, cum, options.frame_ms), options)
    if thresh == -math.inf:
        return []
    silent = _silent_ranges(
        sig, cum, options.min_silence_ms, thresh, options.seek_step_ms, truncate=False
    )
    bursts = [
        r for r in _invert(silent, sig.length_ms) if r[1] - r[0] >= options.min_transmission_ms
    ]
    padded = _pad(bursts, options.keep_silence_ms, sig.length_ms)
    return [Transmission(start / 1000.0, end / 1000.0, a / 1000.0, b / 1000.0)
            for (start, end), (a, b) in zip(padded, bursts)]


def _pad(ranges: list[list[int]], keep_ms: int, length_ms: int) -> list[list[int]]:
    """Widen each range by ``keep_ms``; where two would overlap, the gap is split evenly."""
    out = [[max(s - keep_ms, 0), min(e + keep_ms, length_ms)] for s, e in ranges]
    for i in range(1, len(out)):
        if out[i][0] < out[i - 1][1]:
            middle = (ranges[i - 1][1] + ranges[i][0]) // 2
            out[i - 1][1], out[i][0] = middle, middle
    return out
