"""Search every transcript in a workspace for words, as quotes are located.

The workspace keeps a full-text index (SQLite FTS5) of every stored segment, its words
normalised as quote locating normalises them (``Ten-four`` and ``10-4`` are ``10 4``,
``eight thirty-three`` is ``833`` said as ``8 33``, fillers left out); a query is
normalised the same way and matched as a phrase. Hits can be narrowed to a speaker and
to a time: seconds into the recording, or wall-clock time where the file name says when
the recording starts. Each hit carries the command that replays it.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pipeline.errors import DispatchError
from pipeline.workspace import SegmentHit, Workspace, search_terms

log = logging.getLogger(__name__)


class SearchError(DispatchError):
    """A search that cannot run: no words to look for, or a time that cannot be read."""


@dataclass(frozen=True)
class SearchOptions:
    """What a search looks for besides its words."""

    speaker: str | None = None
    """Only segments whose speaker label contains this (any case)."""
    start: float | datetime | None = None
    """Only segments ending after this: seconds into the recording, or a wall-clock time."""
    end: float | datetime | None = None
    """Only segments starting before this: seconds into the recording, or a wall-clock time."""
    context_s: float = 1.0
    """Seconds of audio the replay command plays before and after a hit."""
    limit: int = 200
    """Most hits returned."""


@dataclass(frozen=True)
class Hit:
    """One segment that holds the words searched for."""

    segment: SegmentHit
    """The segment, under the recording that holds it."""
    wall_clock: datetime | None
    """When the segment was said, where the file name gives the recording's start."""
    replay: str
    """A shell command that plays the segment with a little context (ffmpeg's ffplay)."""


def parse_time(value: str) -> float | datetime:
    """``--from``/``--to``: seconds (``95``, ``1:35``, ``1:02:05``) or a date-time (ISO 8601).

    >>> parse_time("1:35"), parse_time("2024-01-05T14:20")
    (95.0, datetime.datetime(2024, 1, 5, 14, 20))

    Raises:
        SearchError: Neither.
    """
    parts = value.strip().split(":")
    if 1 <= len(parts) <= 3 and all(p.replace(".", "", 1).isdigit() for p in parts):
        seconds = 0.0
        for p in parts:
            seconds = seconds * 60 + float(p)
        return seconds
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError as e:
        raise SearchError(f"cannot read the time {value!r}: give seconds (95, 1:35) or a date "
                          f"and time (2024-01-05T14:20)") from e


def search(out_dir: str | Path, query: str, options: SearchOptions = SearchOptions()) -> list[Hit]:
    """The segments of every transcript in ``out_dir``'s workspace that hold ``query``.

    Args:
        out_dir: The output folder holding the workspace.
        query: Words, normalised as quotes are located and matched as a phrase.
        options: Speaker, time range, replay context and limit.

    Returns:
        The hits, by recording then time.

    Raises:
        SearchError: The query holds no words.
    """
    terms = search_terms(query.split())
    if not terms:
        raise SearchError(f"nothing to search for in {query!r}: give some words")
    with Workspace(out_dir) as workspace:
        root = _root(workspace)
        found = workspace.search(terms, limit=100_000)
    hits = [_hit(s, root, options) for s in found if _speaker_ok(s, options.speaker)]
    hits = [h for h in hits if _in_range(h, options)]
    log.info("%d segments hold %r (%d before filters)", len(hits), terms, len(found))
    return hits[:options.limit]


def _root(workspace: Workspace) -> Path:
    """The folder the last run's relative recording paths start from."""
    runs = workspace.runs()
    return Path(runs[-1].root) if runs else Path.cwd()


def _speaker_ok(segment: SegmentHit, speaker: str | None) -> bool:
    return speaker is None or speaker.casefold() in segment.speaker.casefold()


def _hit(segment: SegmentHit, root: Path, options: SearchOptions) -> Hit:
    from pipeline.formats import recording_start

    start = recording_start(segment.recording)
    return Hit(segment, None if start is None else start + timedelta(seconds=segment.start),
               replay_command(_playable(segment.recording, root), segment.start, segment.end,
                              options.context_s))


def _playable(recording: str, root: Path) -> str:
    """The recording's path from the current folder (relative paths start at the run's root)."""
    path = Path(recording)
    if path.is_absolute() or path.exists() or not (root / path).exists():
        return recording
    return str(root / path)


def _in_range(hit: Hit, options: SearchOptions) -> bool:
    """Whether the hit overlaps the time range asked for."""
    for bound, is_start in ((options.start, True), (options.end, False)):
        if bound is None:
            continue
        span = _span(hit, bound)
        if span is None or (is_start and span[1] < bound) or (not is_start and span[0] > bound):
            return False
    return True


def _span(hit: Hit, bound: float | datetime) -> tuple | None:
    """The hit's start and end as comparable with ``bound`` (None: no wall clock known)."""
    seg = hit.segment
    if not isinstance(bound, datetime):
        return seg.start, seg.end
    if hit.wall_clock is None:
        return None
    begin = hit.wall_clock
    if bound.tzinfo is None and begin.tzinfo is not None:  # a time given as local
        begin = begin.astimezone().replace(tzinfo=None)
    elif bound.tzinfo is not None and begin.tzinfo is None:
        begin = begin.astimezone()
    return begin, begin + timedelta(seconds=seg.end - seg.start)


def replay_command(recording: str, start: float, end: float, context_s: float = 1.0) -> str:
    """A command that plays ``start``-``end`` of a recording with ``context_s`` either side.

    >>> replay_command("calls/night shift.mp3", 12.0, 14.5)
    "ffplay -nodisp -autoexit -ss 11.0 -t 4.5 'calls/night shift.mp3'"
    """
    begin = max(0.0, start - context_s)
    return (f"ffplay -nodisp -autoexit -ss {begin:.1f} -t {end + context_s - begin:.1f} "
            f"{shlex.quote(recording)}")


def format_hits(hits: Sequence[Hit], width: int = 80) -> str:
    """Hits for the terminal: recording, time, speaker and text on one line (speaker and
    text on the next where they do not fit ``width``), the replay command under it."""
    lines = []
    for h in hits:
        s = h.segment
        when = f"{_clock(s.start)}-{_clock(s.end)}"
        if h.wall_clock is not None:
            when += f" ({h.wall_clock:%Y-%m-%d %H:%M:%S %Z}".rstrip() + ")"  # UTC when known
        head = f"{Path(s.recording).name} {when} {s.speaker or '-'}: "
        if len(head) + len(s.text) <= width:
            lines.append(head + s.text)
        else:  # who said what on a line of its own, so the text is not cut to a few words
            said = f"{s.speaker or '-'}: {s.text}"
            said = said if len(said) + 2 <= width else said[: max(width - 3, 10)] + "…"
            lines += [f"{Path(s.recording).name} {when}", f"  {said}"]
        lines.append(f"  {h.replay}")
    return "\n".join(lines)


def _clock(seconds: float) -> str:
    """``m:ss.s``.

    >>> _clock(95.25)
    '1:35.2'
    """
    m, s = divmod(seconds, 60)
    return f"{int(m)}:{s:04.1f}"
