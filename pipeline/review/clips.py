"""Audio for review: clips cut on demand, and the peaks the page draws.

A recording is decoded once with :func:`pipeline.audio.load_audio` and kept as
16-bit samples in a cache file beside the workspace (``review-cache/``), read back
as a memory map: a clip of a 10-hour batch is then a slice, served in milliseconds,
and no page ever loads a whole recording. The cache is keyed by the recording's
SHA-256; a file whose size or time changed is hashed again, and one whose bytes no
longer match the workspace is refused.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import wave
from pathlib import Path

import numpy as np

from pipeline.audio import SAMPLE_RATE, AudioError, cut, load_audio
from pipeline.errors import DispatchError
from pipeline.review.results import Recording
from pipeline.workspace import file_sha256

log = logging.getLogger(__name__)

CACHE_DIR = "review-cache"
"""Folder of decoded audio inside the results folder."""

PEAKS = 800
"""Columns of the waveform drawn for a clip."""


class ClipError(DispatchError):
    """A clip that cannot be served: the recording is missing, moved or changed."""


class AudioCache:
    """Decoded recordings as int16 memory maps, decoded at most once.

    Args:
        directory: Where the decoded audio is kept.
    """

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self._maps: dict[str, np.ndarray] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def samples(self, rec: Recording) -> np.ndarray:
        """The recording's samples at ``SAMPLE_RATE``, int16.

        Raises:
            ClipError: The file is missing, changed since it was transcribed, or undecodable.
        """
        if rec.sha256 in self._maps:
            return self._maps[rec.sha256]
        with self._guard:
            lock = self._locks.setdefault(rec.sha256, threading.Lock())
        with lock:
            if rec.sha256 not in self._maps:
                self._maps[rec.sha256] = self._load(rec)
        return self._maps[rec.sha256]

    def _load(self, rec: Recording) -> np.ndarray:
        if rec.path is None:
            raise ClipError(rec.problem or f"{rec.recording} cannot be found")
        pcm = self.directory / f"{rec.sha256}.pcm"
        meta = self.directory / f"{rec.sha256}.json"
        stat = rec.path.stat()
        stamp = {"path": str(rec.path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        if not (pcm.is_file() and meta.is_file() and _read_json(meta) == stamp):
            self._decode(rec, pcm)
            meta.write_text(json.dumps(stamp))
        return np.memmap(pcm, dtype=np.int16, mode="r")

    def _decode(self, rec: Recording, pcm: Path) -> None:
        if file_sha256(rec.path) != rec.sha256:
            raise ClipError(f"{rec.path} is not the recording verify checked (its SHA-256 differs):"
                            " it was changed or replaced")
        try:
            samples = load_audio(rec.path)
        except AudioError as e:
            raise ClipError(str(e)) from e
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = pcm.with_suffix(".part")
        to_int16(samples).tofile(tmp)
        tmp.replace(pcm)
        log.info("decoded %s into the review cache", rec.recording)

    def warm(self, recordings: list[Recording]) -> threading.Thread:
        """Decode recordings in the background, in the order given."""
        def run():
            for rec in recordings:
                try:
                    self.samples(rec)
                except ClipError as e:
                    log.warning("%s", e)

        thread = threading.Thread(target=run, name="review-audio", daemon=True)
        thread.start()
        return thread


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] as int16, rounded and clipped."""
    scaled = np.round(np.asarray(samples, dtype=np.float32) * np.float32(32767.0))
    return np.clip(scaled, -32768, 32767).astype(np.int16)


def clip_samples(samples: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    """The int16 samples between two times (clamped to the recording)."""
    return np.asarray(cut(samples, start_s, end_s, SAMPLE_RATE))


def wav_bytes(samples: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """16-bit mono PCM WAV of int16 samples."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
    return buf.getvalue()


def downsample(samples: np.ndarray, rate: int) -> np.ndarray:
    """int16 samples at ``SAMPLE_RATE`` resampled to ``rate`` (anti-aliased)."""
    if rate == SAMPLE_RATE:
        return samples
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(rate, SAMPLE_RATE)
    out = resample_poly(np.asarray(samples, dtype=np.float32) / 32767.0, rate // g, SAMPLE_RATE // g)
    return to_int16(out)


def peaks(samples: np.ndarray, columns: int = PEAKS) -> list[float]:
    """The loudest absolute sample of each column, in [0, 1], rounded to 3 places."""
    if len(samples) == 0:
        return []
    columns = max(1, min(columns, len(samples)))
    edges = np.linspace(0, len(samples), columns + 1).astype(np.int64)
    mags = np.abs(np.asarray(samples, dtype=np.int32))
    out = np.maximum.reduceat(mags, edges[:-1]) / 32768.0
    return [round(float(v), 3) for v in out]
