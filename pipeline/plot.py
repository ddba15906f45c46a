"""A timeline picture: who spoke when, and where the checked quotes fall.

One lane per speaker (or per talkgroup: its tag from the call's metadata, else its number
from a scanner tool's file name such as ``9131-1700000000_851.0125.wav``), a bar per
transmission segment, and a mark per located quote coloured by its verdict. Recordings
whose start is known (call metadata, or the file name) are drawn on a wall-clock axis;
otherwise recordings follow one another in seconds. The lanes and
marks are computed by plain functions; matplotlib only draws them (in ``draw_timeline``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path, PurePath

from pipeline.errors import DispatchError
from pipeline.records import TextEnum, Transcript, Verdict

log = logging.getLogger(__name__)

VERDICT_COLOURS = {
    Verdict.VERBATIM: "#1a9850", Verdict.MINOR: "#91cf60", Verdict.UNVERIFIABLE: "#fc8d59",
    Verdict.MISQUOTE: "#d73027", Verdict.NOT_FOUND: "#999999",
}
"""Each verdict's colour on the picture (red where the audio contradicts the quote)."""


class PlotError(DispatchError):
    """Nothing to draw: no transcripts, or none in the recording or time asked for."""


class Lanes(TextEnum):
    """What a lane of the timeline stands for."""

    SPEAKER = "speaker"
    TALKGROUP = "talkgroup"


@dataclass(frozen=True)
class TimelineOptions:
    """What the timeline shows."""

    lanes: Lanes = Lanes.SPEAKER
    """One lane per speaker label, or per talkgroup."""
    recording: str | None = None
    """Only this recording (its path as given, or its file name)."""
    start: float | datetime | None = None
    """From this time: seconds on the axis, or a wall-clock time (local, without a zone)."""
    end: float | datetime | None = None
    """Up to this time (as ``start``)."""
    width_in: float = 12.0
    """Width of the picture in inches (at 100 dots per inch)."""


@dataclass(frozen=True)
class Bar:
    """One segment on its lane."""

    lane: str
    """The speaker or talkgroup."""
    start: float | datetime
    """Where it starts on the axis."""
    end: float | datetime
    """Where it ends on the axis."""


@dataclass(frozen=True)
class Mark:
    """One located quote on the lane of the speaker who said it."""

    lane: str
    """The speaker or talkgroup."""
    at: float | datetime
    """Where the quote starts on the axis."""
    verdict: Verdict
    """Its verdict (its final one, where a person decided)."""
    quote_id: str
    """The quote."""


def axis_origins(transcripts: Sequence[Transcript]) -> dict[str, float | datetime]:
    """Where each recording's second 0 sits on the axis: its wall-clock start when every
    recording has one, else one after another in seconds."""
    from pipeline.formats import recording_start

    starts = {t.recording: recording_start(t.recording, t.call) for t in transcripts}
    if starts and all(starts.values()):
        return {r: _naive(s) for r, s in starts.items()}
    origins, at = {}, 0.0
    for t in transcripts:
        origins[t.recording] = at
        at += t.duration
    return origins


def _naive(when: datetime) -> datetime:
    """Local time without a zone, so recordings named both ways share an axis."""
    return when.astimezone().replace(tzinfo=None) if when.tzinfo else when


def _shift(origin: float | datetime, seconds: float) -> float | datetime:
    return origin + timedelta(seconds=seconds) if isinstance(origin, datetime) else origin + seconds


def _lane(transcript: Transcript, speaker: str, lanes: Lanes) -> str:
    if lanes is Lanes.TALKGROUP:
        from pipeline.formats import recording_call

        call = recording_call(transcript)
        if call is not None and call.talkgroup_tag:
            return call.talkgroup_tag
        return f"TG {call.talkgroup}" if call is not None and call.talkgroup \
            else PurePath(transcript.recording).name
    return speaker or "unlabelled"


def timeline_bars(transcripts: Sequence[Transcript], origins: dict, options: TimelineOptions) -> list[Bar]:
    """A bar per segment, on its lane, inside the time range asked for."""
    bars = [Bar(_lane(t, s.speaker, options.lanes), _shift(origins[t.recording], s.start),
                _shift(origins[t.recording], s.end))
            for t in transcripts for s in t.segments]
    return [b for b in bars if _inside(b.start, b.end, options)]


def quote_marks(rows: Iterable[dict], transcripts: Sequence[Transcript], origins: dict,
                options: TimelineOptions) -> list[Mark]:
    """A mark per located quote (rows of verify's quotes.csv) on its speaker's lane."""
    by_path = {t.recording: t for t in transcripts}
    marks = []
    for row in rows:
        t = by_path.get(row.get("recording") or "")
        if t is None or row.get("start_s") is None:
            continue
        verdict = Verdict(row.get("final_verdict") or row["verdict"])
        at = _shift(origins[t.recording], float(row["start_s"]))
        if _inside(at, at, options):
            marks.append(Mark(_lane(t, row.get("speaker") or "", options.lanes), at, verdict,
                              str(row["quote_id"])))
    return marks


def _inside(start, end, options: TimelineOptions) -> bool:
    """Whether ``start``-``end`` overlaps the time range asked for."""
    return (options.start is None or end >= options.start) and (options.end is None or start <= options.end)


def _check_bounds(origins: dict, options: TimelineOptions) -> None:
    """A time range given the way the axis runs (wall-clock times need recordings whose
    file names give their start)."""
    wall = all(isinstance(o, datetime) for o in origins.values())
    for bound in (options.start, options.end):
        if bound is not None and isinstance(bound, datetime) != wall:
            raise PlotError("these recordings are on a wall-clock axis: give --from/--to as date-times"
                            if wall else "these recordings' file names do not give their start: "
                            "give --from/--to in seconds")


def select(transcripts: Iterable[Transcript], recording: str | None) -> list[Transcript]:
    """The transcripts asked for: all, or the one whose path or file name is ``recording``.

    Raises:
        PlotError: None is left.
    """
    transcripts = list(transcripts)
    if recording:
        transcripts = [t for t in transcripts
                       if recording in (t.recording, PurePath(t.recording).name)]
        if not transcripts:
            raise PlotError(f"no recording {recording!r} in the workspace's last run")
    if not transcripts:
        raise PlotError("no transcripts in the workspace: run `dispatch transcribe` first")
    return transcripts


def plot_timeline(out_dir: str | Path, path: str | Path,
                  options: TimelineOptions = TimelineOptions()) -> Path:
    """Draw the last run's transcripts (and verify's quotes, where there are some) as a PNG.

    Args:
        out_dir: The results folder (the workspace, and quotes.csv if verify ran).
        path: The PNG to write.
        options: Lanes, recording, time range, size.

    Returns:
        The picture written.

    Raises:
        PlotError: Nothing to draw.
    """
    from pipeline import export
    from pipeline.tablepaths import of_results
    from pipeline.workspace import Workspace

    with Workspace(out_dir) as workspace:
        transcripts = select(workspace.transcripts(), options.recording)
    origins = axis_origins(transcripts)
    options = replace(options, **{k: _naive(v) for k, v in (("start", options.start), ("end", options.end))
                                  if isinstance(v, datetime)})
    _check_bounds(origins, options)
    bars = timeline_bars(transcripts, origins, options)
    if not bars:
        raise PlotError("no transmissions in the time asked for")
    quotes_csv = Path(out_dir) / "quotes.csv"
    rows = export.read_rows(quotes_csv) if quotes_csv.exists() else []
    paths = of_results(out_dir)
    if paths is not None:  # the table's paths start at the run's root; the workspace's do not
        rows = [{**r, "recording": paths.recording(r["recording"])} if r.get("recording") else r
                for r in rows]
    marks = quote_marks(rows, transcripts, origins, options)
    title = (transcripts[0].recording if len(transcripts) == 1 else f"{len(transcripts)} recordings")
    return draw_timeline(bars, marks, path, title, options.width_in)


def draw_timeline(bars: Sequence[Bar], marks: Sequence[Mark], path: str | Path, title: str,
                  width_in: float = 12.0) -> Path:
    """Draw lanes of bars with the quotes marked by verdict, and write a PNG whole."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pipeline.files import atomic_path

    lanes = sorted({b.lane for b in bars} | {m.lane for m in marks})
    row = {lane: n for n, lane in enumerate(lanes)}
    fig, ax = plt.subplots(figsize=(width_in, 1.2 + 0.45 * len(lanes)), dpi=100)
    for b in bars:
        ax.plot([b.start, b.end], [row[b.lane]] * 2, color="#4575b4", linewidth=8, solid_capstyle="butt")
    for verdict in Verdict:
        shown = [m for m in marks if m.verdict is verdict]
        if shown:
            ax.scatter([m.at for m in shown], [row[m.lane] + 0.3 for m in shown], marker="v", s=60,
                       color=VERDICT_COLOURS[verdict], edgecolors="black", linewidths=0.5,
                       label=f"{verdict.value} ({len(shown)})", zorder=3)
    ax.set_yticks(range(len(lanes)), lanes)
    ax.set_ylim(-0.7, len(lanes) - 0.2)
    ax.set_xlabel("time" if isinstance(bars[0].start, datetime) else "seconds")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    if marks:
        ax.legend(title="quotes", loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    log.info("timeline: %d lanes, %d segments, %d quotes -> %s", len(lanes), len(bars), len(marks), path)
    return path
