"""Call metadata: when a recording was made, on which talkgroup, and who keyed up.

Scanner tools keep this beside the audio, each its own way. For every recording the
first of these that holds it wins:

1. **trunk-recorder**'s call JSON beside the audio (same name, ``.json``), as its
   ``create_call_json`` writes it: ``start_time`` (epoch seconds; ``start_time_ms`` in
   newer versions), ``call_length``, ``talkgroup``, ``talkgroup_tag``,
   ``talkgroup_description``, ``talkgroup_group``, ``short_name``, ``freq``,
   ``emergency``, ``encrypted``, ``srcList`` (``src`` unit ID, ``pos`` offset in the
   audio, ``tag``, ``emergency``).
2. A sidecar table ``calls.csv`` in the recording's folder, for anything else: one row
   per file, columns ``recording, started_at`` and any of ``talkgroup, talkgroup_tag,
   system, unit, unit_tag, emergency, encrypted, freq``.
3. The file name, in the patterns these tools write (:data:`FILE_NAME_PATTERNS`).

A unit tags file (trunk-recorder's ``unitTagsFile``: ``unit ID,tag`` lines, or
``/regex/,tag`` lines whose tag may use the groups as ``$1``) names units the call does
not; a talkgroups file (its ``talkgroupsFile``) names talkgroups the call does not.
Epoch times are UTC, shown in the zone asked for; times written without a zone
(SDRTrunk, rdio-scanner and Broadcastify file names, a sidecar's naive ``started_at``)
are read in that zone. What is wrong with the metadata never stops a recording from
being transcribed: it becomes a note on the call, logged as a warning (a talkgroups
file that cannot be read is the exception: it stops the run before anything is done).

This module reads files only; it decodes no audio and loads no model.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pipeline.errors import DispatchError
from pipeline.records import CallInfo, CallSource, UnitKey

log = logging.getLogger(__name__)

SIDECAR = "calls.csv"
"""File name of the sidecar table read in each recording's folder."""
UNKNOWN_UNIT = -1
"""trunk-recorder's ``src`` for a transmission whose unit ID it did not decode."""
CLOCKS_AGREE_S = 1.0
"""Two start times of one call (its JSON and its file name) within this many seconds
agree: trunk-recorder's file name holds whole seconds while ``start_time_ms`` holds
milliseconds. A bigger gap is noted as a clash, and the JSON's time is used."""
PAST_AUDIO_S = 0.05
"""A ``srcList`` position this far past the end of the decoded audio is noted as
running past it (less is rounding between the recorder's clock and the decoder)."""


class CallError(DispatchError):
    """Call metadata that cannot be used (a unit tags file that cannot be read, a zone
    that does not exist)."""


@dataclass
class CallOptions:
    """How call metadata is read."""

    unit_tags: str | Path | None = None
    """A trunk-recorder unit tags file naming unit IDs (``--unit-tags``)."""
    talkgroups: str | Path | None = None
    """A trunk-recorder talkgroups file naming talkgroups where a call does not
    (``--talkgroups``)."""
    tz: str | None = None
    """IANA zone that times are shown in, and that times written without a zone are read
    in (``--tz``); None: UTC."""
    talkgroup: str = ""
    """Search quotes only in calls on this talkgroup, number or tag (``--talkgroup``)."""
    near: datetime | None = None
    """Search quotes only in calls around this time (``--near``)."""
    within_s: float | None = None
    """How far around ``near``, seconds (``--within``; :data:`DEFAULT_WITHIN_S` when None)."""


@dataclass
class UnitTags:
    """Unit ID -> name, from a unit tags file."""

    exact: dict[str, str] = field(default_factory=dict)
    """Tags of single unit IDs."""
    patterns: list[tuple[re.Pattern, str]] = field(default_factory=list)
    """``/regex/`` lines: a matching ID takes the tag with ``$1``... filled in."""

    def tag(self, unit: str) -> str:
        """The tag of ``unit``, empty where the file does not name it.

        >>> UnitTags({"833": "Beat 833"}, [(re.compile("^31(\\\\d+)$"), "Car $1")]).tag("3105")
        'Car 05'
        """
        if unit in self.exact:
            return self.exact[unit]
        for pattern, tag in self.patterns:
            m = pattern.search(unit)
            if m:
                return m.expand(re.sub(r"\$(\d)", r"\\\1", tag))
        return ""


def zone(name: str | None):
    """The ``tzinfo`` of an IANA zone name (None: UTC).

    Raises:
        CallError: No such zone.
    """
    if not name or name.upper() == "UTC":
        return timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise CallError(f"--tz {name!r} is not a time zone (try America/Chicago or UTC)") from e


def read_unit_tags(path: str | Path) -> UnitTags:
    """Read a trunk-recorder unit tags file: ``unit ID,tag`` per line, ``/regex/,tag`` lines.

    A first line that is not an ID (a header) and blank lines are skipped.

    Raises:
        CallError: The file cannot be read.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as e:
        raise CallError(f"unit tags file {path}: {e.strerror or e}") from e
    tags = UnitTags()
    for row in csv.reader(text.splitlines()):
        if len(row) < 2 or not row[0].strip():
            continue
        key, tag = row[0].strip(), row[1].strip()
        if len(key) > 2 and key.startswith("/") and key.endswith("/"):
            try:
                tags.patterns.append((re.compile(key[1:-1]), tag))
            except re.error:
                log.warning("unit tags file %s: %r is not a regular expression; skipped", path, key)
        elif key.lstrip("-").isdigit():
            tags.exact[key] = tag
    return tags


@dataclass
class TalkgroupName:
    """What a talkgroups file says of one talkgroup."""

    tag: str = ""
    """Its short name (the file's ``Alpha Tag``: ``PD Zone 8``)."""
    description: str = ""
    """Its longer description (``Description``)."""
    group: str = ""
    """The group it belongs to (``Category``, ``Group`` in older files: ``Police``)."""


TALKGROUP_COLUMNS = {"tag": ("alpha tag", "alphatag"), "description": ("description",),
                     "group": ("category", "group")}
"""Columns of a trunk-recorder talkgroups file read, beside ``Decimal`` (the talkgroup
number): its header names ``Decimal, Hex, Alpha Tag, Mode, Description, Tag, Category``
(and ``Priority``), in any order; ``Tag`` there is the kind of service
(``Law Dispatch``), not a name."""


def read_talkgroups(path: str | Path) -> dict[str, TalkgroupName]:
    """Read a trunk-recorder talkgroups file (``talkgroupsFile``): a CSV whose header names
    its columns (:data:`TALKGROUP_COLUMNS`), one talkgroup a row.

    Raises:
        CallError: The file cannot be read, has no header with a ``Decimal`` column, or a
            row whose ``Decimal`` is not a number (the message names the line).
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise CallError(f"talkgroups file {path}: {getattr(e, 'strerror', None) or e}") from e
    rows = [r for r in csv.reader(text.splitlines()) if any(c.strip() for c in r)]
    header = [c.strip().lower() for c in rows[0]] if rows else []
    if "decimal" not in header:
        raise CallError(f"talkgroups file {path} is not trunk-recorder's: its first line must "
                        "name the columns (Decimal,Hex,Alpha Tag,Mode,Description,Tag,Category)")
    at = {name: next((header.index(c) for c in names if c in header), None)
          for name, names in TALKGROUP_COLUMNS.items()}
    named: dict[str, TalkgroupName] = {}
    for line, row in enumerate(rows[1:], start=2):
        cells = [c.strip() for c in row]
        number = cells[header.index("decimal")] if len(cells) > header.index("decimal") else ""
        if not number.isdigit():
            raise CallError(f"talkgroups file {path}, line {line}: Decimal {number!r} is not a "
                            "talkgroup number")
        named[str(int(number))] = TalkgroupName(**{
            name: cells[i] if i is not None and i < len(cells) else "" for name, i in at.items()})
    return named


class CallReader:
    """Reads the call metadata of recordings, with one batch's options and tags."""

    def __init__(self, options: CallOptions | None = None):
        """Load the unit tags file and the zone.

        A unit tags file that cannot be read is logged and left out (units are then
        shown by ID); an unknown zone raises.

        Raises:
            CallError: ``options.tz`` is not a time zone, or the talkgroups file cannot be
                read (:func:`read_talkgroups`).
        """
        self.options = options or CallOptions()
        self.zone = zone(self.options.tz)
        self.talkgroups = read_talkgroups(self.options.talkgroups) if self.options.talkgroups else {}
        self.tags = UnitTags()
        self.notes: list[str] = []
        if self.options.unit_tags:
            try:
                self.tags = read_unit_tags(self.options.unit_tags)
            except CallError as e:
                self._note(f"{e}; units are shown by ID")
        self._sidecars: dict[Path, dict[str, dict[str, str]]] = {}

    def _note(self, message: str) -> None:
        log.warning("%s", message)
        self.notes.append(message)

    def read(self, recording: str) -> CallInfo | None:
        """The call metadata of one recording, None where nothing names any.

        Problems with the metadata are kept as the call's ``notes`` and logged.
        """
        path = Path(recording)
        notes: list[str] = []
        named = from_file_name(path, self.zone)
        call = self._from_json(path, notes) or self._from_sidecar(path, notes) or named
        if call is None:
            return None
        if call is not named and named is not None and call.source is CallSource.TRUNK_RECORDER:
            _compare_clocks(call, named, notes)
            call.system = call.system or named.system
        if named is not None and named.source is CallSource.TRUNK_RECORDER and call is named \
                and not path.with_suffix(".json").exists():
            notes.append("no trunk-recorder JSON beside it: talkgroup, start and frequency are "
                         "read from the file name; who keyed up is not known (voices name them)")
        if named is not None and named.source in NAIVE_SOURCES and call is named \
                and self.options.tz is None:
            notes.append(f"{named.source} file names carry local time without a zone: read as "
                         "UTC (give --tz)")
        call.recording = recording
        call.started_at = call.started_at.astimezone(self.zone) if call.started_at else None
        self._tag_units(call)
        self._name_talkgroup(call)
        call.notes = notes + call.notes
        for note in call.notes:
            log.warning("%s: %s", recording, note)
        return call

    def read_all(self, recordings: Iterable[str]) -> dict[str, CallInfo]:
        """Recording -> call metadata, for the recordings that have any, in time order
        (calls without a start last, by name)."""
        found = [c for c in map(self.read, recordings) if c is not None]
        found.sort(key=lambda c: (c.started_at is None,
                                  c.started_at.timestamp() if c.started_at else 0, c.recording))
        return {c.recording: c for c in found}

    def _name_talkgroup(self, call: CallInfo) -> None:
        """The talkgroups file's tag, description and group, where the call lacks them."""
        named = self.talkgroups.get(call.talkgroup.lstrip("0") or call.talkgroup)
        if named is None:
            return
        call.talkgroup_tag = call.talkgroup_tag or named.tag
        call.talkgroup_description = call.talkgroup_description or named.description
        call.talkgroup_group = call.talkgroup_group or named.group

    def _tag_units(self, call: CallInfo) -> None:
        for key in call.units:
            if key.unit and not key.tag:
                key.tag = self.tags.tag(key.unit)

    def _from_json(self, path: Path, notes: list[str]) -> CallInfo | None:
        beside = path.with_suffix(".json")
        if not beside.is_file():
            return None
        try:
            raw = json.loads(beside.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            notes.append(f"{beside.name} cannot be read as JSON ({e}): ignored")
            return None
        if not is_trunk_recorder_call(raw):
            notes.append(f"{beside.name} is not a trunk-recorder call file (it lacks "
                         "talkgroup, start_time or srcList): ignored")
            return None
        return call_from_trunk_recorder(raw, str(path))

    def _from_sidecar(self, path: Path, notes: list[str]) -> CallInfo | None:
        table = self._sidecar(path.parent)
        row = table.get(path.name) or table.get(str(path))
        if row is None:
            return None
        return call_from_row(row, str(path), self.zone, self.options.tz is not None, notes)

    def _sidecar(self, folder: Path) -> dict[str, dict[str, str]]:
        if folder not in self._sidecars:
            self._sidecars[folder] = read_sidecar(folder / SIDECAR)
        return self._sidecars[folder]


def is_trunk_recorder_call(raw) -> bool:
    """True for a parsed JSON object shaped like trunk-recorder's call file."""
    return (isinstance(raw, dict) and isinstance(raw.get("srcList"), list)
            and "talkgroup" in raw and ("start_time" in raw or "start_time_ms" in raw))


def call_from_trunk_recorder(raw: dict, recording: str) -> CallInfo:
    """A call from a parsed trunk-recorder call JSON (epoch times, UTC).

    Each ``srcList`` entry keys a unit from its ``pos`` until the next entry's (or the
    end of the call); the length is ``call_length`` (or ``stop_time - start_time``)
    until the audio's own length replaces it.
    """
    if raw.get("start_time_ms") is not None:
        started = datetime.fromtimestamp(int(raw["start_time_ms"]) / 1000, timezone.utc)
    else:
        started = datetime.fromtimestamp(float(raw["start_time"]), timezone.utc)
    duration = _call_length(raw)
    entries = sorted((e for e in raw["srcList"] if isinstance(e, dict)),
                     key=lambda e: float(e.get("pos", 0) or 0))
    units = []
    for i, entry in enumerate(entries):
        start = float(entry.get("pos", 0) or 0)
        end = float(entries[i + 1].get("pos", 0) or 0) if i + 1 < len(entries) else duration
        src = int(entry.get("src", UNKNOWN_UNIT))
        units.append(UnitKey(start, max(start, end if end is not None else start),
                             "" if src == UNKNOWN_UNIT else str(src), str(entry.get("tag") or ""),
                             emergency=bool(entry.get("emergency"))))
    return CallInfo(
        recording=recording, source=CallSource.TRUNK_RECORDER, started_at=started,
        system=str(raw.get("short_name") or ""), talkgroup=str(raw.get("talkgroup", "")),
        talkgroup_tag=str(raw.get("talkgroup_tag") or ""),
        talkgroup_description=str(raw.get("talkgroup_description") or ""),
        talkgroup_group=str(raw.get("talkgroup_group") or ""),
        freq=float(raw["freq"]) if raw.get("freq") is not None else None,
        emergency=bool(raw.get("emergency")), encrypted=bool(raw.get("encrypted")),
        duration=duration, units=units,
    )


def _call_length(raw: dict) -> float | None:
    if raw.get("call_length_ms") is not None:
        return float(raw["call_length_ms"]) / 1000
    if raw.get("call_length") is not None:
        return float(raw["call_length"])
    if raw.get("stop_time_ms") is not None and raw.get("start_time_ms") is not None:
        return (int(raw["stop_time_ms"]) - int(raw["start_time_ms"])) / 1000
    if raw.get("stop_time") is not None and raw.get("start_time") is not None:
        return float(raw["stop_time"]) - float(raw["start_time"])
    return None


def fit_to_audio(call: CallInfo, duration: float) -> None:
    """Make the call's units end with the decoded audio, noting positions past its end.

    Units that key up after the audio ends are dropped; the last one ends where the
    audio does.
    """
    past = [u for u in call.units if u.start > duration + PAST_AUDIO_S]
    if past:
        note = (f"srcList positions run past the audio ({past[0].start:.2f} s in a "
                f"{duration:.2f} s recording): those units are left out")
        log.warning("%s: %s", call.recording, note)
        call.notes.append(note)
    call.units = [u for u in call.units if u.start < duration]
    for i, u in enumerate(call.units):
        u.end = min(call.units[i + 1].start if i + 1 < len(call.units) else duration, duration)
    call.duration = duration


# --- sidecar tables ----------------------------------------------------------------------

SIDECAR_COLUMNS = ("recording", "started_at", "talkgroup", "talkgroup_tag", "system", "unit",
                   "unit_tag", "emergency", "encrypted", "freq")
"""Columns a sidecar table may hold; ``recording`` and ``started_at`` are required."""
_TRUE = {"1", "true", "yes", "y", "x"}


def read_sidecar(path: Path) -> dict[str, dict[str, str]]:
    """Rows of a sidecar table by recording, empty where there is none (or it is not one)."""
    if not path.is_file():
        return {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        log.warning("%s cannot be read (%s): ignored", path, e)
        return {}
    if not rows or not {"recording", "started_at"} <= set(rows[0]):
        log.warning("%s has no recording and started_at columns: not a calls table", path)
        return {}
    return {(r.get("recording") or "").strip(): r for r in rows if r.get("recording")}


def call_from_row(row: dict[str, str], recording: str, tz, tz_given: bool,
                  notes: list[str]) -> CallInfo:
    """A call from a sidecar row; a naive ``started_at`` is read in ``tz``."""
    started = parse_time(row.get("started_at", ""), tz)
    written = (row.get("started_at") or "").strip()
    if started is None and written:
        notes.append(f"started_at {written!r} is not an ISO 8601 time: start unknown")
    elif started is not None and started.utcoffset() is not None and tz_given \
            and _has_offset(written) and started.utcoffset() != started.astimezone(tz).utcoffset():
        notes.append(f"started_at {written} carries its own offset, which differs from "
                     f"the --tz zone's at that time ({started.astimezone(tz):%z}): the "
                     "written offset is used")
    unit = (row.get("unit") or "").strip()
    freq = (row.get("freq") or "").strip()
    return CallInfo(
        recording=recording, source=CallSource.SIDECAR, started_at=started,
        system=(row.get("system") or "").strip(), talkgroup=(row.get("talkgroup") or "").strip(),
        talkgroup_tag=(row.get("talkgroup_tag") or "").strip(),
        freq=float(freq) if _is_number(freq) else None,
        emergency=(row.get("emergency") or "").strip().lower() in _TRUE,
        encrypted=(row.get("encrypted") or "").strip().lower() in _TRUE,
        units=[UnitKey(0.0, float("inf"), unit, (row.get("unit_tag") or "").strip())] if unit else [],
    )


def parse_time(text: str, tz) -> datetime | None:
    """An ISO 8601 time (``2025-10-04 21:40:05``, with or without an offset), read in
    ``tz`` when it has none; None where it is not one."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=tz)


def _has_offset(text: str) -> bool:
    return bool(re.search(r"(Z|[+-]\d\d:?\d\d)$", text.strip()))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- file names --------------------------------------------------------------------------

_TRUNK_RECORDER = re.compile(
    r"^(?P<tg>\d+)-(?P<epoch>\d{9,13})(?:\.(?P<frac>\d+))?_(?P<freq>\d+(?:\.\d+)?)"
    r"(?:-call_\d+)?$")
_OPENMHZ = re.compile(r"^(?P<tg>\d+)-(?P<epoch>\d{10}|\d{13})$")
_SDRTRUNK = re.compile(
    r"^(?P<date>\d{8})_(?P<time>\d{6})(?P<rest>.*?)_TO_(?P<tg>[^_]+)(?:_FROM_(?P<src>[^_]+))?$")
_RDIO_SCANNER = re.compile(
    r"^(?P<date>\d{8})_(?P<time>\d{6})_(?P<sys>\d+)_(?P<tg>\d+)(?:_(?P<src>\d+))?$")
_BROADCASTIFY_ARCHIVE = re.compile(r"^(?P<stamp>\d{12})-(?P<feed>\d+)(?:-\d+)?$")
_BROADCASTIFY_CALL = re.compile(r"^(?P<epoch>\d{10})-(?P<tg>\d+)(?:-(?P<id>\d+))?$")

FILE_NAME_PATTERNS = {
    CallSource.TRUNK_RECORDER: "TG-EPOCH_FREQ-call_N (epoch seconds or ms, in "
                               "SYSTEM/YYYY/M/D/ folders)",
    CallSource.OPENMHZ: "TG-EPOCH (its downloads)",
    CallSource.SDRTRUNK: "YYYYMMDD_HHMMSS<system>_TO_TG[_FROM_UNIT] (local time)",
    CallSource.RDIO_SCANNER: "YYYYMMDD_HHMMSS_SYS_TG[_UNIT] (its #DATE_#TIME_#SYS_#TG_#UNIT "
                             "mask; local time)",
    CallSource.BROADCASTIFY: "YYYYMMDDHHMM-FEED (an archive; local time) or EPOCH-TG (a call)",
}
"""The file-name patterns read, per tool."""
NAIVE_SOURCES = (CallSource.SDRTRUNK, CallSource.RDIO_SCANNER)
"""Tools whose file names hold a local time without a zone."""


def from_file_name(path: str | Path, tz=timezone.utc) -> CallInfo | None:
    """The talkgroup, start and (where named) unit a scanner tool's file name carries.

    Args:
        path: The audio file.
        tz: Zone of the file names that carry local time.

    Returns:
        A call, or None where the name matches no known pattern.

    >>> c = from_file_name("metro/2025/10/4/3105-1759614005_851012500.0-call_7.wav")
    >>> str(c.source), c.system, c.talkgroup, c.started_at.isoformat(), c.freq
    ('trunk-recorder', 'metro', '3105', '2025-10-04T21:40:05+00:00', 851012500.0)
    """
    path = Path(path)
    stem = path.stem
    for matcher in (_trunk_recorder_name, _openmhz_name, _sdrtrunk_name, _rdio_scanner_name,
                    _broadcastify_name):
        call = matcher(stem, path, tz)
        if call is not None:
            return call
    return None


def _epoch(digits: str, frac: str | None = None) -> datetime:
    seconds = int(digits) / 1000 if len(digits) == 13 else float(f"{digits}.{frac or 0}")
    return datetime.fromtimestamp(seconds, timezone.utc)


def _trunk_recorder_name(stem: str, path: Path, tz) -> CallInfo | None:
    m = _TRUNK_RECORDER.match(stem)
    if not m:
        return None
    return CallInfo(str(path), CallSource.TRUNK_RECORDER, _epoch(m["epoch"], m["frac"]),
                    system=_capture_system(path), talkgroup=m["tg"], freq=float(m["freq"]))


def _capture_system(path: Path) -> str:
    """The system of a trunk-recorder capture folder ``SYSTEM/YYYY/M/D/file``."""
    parts = path.parent.parts
    if len(parts) >= 4 and all(p.isdigit() for p in parts[-3:]):
        return parts[-4]
    return ""


def _openmhz_name(stem: str, path: Path, tz) -> CallInfo | None:
    m = _OPENMHZ.match(stem)
    if not m:
        return None
    return CallInfo(str(path), CallSource.OPENMHZ, _epoch(m["epoch"]), talkgroup=m["tg"])


def _local(date: str, time: str, tz) -> datetime | None:
    try:
        return datetime.strptime(date + time, "%Y%m%d%H%M%S").replace(tzinfo=tz)
    except ValueError:
        return None


def _sdrtrunk_name(stem: str, path: Path, tz) -> CallInfo | None:
    m = _SDRTRUNK.match(stem)
    started = _local(m["date"], m["time"], tz) if m else None
    if started is None:
        return None
    units = [UnitKey(0.0, float("inf"), m["src"])] if m["src"] and m["src"].isdigit() else []
    return CallInfo(str(path), CallSource.SDRTRUNK, started, system=m["rest"].strip("_ "),
                    talkgroup=m["tg"], units=units)


def _rdio_scanner_name(stem: str, path: Path, tz) -> CallInfo | None:
    m = _RDIO_SCANNER.match(stem)
    started = _local(m["date"], m["time"], tz) if m else None
    if started is None:
        return None
    units = [UnitKey(0.0, float("inf"), m["src"])] if m["src"] else []
    return CallInfo(str(path), CallSource.RDIO_SCANNER, started, system=m["sys"],
                    talkgroup=m["tg"], units=units)


def _broadcastify_name(stem: str, path: Path, tz) -> CallInfo | None:
    m = _BROADCASTIFY_ARCHIVE.match(stem)
    if m:
        started = _local(m["stamp"], "00", tz)
        if started is not None:
            return CallInfo(str(path), CallSource.BROADCASTIFY, started, system=m["feed"])
    m = _BROADCASTIFY_CALL.match(stem)
    if m:
        return CallInfo(str(path), CallSource.BROADCASTIFY, _epoch(m["epoch"]), talkgroup=m["tg"])
    return None


def _compare_clocks(call: CallInfo, named: CallInfo, notes: list[str]) -> None:
    """Note a JSON start time that disagrees with the file name's."""
    if call.started_at is None or named.started_at is None:
        return
    gap = abs((call.started_at - named.started_at) / timedelta(seconds=1))
    if gap > CLOCKS_AGREE_S:
        notes.append(f"the JSON's start ({call.started_at.isoformat()}) and the file name's "
                     f"({named.started_at.isoformat()}) differ by {gap:.0f} s: the JSON's is used")


def iso(when: datetime | None) -> str:
    """ISO 8601 to the millisecond with the zone's offset, empty for None.

    >>> iso(datetime(2025, 10, 4, 21, 40, 5, 250000, tzinfo=timezone.utc))
    '2025-10-04T21:40:05.250+00:00'
    """
    return "" if when is None else when.isoformat(timespec="milliseconds")


CALL_COLUMNS = ["started_at", "ended_at", "talkgroup", "talkgroup_tag", "system", "unit",
                "unit_tag", "emergency"]
"""Columns the segments, words and quotes tables gain from call metadata, always present
and empty where a recording has none (``emergency`` blank, not false, where unknown)."""


def call_fields(call: CallInfo | None, start: float | None, end: float | None,
                unit: str = "", unit_tag: str = "") -> dict:
    """The :data:`CALL_COLUMNS` cells of a stretch [start, end] of a recording.

    Args:
        call: The recording's call metadata, or None.
        start: Start offset in the recording, seconds (None: unknown).
        end: End offset, seconds.
        unit: The unit ID keyed up, where the caller knows it (a segment's).
        unit_tag: Its tag.

    Returns:
        Column -> value; wall-clock times in ISO 8601 with the zone's offset.
    """
    if call is None:
        return {c: None if c == "emergency" else "" for c in CALL_COLUMNS}
    key = call.unit_at(start, end if end is not None else start) \
        if not unit and start is not None else None
    if key is not None and key.unit:
        unit, unit_tag = key.unit, key.tag
    keyed = [u for u in call.units if u.unit == unit and u.emergency] if unit else []
    return {
        "started_at": iso(call.at(start)) if start is not None else "",
        "ended_at": iso(call.at(end)) if end is not None else "",
        "talkgroup": call.talkgroup, "talkgroup_tag": call.talkgroup_tag, "system": call.system,
        "unit": unit, "unit_tag": unit_tag, "emergency": call.emergency or bool(keyed),
    }


# --- restricting a search to a talkgroup and a time ------------------------------------------

DEFAULT_WITHIN_S = 1800.0
"""How far around ``--near`` calls are searched when no ``--within`` is given: half an
hour either side, the precision of "at about 21:40" in a report."""


def parse_duration(text: str) -> float:
    """Seconds in a duration written ``90``, ``90s``, ``30m``, ``2h`` or ``1h30m``.

    >>> parse_duration("30m"), parse_duration("1h30m"), parse_duration("45")
    (1800.0, 5400.0, 45.0)

    Raises:
        CallError: Not a duration.
    """
    text = text.strip().lower()
    if _is_number(text):
        return float(text)
    parts = re.fullmatch(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?:in)?)?(?:(\d+(?:\.\d+)?)s)?",
                         text)
    if not text or parts is None:
        raise CallError(f"{text!r} is not a duration (try 90s, 30m or 2h)")
    h, m, s = (float(g) if g else 0.0 for g in parts.groups())
    return h * 3600 + m * 60 + s


def scope_quotes(quotes: list, options: CallOptions | None) -> list:
    """Quotes restricted to the talkgroup and time of ``options``, where a quote names
    none of its own (a quotes table may restrict each row: a row's own talkgroup or time
    replaces the run's whole restriction). A quote's own time written without a zone is
    read in ``options.tz``. Changed in place; returned.

    Raises:
        CallError: ``options.tz`` is not a time zone.
    """
    options = options or CallOptions()
    tz = zone(options.tz)
    for q in quotes:
        if q.near is not None and q.near.tzinfo is None:
            q.near = q.near.replace(tzinfo=tz)
    if not (options.talkgroup or options.near is not None):
        return quotes
    for q in quotes:
        if not q.talkgroup and q.near is None:
            q.talkgroup, q.near, q.within_s = options.talkgroup, options.near, options.within_s
    return quotes


def in_scope(call: CallInfo | None, talkgroup: str = "", near: datetime | None = None,
             within_s: float | None = None) -> bool:
    """Whether a call lies on ``talkgroup`` (its number or tag) and overlaps ``near`` give or
    take ``within_s`` (:data:`DEFAULT_WITHIN_S` when None). Without a restriction every
    recording is in scope; with one, a recording without call metadata is not.
    """
    if not talkgroup and near is None:
        return True
    if call is None:
        return False
    if talkgroup and talkgroup.strip().lower() not in (call.talkgroup.lower(),
                                                       call.talkgroup_tag.lower()):
        return False
    if near is None:
        return True
    if call.started_at is None:
        return False
    margin = timedelta(seconds=DEFAULT_WITHIN_S if within_s is None else within_s)
    if near.tzinfo is None:
        near = near.replace(tzinfo=call.started_at.tzinfo)
    ended = call.at(call.duration or 0.0)
    return call.started_at - margin <= near <= ended + margin
