"""Pack a recording's transmissions into windows for the recogniser, and map back.

Whisper hears 30 s at a time; a radio recording is mostly short transmissions
with long silences between. ``pack_windows`` groups transmissions into windows
of up to 30 s with a short silence between two of them (it may look a few
transmissions ahead to fill a window), ``window_audio`` builds a window's audio
from the recording's samples, and ``Window.to_absolute`` and
``Window.span_to_absolute`` map a time or a word inside a window back to the
recording, inside one transmission.

It does not find transmissions (``audio.find_transmissions`` does) and it does
not transcribe (``transcribe`` does).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.audio import SAMPLE_RATE, cut
from pipeline.records import Transmission


@dataclass
class Placement:
    """Where one transmission sits inside a packed window."""

    index: int
    """Index of the transmission in the list given to ``pack_windows``."""
    transmission: Transmission
    """The transmission, with its absolute times."""
    offset: float
    """Its start inside the packed window, in seconds."""

    @property
    def end_offset(self) -> float:
        """Its end inside the packed window, in seconds."""
        return self.offset + self.transmission.duration


@dataclass
class Window:
    """Consecutive transmissions packed into one stretch of audio, short silences between."""

    placements: list[Placement] = field(default_factory=list)
    """The transmissions it holds, in time order."""
    gap_s: float = 0.5
    """Silence in seconds inserted between two transmissions."""

    @property
    def duration(self) -> float:
        """Length of the packed audio in seconds."""
        return self.placements[-1].end_offset if self.placements else 0.0

    @property
    def start(self) -> float:
        """Absolute start of the first transmission, in seconds."""
        return self.placements[0].transmission.start

    @property
    def end(self) -> float:
        """Absolute end of the last transmission, in seconds."""
        return self.placements[-1].transmission.end

    def placement_at(self, t: float) -> Placement:
        """The placement a window time belongs to; a time in a gap goes to the nearer side."""
        for here, after in zip(self.placements, self.placements[1:], strict=False):
            if t < (here.end_offset + after.offset) / 2:
                return here
        return self.placements[-1]

    def to_absolute(self, t: float) -> tuple[int, float]:
        """Map a time in the packed window to the recording.

        Args:
            t: Seconds from the start of the packed audio.

        Returns:
            The index of the transmission it falls in (as given to
            ``pack_windows``) and the absolute time in seconds, clamped to
            that transmission.
        """
        p = self.placement_at(t)
        inside = min(max(t - p.offset, 0.0), p.transmission.duration)
        return p.index, p.transmission.start + inside

    def span_to_absolute(self, start: float, end: float) -> tuple[int, float, float]:
        """Map a span in the packed window (a word) to the recording, inside one transmission.

        The span goes to the transmission its midpoint falls in, and both ends are
        clamped to that transmission, so a word that straddles a gap never leaks
        outside it.

        Args:
            start: Start in seconds from the start of the packed audio.
            end: End in seconds from the start of the packed audio.

        Returns:
            The transmission's index (as given to ``pack_windows``), and the
            absolute start and end in seconds.
        """
        p = self.placement_at((start + end) / 2)
        duration = p.transmission.duration
        a = min(max(start - p.offset, 0.0), duration)
        b = min(max(end - p.offset, a), duration)
        return p.index, p.transmission.start + a, p.transmission.start + b


def pack_windows(
    transmissions: list[Transmission],
    max_window_s: float = 30.0,
    gap_s: float = 0.5,
    lookahead: int = 1,
) -> list[Window]:
    """Group transmissions into windows of at most ``max_window_s``.

    Greedy and in order: a window starts with the earliest transmission not yet
    packed and takes, while one fits with a ``gap_s`` silence before it, the first
    that fits among the next ``lookahead`` unpacked ones (1: strictly consecutive;
    more lets a short transmission fill the end of a window a long one would leave
    mostly empty). A window's transmissions stay in time order. A transmission
    longer than ``max_window_s`` gets a window of its own (so ``max_window_s=0``
    gives one window per transmission).

    Args:
        transmissions: Transmissions in time order.
        max_window_s: Longest packed window in seconds.
        gap_s: Silence in seconds between two packed transmissions.
        lookahead: How many of the next unpacked transmissions may fill a window.

    Returns:
        Windows in order of their first transmission; every transmission is in exactly one.
    """
    left = list(range(len(transmissions)))
    windows: list[Window] = []
    while left:
        chosen = [left.pop(0)]
        used = transmissions[chosen[0]].duration
        while True:
            fits = [i for i in left[:max(1, lookahead)]
                    if used + gap_s + transmissions[i].duration <= max_window_s]
            if not fits:
                break
            left.remove(fits[0])
            chosen.append(fits[0])
            used += gap_s + transmissions[fits[0]].duration
        windows.append(_window(transmissions, chosen, gap_s))
    return windows


def _window(transmissions: list[Transmission], chosen: list[int], gap_s: float) -> Window:
    """A window of the chosen transmissions (indices in time order), ``gap_s`` apart."""
    window, offset = Window(gap_s=gap_s), 0.0
    for index in chosen:
        window.placements.append(Placement(index, transmissions[index], offset))
        offset += transmissions[index].duration + gap_s
    return window


def window_audio(samples: np.ndarray, window: Window, sr: int = SAMPLE_RATE) -> np.ndarray:
    """The packed audio of a window: its transmissions cut from ``samples``, silences between.

    Args:
        samples: The recording, 1-D.
        window: A window from ``pack_windows`` over this recording's transmissions.
        sr: Sample rate in Hz.

    Returns:
        A float32 array of ``round(window.duration * sr)`` samples (shorter only
        where a transmission runs past the end of ``samples``).
    """
    out = np.zeros(int(round(window.duration * sr)), dtype=np.float32)
    for p in window.placements:
        piece = cut(samples, p.transmission.start, p.transmission.end, sr)
        at = int(round(p.offset * sr))
        piece = piece[: len(out) - at]
        out[at : at + len(piece)] = piece
    return out
