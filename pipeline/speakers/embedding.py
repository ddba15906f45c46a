"""Voice embeddings: ``resemblyzer`` vectors of short overlapping windows of speech.

Speech spans (transmissions or segments, found by the caller) are cut into windows of
``window_s`` every ``hop_s``; each window gets a 256-dimensional unit vector from the
resemblyzer encoder. Nothing here clusters or names: see :mod:`.diarize`.
"""

from __future__ import annotations

import functools
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.audio import SAMPLE_RATE
from pipeline.records import Transmission
from pipeline.speakers.options import FRAME_S, SpeakerOptions

EMBEDDING_DIM = 256
"""Length of one resemblyzer voice vector."""


@dataclass
class VoiceWindow:
    """One stretch of speech that got a voice embedding."""

    recording: int
    """Index of the recording in the batch."""
    span: int
    """Index of the span in its recording."""
    start: float
    """Start in seconds, absolute."""
    end: float
    """End in seconds, absolute."""


@dataclass
class Voices:
    """Voice embeddings of one recording's speech, before clustering."""

    spans: list[Transmission]
    """The stretches embedded, in time order."""
    windows: list[VoiceWindow]
    """One per embedding (``recording`` is 0 until a batch is clustered)."""
    embeddings: np.ndarray
    """(len(windows), 256) float32 unit vectors."""

    def to_bytes(self) -> bytes:
        """Serialise for the workspace."""
        buf = io.BytesIO()
        np.savez(buf, spans=np.array([(t.start, t.end) for t in self.spans]).reshape(-1, 2),
                 windows=np.array([(w.span, w.start, w.end) for w in self.windows]).reshape(-1, 3),
                 embeddings=self.embeddings)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Voices:
        """Read what :meth:`to_bytes` wrote."""
        z = np.load(io.BytesIO(data))
        return cls([Transmission(float(a), float(b)) for a, b in z["spans"]],
                   [VoiceWindow(0, int(n), float(a), float(b)) for n, a, b in z["windows"]],
                   z["embeddings"])


def encoder_id() -> str:
    """Which encoder makes the embeddings, for cache keys: ``resemblyzer-<version>``.

    The encoder's weights ship inside the resemblyzer wheel, so its version names them.
    """
    from importlib.metadata import version

    return f"resemblyzer-{version('resemblyzer')}"


def load_encoder(device: str = "cpu"):
    """Load the resemblyzer voice encoder.

    Args:
        device: torch device name.

    Returns:
        A ``resemblyzer.VoiceEncoder``; pass it to :func:`~.diarize.diarize` and friends.
    """
    from resemblyzer import VoiceEncoder

    return VoiceEncoder(device, verbose=False)


@functools.cache
def process_encoder():
    """The voice encoder of this process, loaded on first use and kept."""
    return load_encoder()


def mel_frames(samples: np.ndarray) -> np.ndarray:
    """Volume-normalised mel frames (n_frames, 40) of one stretch of samples."""
    from resemblyzer import audio

    wav = audio.normalize_volume(samples.astype(np.float32), -30, increase_only=True)
    return audio.wav_to_mel_spectrogram(wav)


def embed_mels(encoder, mels: list[np.ndarray]) -> np.ndarray:
    """Embed mel slices, batching those of equal length; rows keep the input order."""
    import torch

    out = np.zeros((len(mels), EMBEDDING_DIM), dtype=np.float32)
    by_len: dict[int, list[int]] = defaultdict(list)
    for i, m in enumerate(mels):
        by_len[len(m)].append(i)
    with torch.no_grad():
        for same_length in by_len.values():
            for k in range(0, len(same_length), EMBED_BATCH):
                idx = same_length[k:k + EMBED_BATCH]
                batch = torch.from_numpy(np.stack([mels[i] for i in idx]))
                out[idx] = encoder(batch.to(encoder.device)).cpu().numpy()
    return out


EMBED_BATCH = 128
"""Most windows embedded in one call: the encoder's memory grows with the batch, and a
long recording has thousands of windows."""


def window_bounds(start: float, end: float, options: SpeakerOptions) -> list[tuple[float, float]]:
    """Windows of ``window_s`` every ``hop_s`` covering [start, end]; one if shorter."""
    if end - start <= options.window_s:
        return [(start, end)]
    n = int(np.ceil((end - start - options.window_s) / options.hop_s)) + 1
    firsts = np.minimum(start + np.arange(n) * options.hop_s, end - options.window_s)
    return [(float(a), float(a) + options.window_s) for a in firsts]


def embed_windows(
    encoder,
    recordings: Sequence[np.ndarray],
    spans: Sequence[Sequence[Transmission]],
    options: SpeakerOptions,
) -> tuple[list[VoiceWindow], np.ndarray]:
    """Embed every window of every span of every recording.

    Args:
        encoder: from :func:`load_encoder`.
        recordings: 16 kHz mono float32 samples per recording.
        spans: the stretches to embed per recording, absolute seconds.
        options: window length, hop and the shortest span embedded.

    Returns:
        The windows (recording by recording, span by span, in time order) and their
        (n, 256) embeddings.
    """
    windows: list[VoiceWindow] = []
    mels: list[np.ndarray] = []
    for r, (samples, rec_spans) in enumerate(zip(recordings, spans, strict=True)):
        for s, span in enumerate(rec_spans):
            if span.end - span.start < options.min_span_s:
                continue
            a, b = int(span.start * SAMPLE_RATE), int(span.end * SAMPLE_RATE)
            mel = mel_frames(samples[max(a, 0) : b])
            for w0, w1 in window_bounds(span.start, span.end, options):
                f0 = int(round((w0 - span.start) / FRAME_S))
                f1 = min(len(mel), f0 + max(1, int(round((w1 - w0) / FRAME_S))))
                windows.append(VoiceWindow(r, s, w0, w1))
                mels.append(mel[f0:f1])
    if not windows:
        return [], np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    return windows, embed_mels(encoder, mels)


def split_voices(
    spans: Sequence[Sequence[Transmission]], windows: Sequence[VoiceWindow], emb: np.ndarray
) -> list[Voices]:
    """What :func:`embed_windows` returned for several recordings, as one ``Voices`` each."""
    out = []
    for r, rec_spans in enumerate(spans):
        picks = [i for i, w in enumerate(windows) if w.recording == r]
        out.append(Voices(list(rec_spans), [windows[i] for i in picks], emb[picks]))
    return out


def embed_spans(encoder, samples: np.ndarray, spans: Sequence[Transmission]) -> np.ndarray:
    """One voice embedding per span (the mean of its windows, L2-normalised).

    Args:
        encoder: from :func:`load_encoder`.
        samples: 16 kHz mono float32 samples of the recording.
        spans: stretches to embed, absolute seconds.

    Returns:
        Array (len(spans), 256) of unit vectors.
    """
    windows, emb = embed_windows(encoder, [samples], [list(spans)], SpeakerOptions())
    out = np.zeros((len(spans), emb.shape[1] if len(emb) else EMBEDDING_DIM), dtype=np.float32)
    for w, e in zip(windows, emb, strict=True):
        out[w.span] += e
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms > 0, norms, 1)
