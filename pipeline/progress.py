"""Progress on stderr: the name of each stage as it starts, and bars on long work.

A run says what it is doing before each stage a person waits for (decoding and
transcribing, labelling speakers, loading the judging models, verifying), so no
stretch of a run is silent. A batch of one recording run in this process counts the
seconds of its audio transcribed, not files: the transcription stage reports how far
through the recording its windows have got (:func:`reached`), which is a no-op unless a
bar listens (:func:`listening`), as in a worker process. Nothing here is shown when
progress is off (``dispatch -q`` or a command's ``-q``).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

_LISTENER: Callable[[float, float], None] | None = None
"""Told ``(seconds reached, seconds in all)`` as the recording in hand is transcribed."""


def stage(text: str, enabled: bool = True) -> None:
    """Name a stage on stderr as it starts (a line above any bar on screen).

    Args:
        text: What the run does now, such as ``"labelling speakers"``.
        enabled: False says nothing (progress is off).
    """
    if not enabled:
        return
    from tqdm import tqdm

    tqdm.write(f"{text} ...", file=sys.stderr)


def bar(enabled: bool = True, **kwargs):
    """A tqdm bar on stderr; ``enabled=False`` gives one that shows nothing."""
    from tqdm import tqdm

    return tqdm(disable=not enabled, file=sys.stderr, **kwargs)


@contextlib.contextmanager
def listening(listener: Callable[[float, float], None]) -> Iterator[None]:
    """Send :func:`reached` reports to ``listener`` within the block (in this process)."""
    global _LISTENER
    before, _LISTENER = _LISTENER, listener
    try:
        yield
    finally:
        _LISTENER = before


def reached(seconds: float, total: float) -> None:
    """Report that transcription has got ``seconds`` into ``total`` seconds of audio."""
    if _LISTENER is not None:
        _LISTENER(seconds, total)
