"""Read a results folder into cards a person reviews.

A results folder holds what ``dispatch verify`` wrote: ``quotes.csv``,
``quote_words.csv`` and ``workspace.sqlite``. This module turns them into
:class:`Card` records in review order and finds each recording on disk. It reads; it
writes nothing (decisions live in :mod:`pipeline.review.store`).
"""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pipeline.errors import DispatchError
from pipeline.records import QuoteWord, Transmission, Verdict
from pipeline.tablepaths import TablePaths, of_results

log = logging.getLogger(__name__)

QUOTES_CSV = "quotes.csv"
QUOTE_WORDS_CSV = "quote_words.csv"
WORKSPACE = "workspace.sqlite"

CONTEXT_S = 1.5
"""Seconds of audio played and drawn on each side of a quote's span."""

REVIEW_ORDER = (Verdict.UNVERIFIABLE, Verdict.MISQUOTE, Verdict.NOT_FOUND, Verdict.MINOR, Verdict.VERBATIM)
"""Cards come in this order: the undecided first (by ``review_rank``), confirmed ones last."""


class ReviewError(DispatchError):
    """A results folder that cannot be reviewed (no verify run, unreadable tables)."""


@dataclass
class Recording:
    """A recording named in the workspace, and where its file is now."""

    recording: str
    """The path as verify recorded it."""
    sha256: str
    """SHA-256 of the file's bytes when it was transcribed."""
    duration: float
    """Length in seconds."""
    transmissions: list[Transmission] = field(default_factory=list)
    """Transmissions found by segmentation (their edges are drawn on the waveform)."""
    path: Path | None = None
    """The file found on disk, or None when it is missing."""
    problem: str = ""
    """Why its audio cannot be played (missing, moved), for a person to read; empty if none."""
    wall_clock: datetime | None = None
    """When the recording starts, where its file name says so."""


@dataclass
class Card:
    """One quote as the reviewer sees it."""

    quote_id: str
    """The quote's id in ``quotes.csv``."""
    source: str
    """The article or table it came from."""
    text: str
    """The quote as published."""
    attributed_to: str
    """Who the article says spoke it (may be empty)."""
    verdict: Verdict
    """What verify decided on the audio."""
    confidence: float | None
    """How sure verify was."""
    recording: str
    """Where it was located (empty if nowhere)."""
    start_s: float | None
    """Start of the located span in the recording."""
    end_s: float | None
    """End of the located span."""
    speaker: str
    """Who spoke there."""
    heard_text: str
    """What the recogniser heard over the span."""
    differences: list[str]
    """Readable differences verify listed."""
    omitted_text: str
    """Words an ellipsis leaves out."""
    context_before: str
    """Words heard just before."""
    context_after: str
    """Words heard just after."""
    line_id: str
    """Quotes on the same stretch of audio share it."""
    attribution_ok: bool | None
    """Whether the attribution matches the speaker; None where it names no one."""
    listen_start_s: float | None
    """Start of the span to replay."""
    listen_end_s: float | None
    """End of the span to replay."""
    review_rank: int | None
    """Verify's order among the unverifiable quotes (1 first)."""
    reasons: list[str]
    """Why verify decided as it did."""
    words: list[QuoteWord] = field(default_factory=list)
    """The quote's words with their statuses."""
    row: dict[str, str] = field(default_factory=dict)
    """The raw ``quotes.csv`` row (written back with the review columns)."""

    @property
    def located(self) -> bool:
        """True when the quote has a span in a recording."""
        return bool(self.recording) and self.start_s is not None and self.end_s is not None

    @property
    def span(self) -> tuple[float, float]:
        """The span to listen to: the located span widened to the replay span."""
        starts = [t for t in (self.start_s, self.listen_start_s) if t is not None]
        ends = [t for t in (self.end_s, self.listen_end_s) if t is not None]
        return min(starts), max(ends)

    @property
    def clip(self) -> tuple[float, float]:
        """The clip served for the card: the span with ``CONTEXT_S`` either side."""
        start, end = self.span
        return max(start - CONTEXT_S, 0.0), end + CONTEXT_S


@dataclass
class Results:
    """A results folder, read."""

    directory: Path
    """The folder."""
    cards: list[Card]
    """Every quote, in review order."""
    recordings: dict[str, Recording]
    """Recordings in the workspace, by the path verify recorded."""
    columns: list[str]
    """``quotes.csv``'s columns as read (review columns included if present)."""
    rows: list[dict[str, str]] = field(default_factory=list)
    """``quotes.csv``'s rows as read, in file order."""

    @property
    def workspace(self) -> Path:
        """The workspace database."""
        return self.directory / WORKSPACE

    def card(self, quote_id: str) -> Card | None:
        """The card of a quote id, or None."""
        return self._by_id.get(quote_id)

    def __post_init__(self) -> None:
        self._by_id = {c.quote_id: c for c in self.cards}

    def line(self, card: Card) -> list[Card]:
        """The other published versions of a card's line (same ``line_id``)."""
        if not card.line_id:
            return []
        return [c for c in self.cards if c.line_id == card.line_id and c.quote_id != card.quote_id]


def load_results(results_dir: str | Path, audio_roots: tuple[str | Path, ...] = ()) -> Results:
    """Read a results folder written by ``dispatch verify``.

    Args:
        results_dir: The folder holding ``quotes.csv`` and ``workspace.sqlite``.
        audio_roots: Extra folders to look for recordings in, besides the current
            folder and the results folder's parent.

    Returns:
        The cards in review order and the workspace's recordings.

    Raises:
        ReviewError: No verify run in the folder, or a table cannot be read.
    """
    directory = Path(results_dir)
    quotes_path = directory / QUOTES_CSV
    if not quotes_path.is_file():
        raise ReviewError(
            f"{directory} holds no verify run ({QUOTES_CSV} is missing): run "
            f"`dispatch verify --quotes ARTICLES RECORDINGS --out {directory}` first"
        )
    rows, columns = _read_csv(quotes_path)
    words = _read_words(directory / QUOTE_WORDS_CSV)
    paths = of_results(directory)
    ran_in = (Path(paths.cwd),) if paths else ()
    roots = (*ran_in, Path.cwd(), directory.resolve().parent, directory, *map(Path, audio_roots))
    recordings = read_recordings(directory / WORKSPACE, roots, paths)
    try:
        cards = [_card(_own_name(row, paths), words.get(row["quote_id"], [])) for row in rows]
    except (KeyError, ValueError) as e:
        raise ReviewError(f"{quotes_path} cannot be read as a verify table: {e}") from e
    return Results(directory=directory, cards=sorted(cards, key=review_key),
                   recordings=recordings, columns=columns, rows=rows)


def _own_name(row: dict[str, str], paths: TablePaths | None) -> dict[str, str]:
    """A quotes.csv row with its recording under the name the workspace keeps it by (the
    table's path is relative to the run's root, :mod:`pipeline.tablepaths`)."""
    if paths is None or not row.get("recording"):
        return row
    return {**row, "recording": paths.recording(row["recording"])}


def review_key(card: Card) -> tuple:
    """Sort key: verdict group in ``REVIEW_ORDER``, then ``review_rank`` (unranked last)."""
    rank = card.review_rank if card.review_rank is not None else 1 << 30
    return REVIEW_ORDER.index(card.verdict), rank


def _read_csv(path: Path) -> tuple[list[dict[str, str]], list[str]]:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            return list(reader), list(reader.fieldnames or [])
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ReviewError(f"{path} cannot be read: {e}") from e


def _read_words(path: Path) -> dict[str, list[QuoteWord]]:
    if not path.is_file():
        return {}
    rows, _ = _read_csv(path)
    out: dict[str, list[QuoteWord]] = {}
    for r in rows:
        word = QuoteWord(
            quote_id=r["quote_id"], word_index=int(r["word_index"]), word=r["word"],
            status=r["status"], start_s=_float(r.get("start_s")), end_s=_float(r.get("end_s")),
            probability=_float(r.get("probability")), heard=r.get("heard", ""),
        )
        out.setdefault(word.quote_id, []).append(word)
    return out


def _card(row: dict[str, str], words: list[QuoteWord]) -> Card:
    ok = row.get("attribution_ok", "")
    rank = _float(row.get("review_rank"))
    return Card(
        quote_id=row["quote_id"], source=row.get("source", ""), text=row.get("quote_text", ""),
        attributed_to=row.get("attributed_to", ""), verdict=Verdict(row["verdict"]),
        confidence=_float(row.get("confidence")), recording=row.get("recording", ""),
        start_s=_float(row.get("start_s")), end_s=_float(row.get("end_s")),
        speaker=row.get("speaker", ""), heard_text=row.get("heard_text", ""),
        differences=_split(row.get("differences", "")), omitted_text=row.get("omitted_text", ""),
        context_before=row.get("context_before", ""), context_after=row.get("context_after", ""),
        line_id=row.get("line_id", ""), attribution_ok={"True": True, "False": False}.get(ok),
        listen_start_s=_float(row.get("listen_start_s")), listen_end_s=_float(row.get("listen_end_s")),
        review_rank=None if rank is None else int(rank), reasons=_split(row.get("reasons", "")),
        words=sorted(words, key=lambda w: w.word_index), row=row,
    )


def _float(value: str | None) -> float | None:
    return float(value) if value not in (None, "") else None


def _split(value: str) -> list[str]:
    return [part for part in value.split(" | ") if part] if value else []


def read_recordings(workspace: Path, roots: tuple[Path, ...],
                    paths: TablePaths | None = None) -> dict[str, Recording]:
    """The recordings the workspace holds transcripts for, each found on disk if it can be.

    Args:
        workspace: The ``workspace.sqlite`` file.
        roots: Folders a relative recording path is tried against, in order.
        paths: How the tables beside it name the recordings: each is looked for first
            where its table path points (under the root ``run.json`` gives).

    Returns:
        Recordings by the path verify recorded; empty when there is no workspace.
    """
    if not workspace.is_file():
        log.warning("%s is missing: no audio can be played", workspace)
        return {}
    from pipeline.workspace import Workspace

    with Workspace(workspace.parent) as ws:
        transcripts = list(ws.transcripts())
    out = {}
    for t in transcripts:
        rec = Recording(recording=t.recording, sha256=t.sha256, duration=t.duration,
                        transmissions=list(t.transmissions), wall_clock=wall_clock(t.recording))
        tabled = paths.absolute(paths.table_path(t.recording)) if paths else None
        rec.path = tabled.resolve() if tabled and tabled.is_file() else _find(t.recording, roots)
        if rec.path is None:
            rec.problem = (f"the recording {t.recording} is not where verify read it; run the "
                           "review from the folder verify ran in, or move the file back")
        out[t.recording] = rec
    return out


def _find(recording: str, roots: tuple[Path, ...]) -> Path | None:
    path = Path(recording)
    candidates = [path] if path.is_absolute() else [root / path for root in roots]
    return next((p.resolve() for p in candidates if p.is_file()), None)


_EPOCH = re.compile(r"(?<!\d)(1[0-9]{9})(?!\d)")
_STAMP = re.compile(r"(?<!\d)(20\d{2})-?(\d{2})-?(\d{2})[T_ -]?(\d{2})[:-]?(\d{2})[:-]?(\d{2})(?!\d)")


def wall_clock(recording: str) -> datetime | None:
    """When a recording starts, where its file name holds the time.

    Reads trunk-recorder's Unix time (``1234-1700000000_851.0125.wav``) as UTC and a
    ``YYYYMMDD_HHMMSS`` stamp as local time of the recording.

    >>> wall_clock("calls/9131-1700000000_851.0125.wav").isoformat()
    '2023-11-14T22:13:20+00:00'
    >>> wall_clock("scanner-20240105_142000.mp3").isoformat()
    '2024-01-05T14:20:00'
    >>> wall_clock("dispatch-channel.mp3") is None
    True
    """
    name = Path(recording).name
    if m := _STAMP.search(name):
        try:
            return datetime(*map(int, m.groups()))
        except ValueError:
            return None
    if m := _EPOCH.search(name):
        return datetime.fromtimestamp(int(m.group(1)), tz=timezone.utc)
    return None
