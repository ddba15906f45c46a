"""Transcripts and quotes in the file formats people already use.

One recording's transcript as plain text, SubRip, WebVTT (by segment, or word by word),
TSV or nested JSON, in whisper's conventions (``--output-format txt,vtt,srt,tsv,json,all``,
one ``<stem>.<ext>`` per recording) with speaker labels written as WhisperX writes them
(``[Dispatcher]: text``); and the checked quotes as JSON or a Markdown table to paste
into a CMS. Text in, text out: the tables (CSV, Parquet) are :mod:`pipeline.export`'s.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path, PurePath, PurePosixPath

from pipeline.files import atomic_path
from pipeline.records import CallInfo, Segment, Transcript
from pipeline.tablepaths import TablePaths

log = logging.getLogger(__name__)

OUTPUT_FORMATS = ("txt", "vtt", "srt", "tsv", "json")
"""What ``all`` stands for, in whisper's order."""
WORD_VTT = "vtt-words"
"""WebVTT with a timestamp before each word (players highlight the word being said)."""
CHOICES = (*OUTPUT_FORMATS, WORD_VTT, "all")
"""Every name ``--output-format`` accepts."""
QUOTE_FORMATS = ("csv", "json", "md")
"""Formats of the quotes table (``dispatch export quotes``)."""
EXTENSIONS = {WORD_VTT: "words.vtt"}
"""File extensions that differ from the format's name."""


def parse_output_formats(spec: str) -> tuple[str, ...]:
    """The formats named by a comma-separated list; ``all`` is every one of ``OUTPUT_FORMATS``.

    >>> parse_output_formats("srt,txt")
    ('srt', 'txt')
    >>> parse_output_formats("all,vtt-words")
    ('txt', 'vtt', 'srt', 'tsv', 'json', 'vtt-words')

    Raises:
        ValueError: A name that is not a format.
    """
    out: list[str] = []
    for name in (n.strip().lower() for n in spec.split(",") if n.strip()):
        if name not in CHOICES:
            raise ValueError(f"unknown output format {name!r}: choose from {', '.join(CHOICES)}")
        for fmt in OUTPUT_FORMATS if name == "all" else (name,):
            if fmt not in out:
                out.append(fmt)
    if not out:
        raise ValueError(f"no output format given: choose from {', '.join(CHOICES)}")
    return tuple(out)


def _timestamp(seconds: float, sep: str) -> str:
    """``HH:MM:SS<sep>mmm``.

    >>> _timestamp(3725.5, ",")
    '01:02:05,500'
    """
    ms = max(0, round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _line(segment: Segment) -> str:
    """A segment's text with its speaker in front, as WhisperX writes it.

    >>> _line(Segment(0, 0.0, 1.0, " Copy. ", speaker="Dispatcher"))
    '[Dispatcher]: Copy.'
    """
    text = " ".join(segment.text.split())
    return f"[{segment.speaker}]: {text}" if segment.speaker else text


def to_txt(transcript: Transcript) -> str:
    """One line per segment, speaker first."""
    return "".join(_line(s) + "\n" for s in transcript.segments)


def to_srt(transcript: Transcript) -> str:
    """One recording's segments as SubRip subtitles."""
    cues = []
    for n, s in enumerate(transcript.segments, 1):
        span = f"{_timestamp(s.start, ',')} --> {_timestamp(s.end, ',')}"
        cues.append(f"{n}\n{span}\n{_line(s).replace('-->', '->')}\n")
    return "\n".join(cues)


def _vtt_escape(text: str) -> str:
    return text.replace("-->", "->").replace("&", "&amp;").replace("<", "&lt;")


def to_vtt(transcript: Transcript, words: bool = False) -> str:
    """One recording's segments as WebVTT subtitles.

    Args:
        transcript: The recording.
        words: Put a timestamp tag before each word after the first (``<00:00:01.200>``),
            so a player can highlight the word being said.
    """
    cues = ["WEBVTT\n"]
    for s in transcript.segments:
        span = f"{_timestamp(s.start, '.')} --> {_timestamp(s.end, '.')}"
        if words and s.words:
            said = [_vtt_escape(s.words[0].word.strip())]
            said += [f"<{_timestamp(w.start, '.')}>{_vtt_escape(w.word.strip())}" for w in s.words[1:]]
            text = (f"[{_vtt_escape(s.speaker)}]: " if s.speaker else "") + " ".join(said)
        else:
            text = _vtt_escape(_line(s))
        cues.append(f"{span}\n{text}\n")
    return "\n".join(cues)


def to_tsv(transcript: Transcript) -> str:
    """whisper's TSV (``start``, ``end`` in whole milliseconds, ``text``) with the speaker last."""
    rows = ["start\tend\ttext\tspeaker"]
    for s in transcript.segments:
        text = " ".join(s.text.split())
        rows.append(f"{round(s.start * 1000)}\t{round(s.end * 1000)}\t{text}\t{s.speaker}")
    return "\n".join(rows) + "\n"


def transcript_dict(transcript: Transcript, recording: str | None = None) -> dict:
    """The nested form of a transcript: ``segments[].words[]``, speakers on both, and
    wall-clock times (ISO 8601) where the call's metadata or the file name says when the
    recording starts; ``recording`` names it (default: the transcript's own name)."""
    start = recording_start(transcript.recording, transcript.call)

    def when(seconds: float) -> str | None:
        if start is None:
            return None
        return (start + timedelta(seconds=seconds)).isoformat(timespec="milliseconds")

    return {
        "recording": recording or transcript.recording,
        "sha256": transcript.sha256,
        "duration": round(transcript.duration, 3),
        "model": transcript.model,
        "engine": transcript.engine,
        "wall_clock_start": _iso(start),
        "text": " ".join(" ".join(s.text.split()) for s in transcript.segments),
        "segments": [
            {
                "id": s.segment_id, "start": round(s.start, 3), "end": round(s.end, 3),
                "wall_start": when(s.start), "wall_end": when(s.end),
                "speaker": s.speaker, "text": " ".join(s.text.split()),
                "transmission_id": s.transmission_id, "avg_logprob": round(s.avg_logprob, 4),
                "no_speech_prob": None if s.no_speech_prob is None else round(s.no_speech_prob, 4),
                "compression_ratio": round(s.compression_ratio, 3),
                "words": [{"word": w.word.strip(), "start": round(w.start, 3), "end": round(w.end, 3),
                           "probability": round(w.probability, 4), "speaker": s.speaker}
                          for w in s.words],
            }
            for s in transcript.segments
        ],
    }


def recording_call(transcript: Transcript) -> CallInfo | None:
    """A recording's call metadata: what its batch read, else what its file name says
    (:func:`pipeline.calls.from_file_name`), else None."""
    from pipeline.calls import from_file_name

    return transcript.call or from_file_name(transcript.recording)


def recording_start(recording: str, call: CallInfo | None = None) -> datetime | None:
    """When a recording starts: its call's start (``call``, else what a scanner tool's
    file name says), else a ``YYYYMMDD_HHMMSS`` stamp in its name, else None.

    >>> recording_start("calls/9131-1700000000_851.0125.wav").isoformat()
    '2023-11-14T22:13:20+00:00'
    >>> recording_start("dispatch-channel.mp3") is None
    True
    """
    from pipeline.calls import from_file_name
    from pipeline.review.results import wall_clock

    call = call or from_file_name(recording)
    if call is not None and call.started_at is not None:
        return call.started_at
    return wall_clock(recording)


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


def to_json(transcript: Transcript, recording: str | None = None) -> str:
    """:func:`transcript_dict` as JSON (UTF-8 as written; ``/`` not escaped)."""
    return json.dumps(transcript_dict(transcript, recording), ensure_ascii=False, indent=1) + "\n"


RENDERERS: dict[str, Callable[[Transcript], str]] = {
    "txt": to_txt, "vtt": to_vtt, "srt": to_srt, "tsv": to_tsv, "json": to_json,
    WORD_VTT: lambda t: to_vtt(t, words=True),
}
"""Each output format's renderer of one transcript."""


def output_names(recordings: Sequence[str]) -> dict[str, PurePosixPath]:
    """A file name (without extension) for each recording: its stem, as whisper names
    its outputs; recordings that share a stem are told apart by the folders they are in
    (``north/call``, ``south/call``), and by their extension when in one folder.

    >>> names = output_names(["calls/north/call.wav", "calls/south/call.wav", "b.mp3"])
    >>> [str(names[r]) for r in ("calls/north/call.wav", "calls/south/call.wav", "b.mp3")]
    ['north/call', 'south/call', 'b']
    >>> str(output_names(["x/call.wav", "x/call.mp3"])["x/call.mp3"])
    'call.mp3'
    """
    by_stem: dict[str, list[str]] = defaultdict(list)
    for rec in dict.fromkeys(recordings):
        by_stem[PurePath(rec).stem].append(rec)
    names: dict[str, PurePosixPath] = {}
    for stem, group in by_stem.items():
        names.update(_distinct(stem, group))
    return names


def _folders(recording: str) -> tuple[str, ...]:
    return tuple(p for p in PurePath(recording).parent.parts if p not in ("/", ".", "..") and ":" not in p)


def _distinct(stem: str, group: list[str]) -> dict[str, PurePosixPath]:
    """Names for recordings sharing ``stem``: the fewest trailing folders that tell them apart."""
    if len(group) == 1:
        return {group[0]: PurePosixPath(stem)}
    deepest = max(len(_folders(r)) for r in group)
    for depth in range(1, deepest + 1):
        keys = {r: (*_folders(r)[-depth:], stem) for r in group}
        if len(set(keys.values())) == len(group):
            return {r: PurePosixPath(*keys[r]) for r in group}
    # In one folder: the extension tells them apart (call.wav, call.mp3).
    for depth in range(deepest + 1):
        keys = {r: (*_folders(r)[len(_folders(r)) - depth:], PurePath(r).name) for r in group}
        if len(set(keys.values())) == len(group):
            return {r: PurePosixPath(*keys[r]) for r in group}
    return {r: PurePosixPath(f"{stem}-{n}") for n, r in enumerate(group, 1)}  # paths spelled apart


def write_transcripts(transcripts: Iterable[Transcript], out_dir: str | Path,
                      formats: Sequence[str], paths: TablePaths | None = None) -> list[Path]:
    """Write each transcript in each format as ``out_dir/<format>/<name>.<ext>``.

    Args:
        transcripts: The recordings.
        out_dir: The output folder; each format gets a folder of its own.
        formats: Names from ``OUTPUT_FORMATS`` or ``WORD_VTT``.
        paths: How the run's tables name the recordings: JSON then names each one as the
            tables do, and ``out_dir/json/run.json`` records their root, as beside the tables.

    Returns:
        The files written, each whole (written beside its name and renamed onto it).
    """
    transcripts = list(transcripts)
    names = output_names([t.recording for t in transcripts])
    written = []
    for fmt in formats:
        folder = Path(out_dir) / fmt
        for t in transcripts:
            path = folder / f"{names[t.recording]}.{EXTENSIONS.get(fmt, fmt)}"
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as tmp:
                Path(tmp).write_text(_render(fmt, t, paths), encoding="utf-8")
            written.append(path)
    if paths is not None and "json" in formats:
        root = paths.found_under or paths.root  # the root the tables' run.json gives now
        TablePaths(root, paths.cwd).write(Path(out_dir) / "json")
    log.info("wrote %d files in %s", len(written), out_dir)
    return written


def _render(fmt: str, transcript: Transcript, paths: TablePaths | None) -> str:
    """One transcript in one format; JSON names the recording as the tables do, given ``paths``."""
    if fmt == "json" and paths is not None:
        return to_json(transcript, paths.table_path(transcript.recording))
    return RENDERERS[fmt](transcript)


MARKDOWN_COLUMNS = (("quote_id", "Quote id"), ("quote_text", "Quote"), ("verdict", "Verdict"),
                    ("heard_text", "Heard"), ("speaker", "Speaker"), ("where", "Where"))
"""The columns of the Markdown quotes table, and their headings."""


def quotes_json(rows: Sequence[dict]) -> str:
    """The quotes table as a JSON list of objects (as written; ``/`` not escaped)."""
    return json.dumps(list(rows), ensure_ascii=False, indent=1) + "\n"


def quotes_markdown(rows: Sequence[dict]) -> str:
    """The quotes table as a Markdown table a reporter pastes into a CMS.

    >>> print(quotes_markdown([{"quote_id": "a:1", "quote_text": "Shots | fired", "verdict": "verbatim",
    ...     "heard_text": "shots fired", "speaker": "Unit 1", "recording": "calls/c.wav",
    ...     "start_s": 12.0, "end_s": 13.5}]), end="")
    | Quote id | Quote | Verdict | Heard | Speaker | Where |
    |---|---|---|---|---|---|
    | a:1 | Shots \\| fired | verbatim | shots fired | Unit 1 | c.wav 0:12.0–0:13.5 |
    """
    head = "| " + " | ".join(title for _, title in MARKDOWN_COLUMNS) + " |"
    lines = [head, "|" + "---|" * len(MARKDOWN_COLUMNS)]
    for row in rows:
        cells = {**row, "where": _where(row)}
        lines.append("| " + " | ".join(_md_cell(cells.get(key)) for key, _ in MARKDOWN_COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def _md_cell(value) -> str:
    if value is None or value != value:  # None or NaN
        return ""
    return " ".join(str(value).split()).replace("\\", "\\\\").replace("|", "\\|")


def _where(row: dict) -> str:
    """``file m:ss.s–m:ss.s`` for a located quote, else empty."""
    recording, start, end = row.get("recording"), row.get("start_s"), row.get("end_s")
    if not recording or start is None or end is None or start != start:
        return ""
    return f"{PurePath(str(recording)).name} {_clock(start)}–{_clock(end)}"


def _clock(seconds: float) -> str:
    """``m:ss.s`` (``h:mm:ss.s`` from an hour).

    >>> _clock(3725.25), _clock(65.0)
    ('1:02:05.2', '1:05.0')
    """
    m, s = divmod(float(seconds), 60)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:04.1f}" if h else f"{m}:{s:04.1f}"
