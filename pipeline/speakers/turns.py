"""Speaker turns: who spoke when in one recording, and the labels they give records."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from pipeline.records import Segment


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
    overlap = overlaps(turns, start, end)
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
    overlap = overlaps(turns, start, end)
    total = sum(overlap.values())
    return [k for k, v in overlap.items() if total and v / total >= min_share]


def overlaps(turns: Iterable[Turn], start: float, end: float) -> dict[str, float]:
    """Seconds of overlap with [start, end] per labelled speaker, in order of first appearance."""
    out: dict[str, float] = {}
    for t in sorted(turns, key=lambda t: t.start):
        ov = min(t.end, end) - max(t.start, start)
        if ov > 0 and t.speaker:
            out[t.speaker] = out.get(t.speaker, 0.0) + ov
    return out


def label_segments(
    segments: Sequence[Segment], turns: Sequence[Turn], names: dict[str, str] | None = None
) -> None:
    """Set ``Segment.speaker`` by largest overlap with the turns, renamed by ``names``.

    Args:
        segments: segments of one recording; changed in place.
        turns: turns of the same recording.
        names: label -> display name (from :func:`~.roles.display_names`).
    """
    names = names or {}
    for seg in segments:
        label = speaker_at(turns, seg.start, seg.end)
        seg.speaker = names.get(label, label)


def join_turns(turns: Sequence[Turn], max_gap: float = 0.0) -> list[Turn]:
    """Merge consecutive turns of the same speaker that touch (or are within ``max_gap``).

    Args:
        turns: turns of one recording, in any order.
        max_gap: the largest gap in seconds that still joins two turns.

    Returns:
        New turns in time order.
    """
    out: list[Turn] = []
    for t in sorted(turns, key=lambda t: t.start):
        if out and out[-1].speaker == t.speaker and t.start - out[-1].end <= max_gap + 1e-6:
            out[-1].end = max(out[-1].end, t.end)
        else:
            out.append(replace(t))
    return out


def cut_turns(turns: Sequence[Turn], cuts: Sequence[float]) -> list[Turn]:
    """Turns split at the given times."""
    out = []
    for t in turns:
        inner = [c for c in cuts if t.start < c < t.end]
        bounds = [t.start, *inner, t.end]
        out.extend(replace(t, start=a, end=b) for a, b in zip(bounds[:-1], bounds[1:]))
    return out


def fill_unknown(turns: list[Turn]) -> None:
    """Give unlabelled (too short) turns the label of the nearest labelled turn in time."""
    known = [t for t in turns if t.speaker]
    if not known:
        return
    for t in turns:
        if not t.speaker:
            mid = (t.start + t.end) / 2
            near = min(known, key=lambda k: max(k.start - mid, mid - k.end, 0.0))
            t.speaker = near.speaker
