"""Tests for pipeline/packing.py: transmissions packed into windows, and mapped back."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline import packing
from pipeline.audio import SAMPLE_RATE as SR
from pipeline.records import Transmission


def trs(*spans) -> list[Transmission]:
    return [Transmission(a, b) for a, b in spans]


def test_pack_windows_fills_up_to_max():
    windows = packing.pack_windows(trs((0, 10), (20, 30), (40, 50), (60, 65)), 30.0, gap_s=0.5)
    assert [[p.index for p in w.placements] for w in windows] == [[0, 1], [2, 3]]
    assert [p.offset for p in windows[0].placements] == [0.0, 10.5]
    assert windows[0].duration == 20.5 and windows[1].duration == 15.5
    assert (windows[1].start, windows[1].end) == (40, 65)


@pytest.mark.parametrize(
    "spans,max_s,expected",
    [
        ([], 30.0, []),
        ([(0, 45), (50, 52)], 30.0, [[0], [1]]),  # longer than a window: alone
        ([(0, 1), (2, 3), (4, 5)], 0.0, [[0], [1], [2]]),  # packing off
        ([(0, 14.75), (15, 29.75)], 30.0, [[0, 1]]),  # exactly 30 s with the gap
        ([(0, 14.75), (15, 29.76)], 30.0, [[0], [1]]),
    ],
)
def test_pack_windows_table(spans, max_s, expected):
    windows = packing.pack_windows(trs(*spans), max_s, gap_s=0.5)
    assert [[p.index for p in w.placements] for w in windows] == expected


@pytest.mark.parametrize(
    "lookahead,expected",
    [
        (1, [[0], [1, 2, 3]]),  # strictly consecutive: the second long one starts a window
        (2, [[0, 2, 3], [1]]),  # the short ones after it fill the first window
    ],
)
def test_pack_windows_lookahead_fills_the_end_of_a_window(lookahead, expected):
    spans = trs((0, 20), (25, 45), (50, 55), (60, 62))
    windows = packing.pack_windows(spans, 30.0, gap_s=0.5, lookahead=lookahead)
    assert [[p.index for p in w.placements] for w in windows] == expected
    for w in windows:  # offsets follow the window's own transmissions, in time order
        assert [p.transmission.start for p in w.placements] == sorted(p.transmission.start
                                                                      for p in w.placements)
        assert w.duration <= 30.0


def test_window_audio_and_mapping_back():
    x = np.zeros(10 * SR, np.float32)
    x[2 * SR : 3 * SR] = 0.5
    x[6 * SR : 7 * SR] = -0.5
    (window,) = packing.pack_windows(trs((2, 3), (6, 7)), 30.0, gap_s=0.5)
    packed = packing.window_audio(x, window)
    assert len(packed) == int(2.5 * SR)
    assert np.all(packed[:SR] == 0.5) and np.all(packed[SR : int(1.5 * SR)] == 0)
    assert np.all(packed[int(1.5 * SR) :] == -0.5)
    assert window.to_absolute(0.25) == (0, 2.25)
    assert window.to_absolute(1.75) == (1, 6.25)
    assert window.to_absolute(1.1) == (0, 3.0)  # in the gap, nearer the first: clamped
    assert window.to_absolute(1.4) == (1, 6.0)
    assert window.to_absolute(99.0) == (1, 7.0)


def test_span_to_absolute_keeps_words_inside_their_transmission():
    (window,) = packing.pack_windows(trs((2, 3), (6, 7)), 30.0, gap_s=0.5)
    assert window.span_to_absolute(0.25, 0.5) == (0, 2.25, 2.5)
    assert window.span_to_absolute(0.8, 1.3) == (0, 2.8, 3.0)  # straddles the gap
    assert window.span_to_absolute(1.3, 1.9) == (1, 6.0, 6.4)
    assert window.span_to_absolute(2.4, 3.0) == (1, 6.9, 7.0)
