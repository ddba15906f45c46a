"""Speakers: who said each stretch of a recording, and does it match the article.

Two sources of labels:

* **The voice.** Speech spans (transmissions or segments, found by the caller) are cut
  into short overlapping windows; each window gets a ``resemblyzer`` voice embedding;
  the windows of a recording, or of a whole batch, are clustered by cosine distance
  (agglomerative, average linkage), so the same voice in several recordings gets the
  same label. Window labels are spread back over 10 ms frames, smoothed, and joined
  into :class:`Turn` records. Turns can change inside a span, so short exchanges and
  overlapping talk that no silence separates still get two labels.
* **The radio system.** trunk-recorder writes a JSON file per call whose ``srcList``
  names the radio unit ID transmitting from each offset. Where it exists those IDs are
  exact, and :func:`merge_radio_turns` lets them win over the voice.

Labels are then named as dispatch users think of them (:func:`name_roles`): the
dominant voice that answers everyone is ``Dispatcher``, the others ``Unit 1``,
``Unit 2``, ...; a names file (:func:`read_speaker_names`) renames them.
:func:`attribution_matches` checks an article's attribution ("the dispatcher says",
"one officer on scene") against the role that spoke.

This module never decodes audio: callers pass 16 kHz mono float32 samples from
:mod:`pipeline.audio`. It writes no files; :func:`to_rttm` returns text.

It does not label sub-second transmissions ("Roger", "Copy") reliably: their embeddings
sit nearer other voices than their own, and neither centring, tiling nor recording-path
features (long-term spectrum, noise floor) fix that (``bench/bench_speakers.py``).
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from pipeline.audio import SAMPLE_RATE
from pipeline.records import Segment, Transmission

logger = logging.getLogger(__name__)

FRAME_S = 0.01
"""Step of the encoder's mel frames, and of the frame-level labels, in seconds."""
DISPATCHER = "Dispatcher"
"""Role name of a channel's dispatcher."""
UNIT = "Unit"
"""Role name prefix of everyone else on the channel (field units)."""
UNKNOWN_UNIT = -1
"""trunk-recorder's ``src`` for a transmission whose unit ID it did not decode."""


@dataclass
class SpeakerOptions:
    """How voices are embedded, clustered and turned into speaker turns."""

    num_speakers: int | None = None
    """Exact number of speakers (``--speakers N``); None estimates it with ``threshold``."""
    threshold: float = 0.27
    """Cosine distance at which average-linkage clustering stops merging voices."""
    full_window: float = 0.75
    """Windows shorter than this share of ``window_s`` join clusters but never found one."""
    refine_steps: int = 3
    """k-means steps that move each window to its nearest speaker at the end."""
    max_speakers: int = 20
    """Upper bound on the estimated number of speakers."""
    window_s: float = 1.6
    """Length of one embedding window in seconds (the encoder was trained on 1.6 s)."""
    hop_s: float = 0.4
    """Step between embedding windows inside a span, in seconds."""
    min_span_s: float = 0.3
    """Spans shorter than this get no embedding of their own; they take a neighbour's label."""
    min_turn_s: float = 0.6
    """A change of speaker inside a span shorter than this is smoothed away."""
    min_cluster_s: float = 2.0
    """Estimated speakers with less speech than this are folded into the nearest voice."""
    split_spans: bool = True
    """Allow the speaker to change inside a span; False gives one label per span."""


@dataclass
class Turn:
    """A stretch of one recording spoken by one speaker."""

    start: float
    """Start time in seconds, absolute in the recording."""
    end: float
    """End time in seconds, absolute in the recording."""
    speaker: str
    """Speaker label: a voice cluster (``S0``, ``S1``...), a radio unit ID, or empty if unknown."""
    source: str = "voice"
    """Where the label came from: ``voice`` (embeddings) or ``radio`` (trunk-recorder unit ID)."""

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


@dataclass
class _Window:
    """One embedding window (internal)."""

    recording: int
    """Index of the recording in the batch."""
    span: int
    """Index of the span in its recording."""
    start: float
    """Start in seconds, absolute."""
    end: float
    """End in seconds, absolute."""


# --- embeddings -------------------------------------------------------------------------


def load_encoder(device: str = "cpu"):
    """Load the resemblyzer voice encoder once per process.

    Args:
        device: torch device name.

    Returns:
        A ``resemblyzer.VoiceEncoder``; pass it to :func:`diarize` and friends.
    """
    from resemblyzer import VoiceEncoder

    return VoiceEncoder(device, verbose=False)


def _mel(samples: np.ndarray) -> np.ndarray:
    """Volume-normalised mel frames (n_frames, 40) of one stretch of samples."""
    from resemblyzer import audio

    wav = audio.normalize_volume(samples.astype(np.float32), -30, increase_only=True)
    return audio.wav_to_mel_spectrogram(wav)


def _forward(encoder, mels: list[np.ndarray]) -> np.ndarray:
    """Embed mel slices, batching those of equal length; rows keep the input order."""
    import torch

    out = np.zeros((len(mels), 256), dtype=np.float32)
    by_len: dict[int, list[int]] = defaultdict(list)
    for i, m in enumerate(mels):
        by_len[len(m)].append(i)
    with torch.no_grad():
        for idx in by_len.values():
            batch = torch.from_numpy(np.stack([mels[i] for i in idx]))
            out[idx] = encoder(batch.to(encoder.device)).cpu().numpy()
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
    windows, emb = _embed_windows(encoder, [samples], [list(spans)], SpeakerOptions())
    out = np.zeros((len(spans), emb.shape[1] if len(emb) else 256), dtype=np.float32)
    for w, e in zip(windows, emb, strict=True):
        out[w.span] += e
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms > 0, norms, 1)


def _window_bounds(start: float, end: float, options: SpeakerOptions) -> list[tuple[float, float]]:
    """Windows of ``window_s`` every ``hop_s`` covering [start, end]; one if shorter."""
    if end - start <= options.window_s:
        return [(start, end)]
    n = int(np.ceil((end - start - options.window_s) / options.hop_s)) + 1
    firsts = np.minimum(start + np.arange(n) * options.hop_s, end - options.window_s)
    return [(float(a), float(a) + options.window_s) for a in firsts]


def _embed_windows(
    encoder,
    recordings: Sequence[np.ndarray],
    spans: Sequence[Sequence[Transmission]],
    options: SpeakerOptions,
) -> tuple[list[_Window], np.ndarray]:
    """Embed every window of every span of every recording."""
    windows: list[_Window] = []
    mels: list[np.ndarray] = []
    for r, (samples, rec_spans) in enumerate(zip(recordings, spans, strict=True)):
        for s, span in enumerate(rec_spans):
            if span.end - span.start < options.min_span_s:
                continue
            a, b = int(span.start * SAMPLE_RATE), int(span.end * SAMPLE_RATE)
            mel = _mel(samples[max(a, 0) : b])
            for w0, w1 in _window_bounds(span.start, span.end, options):
                f0 = int(round((w0 - span.start) / FRAME_S))
                f1 = min(len(mel), f0 + max(1, int(round((w1 - w0) / FRAME_S))))
                windows.append(_Window(r, s, w0, w1))
                mels.append(mel[f0:f1])
    if not windows:
        return [], np.zeros((0, 256), dtype=np.float32)
    return windows, _forward(encoder, mels)


# --- clustering -------------------------------------------------------------------------


def cluster(
    embeddings: np.ndarray, weights: np.ndarray, options: SpeakerOptions
) -> np.ndarray:
    """Cluster window embeddings into speakers.

    Average-linkage agglomerative clustering on cosine distance over the full-length
    windows, cut at ``options.threshold``; clusters holding less than ``min_cluster_s``
    of speech are folded into the nearest one. With ``options.num_speakers``, the
    clusters with the most alike centroids are then merged until that many remain
    (cutting the tree at N clusters instead leaves outlier windows as "speakers").
    Short windows (from short spans), whose embeddings wander, join the nearest
    cluster without founding their own. Last, every window moves to its
    nearest centroid (k-means steps).

    Args:
        embeddings: (n, d) unit vectors.
        weights: (n,) seconds of audio each vector was computed from.
        options: clustering options.

    Returns:
        (n,) integer labels from 0, numbered by order of first appearance.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    n = len(embeddings)
    full = weights >= options.full_window * options.window_s
    if full.sum() < 2:
        full = np.ones(n, dtype=bool)
    if n < 2:
        return np.zeros(n, dtype=int)
    core = embeddings[full]
    tree = linkage(core, method="average", metric="cosine")
    speech = np.minimum(weights[full], options.hop_s)
    core_labels = fcluster(tree, t=options.threshold, criterion="distance")
    core_labels = _fold_small(core, core_labels, speech, options)
    wanted = min(options.num_speakers or 0, len(core))
    if wanted and len(np.unique(core_labels)) > wanted:
        core_labels = _merge_closest(core, core_labels, wanted)
    elif wanted:
        core_labels = fcluster(tree, t=wanted, criterion="maxclust")
    labels = np.zeros(n, dtype=int)
    labels[full] = core_labels
    ids, cents = _centroids(core, core_labels)
    labels[~full] = ids[np.argmax(embeddings[~full] @ cents.T, axis=1)]
    for _ in range(options.refine_steps):
        labels = _reassign(embeddings, labels)
    return _renumber(labels)


def _centroids(embeddings: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cluster ids and their normalised mean vectors."""
    ids = np.unique(labels)
    cents = np.stack([embeddings[labels == k].mean(0) for k in ids])
    return ids, cents / np.linalg.norm(cents, axis=1, keepdims=True)


def _fold_small(
    embeddings: np.ndarray, labels: np.ndarray, weights: np.ndarray, options: SpeakerOptions
) -> np.ndarray:
    """Move the vectors of too-small (or too many) clusters to the nearest kept cluster."""
    ids = np.unique(labels)
    mass = np.array([weights[labels == k].sum() for k in ids])
    order = np.argsort(-mass)
    keep = [ids[i] for i in order[: options.max_speakers] if mass[i] >= options.min_cluster_s]
    if not keep:
        keep = [ids[order[0]]]
    kept = np.isin(labels, keep)
    if kept.all():
        return labels
    kids, cents = _centroids(embeddings[kept], labels[kept])
    labels = labels.copy()
    labels[~kept] = kids[np.argmax(embeddings[~kept] @ cents.T, axis=1)]
    return labels


def _merge_closest(embeddings: np.ndarray, labels: np.ndarray, wanted: int) -> np.ndarray:
    """Merge the two clusters with the most alike centroids until ``wanted`` remain."""
    labels = labels.copy()
    while len(np.unique(labels)) > wanted:
        ids, cents = _centroids(embeddings, labels)
        sim = cents @ cents.T
        np.fill_diagonal(sim, -np.inf)
        i, j = np.unravel_index(np.argmax(sim), sim.shape)
        labels[labels == ids[j]] = ids[i]
    return labels


def _reassign(embeddings: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """One k-means step: each vector to its nearest centroid (clusters never vanish)."""
    ids, cents = _centroids(embeddings, labels)
    new = ids[np.argmax(embeddings @ cents.T, axis=1)]
    return new if len(np.unique(new)) == len(ids) else labels


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Relabel 0, 1, ... in order of first appearance."""
    mapping: dict[int, int] = {}
    for k in labels:
        mapping.setdefault(int(k), len(mapping))
    return np.array([mapping[int(k)] for k in labels], dtype=int)


# --- turns ------------------------------------------------------------------------------


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
        encoder: from :func:`load_encoder`; loaded here when None.

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
        encoder: from :func:`load_encoder`; loaded here when None.

    Returns:
        Recording id -> turns in time order.
    """
    options = options or SpeakerOptions()
    encoder = encoder or load_encoder()
    ids = [r[0] for r in recordings]
    spans = [sorted(r[2], key=lambda t: t.start) for r in recordings]
    windows, emb = _embed_windows(encoder, [r[1] for r in recordings], spans, options)
    weights = np.array([w.end - w.start for w in windows])
    labels = cluster(emb, weights, options)
    logger.info("%d windows in %d recordings -> %d speakers", len(windows), len(ids),
                len(set(labels.tolist())))
    out: dict[str, list[Turn]] = {}
    for r, rec_id in enumerate(ids):
        picks = [i for i, w in enumerate(windows) if w.recording == r]
        out[rec_id] = _turns_of_recording(
            spans[r], [windows[i] for i in picks], emb[picks], labels, emb, options
        )
    return out


def _turns_of_recording(
    spans: Sequence[Transmission],
    windows: Sequence[_Window],
    emb: np.ndarray,
    labels: np.ndarray,
    all_emb: np.ndarray,
    options: SpeakerOptions,
) -> list[Turn]:
    """Spread window labels over the frames of each span and join them into turns."""
    ids, cents = _centroids(all_emb, labels) if len(all_emb) else (np.zeros(0, int), None)
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
    _fill_unknown(turns)
    return _join(turns)


def _span_turns(
    span: Transmission,
    windows: Sequence[_Window],
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
    frame_labels = _smooth(frame_labels, max(1, int(round(options.min_turn_s / FRAME_S))))
    return _runs(span.start, frame_labels, ids)


def _smooth(labels: np.ndarray, min_frames: int) -> np.ndarray:
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


def _fill_unknown(turns: list[Turn]) -> None:
    """Give unlabelled (too short) turns the label of the nearest labelled turn in time."""
    known = [t for t in turns if t.speaker]
    if not known:
        return
    for t in turns:
        if not t.speaker:
            mid = (t.start + t.end) / 2
            near = min(known, key=lambda k: max(k.start - mid, mid - k.end, 0.0))
            t.speaker = near.speaker


def _join(turns: Sequence[Turn], max_gap: float = 0.0) -> list[Turn]:
    """Merge consecutive turns of the same speaker that touch (or are within max_gap)."""
    out: list[Turn] = []
    for t in sorted(turns, key=lambda t: t.start):
        if out and out[-1].speaker == t.speaker and t.start - out[-1].end <= max_gap + 1e-6:
            out[-1].end = max(out[-1].end, t.end)
        else:
            out.append(replace(t))
    return out


# --- labels onto records ----------------------------------------------------------------


def speaker_at(turns: Sequence[Turn], start: float, end: float) -> str:
    """The speaker with the most overlap with [start, end]; the nearest turn if none overlaps.

    Args:
        turns: turns of the recording.
        start: start in seconds.
        end: end in seconds.

    Returns:
        The label, or empty when there are no turns.
    """
    if not turns:
        return ""
    overlap = _overlaps(turns, start, end)
    if overlap:
        return max(overlap, key=overlap.get)
    mid = (start + end) / 2
    return min(turns, key=lambda t: max(t.start - mid, mid - t.end)).speaker


def speakers_in(
    turns: Sequence[Turn], start: float, end: float, min_share: float = 0.2
) -> list[str]:
    """The speakers heard in [start, end], each with at least ``min_share`` of the overlap.

    A quote spanning two speakers returns two labels (and should be flagged).

    Args:
        turns: turns of the recording.
        start: start in seconds.
        end: end in seconds.
        min_share: smallest share of the overlapped time that counts as speaking.

    Returns:
        Labels in order of first appearance.
    """
    overlap = _overlaps(turns, start, end)
    total = sum(overlap.values())
    return [k for k, v in overlap.items() if total and v / total >= min_share]


def _overlaps(turns: Iterable[Turn], start: float, end: float) -> dict[str, float]:
    """Seconds of overlap with [start, end] per speaker, in order of first appearance."""
    out: dict[str, float] = {}
    for t in sorted(turns, key=lambda t: t.start):
        ov = min(t.end, end) - max(t.start, start)
        if ov > 0 and t.speaker:
            out[t.speaker] = out.get(t.speaker, 0.0) + ov
    return out


def label_spans(spans: Sequence[Transmission], turns: Sequence[Turn]) -> list[str]:
    """One label per span, by largest overlap (see :func:`speaker_at`)."""
    return [speaker_at(turns, s.start, s.end) for s in spans]


def label_segments(
    segments: Sequence[Segment], turns: Sequence[Turn], names: dict[str, str] | None = None
) -> None:
    """Set ``Segment.speaker`` by largest overlap with the turns, renamed by ``names``.

    Args:
        segments: segments of one recording; changed in place.
        turns: turns of the same recording.
        names: label -> display name (from :func:`name_roles` and the names file).
    """
    names = names or {}
    for seg in segments:
        label = speaker_at(turns, seg.start, seg.end)
        seg.speaker = names.get(label, label)


# --- radio unit IDs ---------------------------------------------------------------------


def trunk_recorder_json(audio_path: str | Path) -> Path | None:
    """The trunk-recorder call JSON beside an audio file (same name, ``.json``), if any."""
    candidate = Path(audio_path).with_suffix(".json")
    return candidate if candidate.is_file() else None


def read_trunk_recorder(json_path: str | Path, duration: float | None = None) -> list[Turn]:
    """Radio turns from a trunk-recorder call JSON file.

    Args:
        json_path: the call's JSON file.
        duration: length of the audio in seconds; defaults to the file's ``call_length``
            (or ``stop_time - start_time``).

    Returns:
        See :func:`turns_from_trunk_call`.

    Raises:
        ValueError: the file is not a trunk-recorder call JSON.
    """
    try:
        call = json.loads(Path(json_path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"cannot read trunk-recorder JSON {json_path}: {e}") from e
    return turns_from_trunk_call(call, duration)


def turns_from_trunk_call(call: dict, duration: float | None = None) -> list[Turn]:
    """Radio turns from a parsed trunk-recorder call.

    Each ``srcList`` entry starts a transmission at ``pos`` seconds into the audio that
    lasts until the next entry (or the end of the call). Consecutive entries from the
    same unit are joined. Unit ID -1 (not decoded) gives an empty label.

    Args:
        call: the parsed JSON object.
        duration: length of the audio in seconds; see :func:`read_trunk_recorder`.

    Returns:
        Turns with ``source="radio"`` and the unit ID as label, in time order.

    Raises:
        ValueError: no ``srcList``.
    """
    if not isinstance(call, dict) or not isinstance(call.get("srcList"), list):
        raise ValueError("not a trunk-recorder call: no srcList")
    if duration is None:
        duration = float(call.get("call_length") or 0) or float(
            call.get("stop_time", 0) - call.get("start_time", 0)
        )
    entries = sorted(call["srcList"], key=lambda e: float(e.get("pos", 0)))
    turns = []
    for i, entry in enumerate(entries):
        start = float(entry.get("pos", 0))
        end = float(entries[i + 1].get("pos", 0)) if i + 1 < len(entries) else duration
        src = int(entry.get("src", UNKNOWN_UNIT))
        label = "" if src == UNKNOWN_UNIT else str(src)
        if end > start:
            turns.append(Turn(start, max(end, start), label, source="radio"))
    return _join(turns)


def merge_radio_turns(voice: Sequence[Turn], radio: Sequence[Turn]) -> list[Turn]:
    """Voice turns relabelled with radio unit IDs where the radio knows them.

    Voice turns are cut at radio boundaries. A piece inside a radio turn with a known
    unit ID takes that ID. A piece the radio does not know keeps its voice label, or
    the unit ID that voice has most often elsewhere, so one person keeps one label.

    Args:
        voice: turns from :func:`diarize` (speech only).
        radio: turns from :func:`read_trunk_recorder`.

    Returns:
        Turns in time order.
    """
    pieces = _cut(voice, sorted({t.start for t in radio} | {t.end for t in radio}))
    votes: dict[str, Counter] = defaultdict(Counter)
    for p in pieces:
        unit = speaker_at(radio, p.start, p.end) if _overlaps(radio, p.start, p.end) else ""
        if unit:
            votes[p.speaker][unit] += p.duration
            p.speaker, p.source = unit, "radio"
    for p in pieces:
        if p.source == "voice" and votes.get(p.speaker):
            p.speaker = votes[p.speaker].most_common(1)[0][0]
    return _join(pieces)


def _cut(turns: Sequence[Turn], cuts: Sequence[float]) -> list[Turn]:
    """Turns split at the given times."""
    out = []
    for t in turns:
        inner = [c for c in cuts if t.start < c < t.end]
        bounds = [t.start, *inner, t.end]
        out.extend(replace(t, start=a, end=b) for a, b in zip(bounds[:-1], bounds[1:]))
    return out


# --- roles and names --------------------------------------------------------------------


def name_roles(turns: Iterable[Turn]) -> dict[str, str]:
    """Role names for the labels of a channel.

    The dispatcher is the voice that answers everyone: the label in the most changes
    of speaker (ties: more speech). The others are
    ``Unit 1``, ``Unit 2``... in order of first appearance, or ``Unit <ID>`` for radio
    unit IDs. A channel with a single voice names it ``Dispatcher``.

    Args:
        turns: turns of one recording, or of a batch from one channel in order.

    Returns:
        Label -> role name; empty labels are left out.
    """
    turns = [t for t in turns if t.speaker]
    if not turns:
        return {}
    exchanges: Counter = Counter()
    talk: Counter = Counter()
    for prev, cur in zip([None, *turns[:-1]], turns):
        talk[cur.speaker] += cur.duration
        if prev is not None and prev.speaker != cur.speaker:
            exchanges[cur.speaker] += 1
            exchanges[prev.speaker] += 1
    order = list(dict.fromkeys(t.speaker for t in turns))
    dispatcher = max(order, key=lambda k: (exchanges[k], talk[k]))
    names = {dispatcher: DISPATCHER}
    n = 0
    for label in order:
        if label == dispatcher:
            continue
        if label.isdigit():
            names[label] = f"{UNIT} {label}"
        else:
            n += 1
            names[label] = f"{UNIT} {n}"
    return names


def read_speaker_names(path: str | Path) -> dict[str, str]:
    """Read a names file: one ``label = name`` per line (``Unit 2 = Beat 833``).

    Blank lines and ``#`` comments are skipped. Labels may be role names, voice
    labels or radio unit IDs.

    Args:
        path: the file.

    Returns:
        Label -> new name.

    Raises:
        ValueError: a line without ``=`` or with an empty side, with its line number.
    """
    names = {}
    text = Path(path).read_text(encoding="utf-8")
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        label, sep, name = (part.strip() for part in line.partition("="))
        if not sep or not label or not name:
            raise ValueError(f"{path}:{n}: expected 'label = name', got {raw.strip()!r}")
        names[label] = name
    return names


def display_names(roles: dict[str, str], renames: dict[str, str] | None = None) -> dict[str, str]:
    """Label -> name shown in the CSVs: the role, renamed by the names file.

    A rename may name the raw label (``S3``, ``1234567``) or its role (``Unit 2``).
    """
    renames = renames or {}
    return {
        label: renames.get(label, renames.get(role, role)) for label, role in roles.items()
    }


# --- attribution ------------------------------------------------------------------------

_DISPATCH_WORDS = re.compile(
    r"\b(dispatch(?:er|ers)?|call[- ]?takers?|radio operators?|operators?|"
    r"telecommunicators?|communications)\b"
)
_UNIT_WORDS = re.compile(
    r"\b(officers?|deput(?:y|ies)|sergeants?|sgt|lieutenants?|lt|captains?|corporals?|"
    r"troopers?|patrol(?:man|men|lers?)?|cops?|detectives?|agents?|units?|beats?|"
    r"firefighters?|medics?|paramedics?|emts?|engines?|ladders?|trucks?|squads?|"
    r"battalion|chiefs?|crews?|responders?|rescuers?|constables?)\b"
)


def attribution_role(attributed_to: str) -> str | None:
    """The radio role an article's attribution names.

    Args:
        attributed_to: the attribution text ("the dispatcher says", "one officer on scene").

    Returns:
        ``Dispatcher``, ``Unit`` (anyone in the field), or None when the text names no
        radio role (empty, a pronoun, "police said", a caller).
    """
    text = attributed_to.lower()
    if _DISPATCH_WORDS.search(text):
        return DISPATCHER
    if _UNIT_WORDS.search(text):
        return UNIT
    return None


def attribution_matches(
    attributed_to: str, speaker_role: str, speaker_name: str = ""
) -> bool | None:
    """Does the article's attribution fit the speaker heard?

    Args:
        attributed_to: the attribution text from the article.
        speaker_role: role of the voice heard, from :func:`name_roles` (``Dispatcher``,
            ``Unit 2``, ``Unit 1234567``).
        speaker_name: the speaker's display name (``Beat 833``); an attribution naming
            it exactly matches.

    Returns:
        True or False; None when the attribution names no radio role or the speaker
        is unknown.
    """
    if speaker_name and re.search(
        rf"(?<!\w){re.escape(speaker_name.lower())}(?!\w)", attributed_to.lower()
    ):
        return True
    wanted = attribution_role(attributed_to)
    if wanted is None or not speaker_role:
        return None
    heard = DISPATCHER if _DISPATCH_WORDS.match(speaker_role.lower()) else UNIT
    return wanted == heard


# --- export -----------------------------------------------------------------------------


def to_rttm(turns: Iterable[Turn], recording_id: str, names: dict[str, str] | None = None) -> str:
    """Turns as RTTM text (NIST Rich Transcription Time Marked), one SPEAKER line each.

    Spaces in recording ids and names become underscores (RTTM is space-separated).

    Args:
        turns: turns of one recording.
        recording_id: the file id written in column 2.
        names: label -> display name; labels are used as they are when missing.

    Returns:
        The lines, each ending in a newline.
    """
    names = names or {}
    rec = re.sub(r"\s+", "_", recording_id) or "recording"
    lines = []
    for t in sorted(turns, key=lambda t: t.start):
        who = re.sub(r"\s+", "_", names.get(t.speaker, t.speaker)) or "unknown"
        lines.append(
            f"SPEAKER {rec} 1 {t.start:.3f} {t.duration:.3f} <NA> <NA> {who} <NA> <NA>\n"
        )
    return "".join(lines)
