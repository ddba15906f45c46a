"""Speaker turns from voices: embed, cluster, spread window labels over frames.

:func:`diarize_batch` embeds the speech of several recordings and clusters the windows
together (:func:`cluster_voices`, the same path a batch takes from voices stored in the
workspace), so the same voice in two recordings gets the same label. Window labels are
spread back over 10 ms frames, smoothed, and joined into :class:`~.turns.Turn` records;
turns can change inside a span, so short exchanges and overlapping talk that no
silence separates still get two labels.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from pipeline.records import Transmission
from pipeline.speakers.clustering import centroids, cluster
from pipeline.speakers.embedding import (
    Voices,
    VoiceWindow,
    embed_windows,
    load_encoder,
    split_voices,
)
from pipeline.speakers.options import FRAME_S, SpeakerOptions
from pipeline.speakers.turns import Turn, fill_unknown, join_turns

log = logging.getLogger(__name__)


def diarize(
    samples: np.ndarray,
    spans: Sequence[Transmission],
    options: SpeakerOptions | None = None,
    encoder=None,
) -> list[Turn]:
    """Speaker turns of one recording.

    Args:
        samples: 16 kHz mono float32 samples of the recording.
        spans: the speech to label (transmissions, or transcribed segments), absolute
            seconds. Silence outside them gets no turn.
        options: speaker options; defaults when None.
        encoder: from :func:`~.embedding.load_encoder`; loaded here when None.

    Returns:
        Turns in time order, labelled ``S0``, ``S1``... in order of first appearance.
    """
    return diarize_batch([("", samples, spans)], options, encoder)[""]


def diarize_batch(
    recordings: Sequence[tuple[str, np.ndarray, Sequence[Transmission]]],
    options: SpeakerOptions | None = None,
    encoder=None,
) -> dict[str, list[Turn]]:
    """Speaker turns of several recordings clustered together.

    The same voice in two recordings gets the same label, so a batch from one channel
    names its dispatcher once.

    Args:
        recordings: (recording id, samples, spans) per recording; see :func:`diarize`.
        options: speaker options; defaults when None.
        encoder: from :func:`~.embedding.load_encoder`; loaded here when None.

    Returns:
        Recording id -> turns in time order.
    """
    options = options or SpeakerOptions()
    encoder = encoder or load_encoder()
    spans = [sorted(r[2], key=lambda t: t.start) for r in recordings]
    windows, emb = embed_windows(encoder, [r[1] for r in recordings], spans, options)
    return cluster_voices([r[0] for r in recordings], split_voices(spans, windows, emb), options)


def cluster_voices(
    recordings: Sequence[str], voices: Sequence[Voices], options: SpeakerOptions
) -> dict[str, list[Turn]]:
    """Speaker turns of a batch from its recordings' voices, the same voice the same label.

    Args:
        recordings: Recording ids, one per ``voices``.
        voices: Each recording's embedded speech (spans in time order).
        options: clustering and turn options.

    Returns:
        Recording id -> turns in time order, labelled ``S0``, ``S1``...
    """
    if not voices:
        return {}
    windows = [replace(w, recording=r) for r, v in enumerate(voices) for w in v.windows]
    emb = np.concatenate([v.embeddings for v in voices])
    labels = cluster(emb, np.array([w.end - w.start for w in windows]), options)
    log.info("%d windows in %d recordings -> %d speakers", len(windows), len(recordings),
             len(set(labels.tolist())))
    out: dict[str, list[Turn]] = {}
    for r, (rec, v) in enumerate(zip(recordings, voices, strict=True)):
        picks = [i for i, w in enumerate(windows) if w.recording == r]
        out[rec] = _turns_of_recording(v.spans, [windows[i] for i in picks], emb[picks],
                                       labels, emb, options)
    return out


def _turns_of_recording(
    spans: Sequence[Transmission],
    windows: Sequence[VoiceWindow],
    emb: np.ndarray,
    labels: np.ndarray,
    all_emb: np.ndarray,
    options: SpeakerOptions,
) -> list[Turn]:
    """Spread window labels over the frames of each span and join them into turns."""
    ids, cents = centroids(all_emb, labels) if len(all_emb) else (np.zeros(0, int), None)
    by_span: dict[int, list[int]] = defaultdict(list)
    for i, w in enumerate(windows):
        by_span[w.span].append(i)
    turns: list[Turn] = []
    for s, span in enumerate(spans):
        if not by_span.get(s) or cents is None:
            turns.append(Turn(span.start, span.end, ""))
            continue
        picks = by_span[s]
        scores = emb[picks] @ cents.T
        span_windows = [windows[i] for i in picks]
        turns.extend(_span_turns(span, span_windows, scores, ids, options))
    fill_unknown(turns)
    return join_turns(turns)


def _span_turns(
    span: Transmission,
    windows: Sequence[VoiceWindow],
    scores: np.ndarray,
    ids: np.ndarray,
    options: SpeakerOptions,
) -> list[Turn]:
    """Turns inside one span from its windows' similarity to each speaker."""
    if not options.split_spans:
        best = int(ids[np.argmax(scores.mean(0))])
        return [Turn(span.start, span.end, f"S{best}")]
    n = max(1, int(round((span.end - span.start) / FRAME_S)))
    acc = np.zeros((n, len(ids)))
    cover = np.zeros(n)
    for w, sc in zip(windows, scores, strict=True):
        a = int(round((w.start - span.start) / FRAME_S))
        b = max(a + 1, int(round((w.end - span.start) / FRAME_S)))
        acc[a:b] += sc
        cover[a:b] += 1
    frame_labels = np.argmax(acc / np.maximum(cover, 1)[:, None], axis=1)
    frame_labels = smooth_runs(frame_labels, max(1, int(round(options.min_turn_s / FRAME_S))))
    return _runs(span.start, frame_labels, ids)


def smooth_runs(labels: np.ndarray, min_frames: int) -> np.ndarray:
    """Give runs shorter than ``min_frames`` to the longer neighbouring run, shortest first."""
    labels = labels.copy()
    while True:
        edges = np.flatnonzero(np.diff(labels)) + 1
        starts = np.concatenate([[0], edges])
        ends = np.concatenate([edges, [len(labels)]])
        lengths = ends - starts
        if len(lengths) < 2 or lengths.min() >= min_frames:
            return labels
        i = int(np.argmin(lengths))
        left = lengths[i - 1] if i > 0 else -1
        right = lengths[i + 1] if i + 1 < len(lengths) else -1
        src = i - 1 if left >= right else i + 1
        labels[starts[i] : ends[i]] = labels[starts[src]]


def _runs(start: float, frame_labels: np.ndarray, ids: np.ndarray) -> list[Turn]:
    """Turns from runs of equal frame labels."""
    edges = np.flatnonzero(np.diff(frame_labels)) + 1
    bounds = np.concatenate([[0], edges, [len(frame_labels)]])
    return [
        Turn(
            round(float(start + a * FRAME_S), 3),
            round(float(start + b * FRAME_S), 3),
            f"S{int(ids[frame_labels[a]])}",
        )
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
