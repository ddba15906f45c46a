"""Records out: pandas tables, written as CSV, JSON, SRT or VTT.

pandas lives here and nowhere else. Every text cell that could be read as a
formula by a spreadsheet (one starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return) is prefixed with a single quote, as OWASP recommends against CSV
injection; numbers are left as numbers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pipeline.calls import CALL_COLUMNS, call_fields
from pipeline.files import atomic_path
from pipeline.records import Transcript

SEGMENT_COLUMNS = [
    "recording",
    "segment_id",
    "start_s",
    "end_s",
    "speaker",
    "text",
    "avg_logprob",
    "no_speech_prob",
    "compression_ratio",
    "transmission_id",
    "warnings",
    *CALL_COLUMNS,
]
WORD_COLUMNS = [
    "recording",
    "segment_id",
    "word_id",
    "start_s",
    "end_s",
    "speaker",
    "word",
    "probability",
    *CALL_COLUMNS,
]
FORMATS = ("csv", "json", "parquet", "srt", "vtt")
"""Formats ``dispatch export`` writes transcripts in (tables: csv, json, parquet; subtitles: srt,
vtt, one file per recording through :mod:`pipeline.formats`)."""
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """Defuse a text cell a spreadsheet would run as a formula.

    >>> spreadsheet_safe("=HYPERLINK(1)")
    "'=HYPERLINK(1)"
    >>> spreadsheet_safe(3.5)
    3.5
    """
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def segments_frame(transcripts: Iterable[Transcript]):
    """One row per segment, columns ``SEGMENT_COLUMNS``."""
    import pandas as pd

    rows = [
        {
            "recording": t.recording,
            "segment_id": s.segment_id,
            "start_s": round(s.start, 3),
            "end_s": round(s.end, 3),
            "speaker": s.speaker,
            "text": s.text,
            "avg_logprob": round(s.avg_logprob, 4),
            "no_speech_prob": None if s.no_speech_prob is None else round(s.no_speech_prob, 4),
            "compression_ratio": round(s.compression_ratio, 3),
            "transmission_id": s.transmission_id,
            "warnings": "; ".join(t.warnings),
            **call_fields(t.call, s.start, s.end, s.unit, s.unit_tag),
        }
        for t in transcripts
        for s in t.segments
    ]
    return _calls_typed(pd.DataFrame(rows, columns=SEGMENT_COLUMNS))


def _calls_typed(frame):
    """``emergency`` as a nullable boolean: true, false, or blank where no call says."""
    frame["emergency"] = frame["emergency"].astype("boolean")
    return frame


def words_frame(transcripts: Iterable[Transcript]):
    """One row per word, columns ``WORD_COLUMNS``; ``word_id`` counts within the recording."""
    import pandas as pd

    rows = []
    for t in transcripts:
        word_id = 0
        for s in t.segments:
            for w in s.words:
                rows.append(
                    {
                        "recording": t.recording,
                        "segment_id": s.segment_id,
                        "word_id": word_id,
                        "start_s": round(w.start, 3),
                        "end_s": round(w.end, 3),
                        "speaker": s.speaker,
                        "word": w.word,
                        "probability": round(w.probability, 4),
                        **call_fields(t.call, w.start, w.end, s.unit, s.unit_tag),
                    }
                )
                word_id += 1
    return _calls_typed(pd.DataFrame(rows, columns=WORD_COLUMNS))


def with_table_paths(frame, paths):
    """The frame with its ``recording`` column relative to the run's root
    (:meth:`pipeline.tablepaths.TablePaths.table_path`); as it is when ``paths`` is None."""
    if paths is not None and "recording" in frame and len(frame):
        frame = frame.copy()
        frame["recording"] = [paths.table_path(r) if isinstance(r, str) and r else r
                              for r in frame["recording"]]
    return frame


def safe_frame(frame):
    """A copy of a table with every text cell made spreadsheet-safe."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype).startswith("str"):
            out[column] = out[column].map(spreadsheet_safe)
    return out


def write_table(frame, path: str | Path, fmt: str = "csv", excel: bool = False) -> Path:
    """Write a table as CSV (spreadsheet-safe, UTF-8), JSON (records) or Parquet (typed
    columns, for pandas, DuckDB or Spark; needs pyarrow), whole or not at all: it is
    written beside ``path`` and renamed onto it.

    Args:
        frame: The table.
        path: Where to write it.
        fmt: ``csv``, ``json`` or ``parquet``.
        excel: Begin a CSV with a byte-order mark, so Excel on Windows reads it as UTF-8
            (without one it reads curly quotes as mojibake); other readers skip it.

    Returns:
        The path written.
    """
    if fmt not in ("csv", "json", "parquet"):
        raise ValueError(f"tables are written as csv, json or parquet, not {fmt!r}")
    path = Path(path)
    with atomic_path(path) as tmp:
        if fmt == "csv":
            safe_frame(frame).to_csv(tmp, index=False, encoding="utf-8-sig" if excel else "utf-8")
        elif fmt == "json":
            Path(tmp).write_text(json_records(frame), encoding="utf-8")
        else:
            frame.to_parquet(tmp, index=False, engine="pyarrow")
    return path


def json_records(frame) -> str:
    """A table as a JSON list of records: text as written (pandas would escape ``/``),
    missing values as ``null``."""
    return json.dumps(json.loads(frame.to_json(orient="records")), ensure_ascii=False, indent=1) + "\n"


def with_bom(path: str | Path) -> Path:
    """Rewrite a UTF-8 CSV with a byte-order mark (for Excel on Windows), whole or not at all."""
    path = Path(path)
    data = path.read_bytes()
    if not data.startswith(BOM):
        with atomic_path(path) as tmp:
            Path(tmp).write_bytes(BOM + data)
    return path


BOM = "\ufeff".encode()
"""The UTF-8 byte-order mark Excel looks for."""


def read_rows(path: str | Path) -> list[dict]:
    """A CSV table this module wrote, as plain records: numbers as numbers, blanks as None,
    and the quote that defused a formula-like cell taken off again."""
    import pandas as pd

    frame = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    rows = json.loads(frame.to_json(orient="records"))
    return [{k: _undefused(v) for k, v in row.items()} for row in rows]


def _undefused(value):
    """A cell as it was before :func:`spreadsheet_safe`.

    >>> _undefused("'=1+1"), _undefused("'tis")
    ('=1+1', "'tis")
    """
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(_FORMULA_STARTS):
        return value[1:]
    return value


RUNS_DIR = "runs"
"""Where earlier runs' tables are kept, one folder per run named by when it was written."""


def keep_earlier(out_dir: str | Path, names: Iterable[str]) -> Path | None:
    """Move the tables ``names`` that an earlier run left in ``out_dir`` into
    ``out_dir/runs/<when they were written>/``, so a new run never replaces them.

    The earlier run's ``run.json`` is copied beside them (it stays in ``out_dir`` for the
    tables not moved), so their recording paths keep their root.

    Returns:
        The folder they were moved to, or None when there were none.
    """
    import shutil
    from datetime import datetime

    from pipeline.tablepaths import RUN_FILE

    out = Path(out_dir)
    found = [out / n for n in names if (out / n).is_file()]
    if not found:
        return None
    written = datetime.fromtimestamp(max(p.stat().st_mtime for p in found))
    folder = out / RUNS_DIR / written.strftime("%Y-%m-%dT%H-%M-%S")
    n = 1
    while folder.exists():
        n += 1
        folder = folder.with_name(f"{written:%Y-%m-%dT%H-%M-%S}-{n}")
    folder.mkdir(parents=True)
    for path in found:
        path.replace(folder / path.name)
    if (out / RUN_FILE).is_file():
        shutil.copy2(out / RUN_FILE, folder / RUN_FILE)
    return folder


CHECK_COLUMNS = [
    "quote_id", "source", "quote_text", "attributed_to", "verdict", "confidence", "strength",
    "recording", "start_s", "end_s", "speaker", "heard_text", "differences", "omitted_text", "context_before",
    "context_after", "line_id", "attribution_ok", "splice_gap_s", "listen_start_s",
    "listen_end_s", "review_rank", "reasons", *CALL_COLUMNS,
]
QUOTE_WORD_COLUMNS = [
    "quote_id", "recording", "word_index", "word", "status", "start_s", "end_s", "probability", "heard",
]


def quotes_frame(checks, transcripts: Iterable[Transcript] = ()):
    """One row per checked quote, columns ``CHECK_COLUMNS``; lists joined with `` | ``.

    ``transcripts`` (the batch's) give each located quote its call's columns (wall-clock
    times, talkgroup, the unit keyed up at its start); without them those are blank.
    """
    import pandas as pd

    calls = {t.recording: t.call for t in transcripts}

    rows = [
        {
            "quote_id": c.quote.quote_id,
            "source": c.quote.source,
            "quote_text": c.quote.text,
            "attributed_to": c.quote.attributed_to,
            "verdict": c.verdict.value,
            "confidence": c.confidence,
            "strength": c.strength,
            "recording": c.recording,
            "start_s": c.start_s,
            "end_s": c.end_s,
            "speaker": c.speaker,
            "heard_text": c.heard_text,
            "differences": " | ".join(c.differences),
            "omitted_text": c.omitted_text,
            "context_before": c.context_before,
            "context_after": c.context_after,
            "line_id": c.line_id,
            "attribution_ok": "" if c.attribution_ok is None else c.attribution_ok,
            "splice_gap_s": c.splice_gap_s,
            "listen_start_s": c.listen_start_s,
            "listen_end_s": c.listen_end_s,
            "review_rank": c.review_rank,
            "reasons": " | ".join(c.reasons),
            **call_fields(calls.get(c.recording), c.start_s, c.end_s),
        }
        for c in checks
    ]
    frame = pd.DataFrame(rows, columns=CHECK_COLUMNS)
    frame["review_rank"] = frame["review_rank"].astype("Int64")  # whole numbers, blank where none
    return _calls_typed(frame)


CALL_TABLE_COLUMNS = [
    "recording", "source", "started_at", "ended_at", "system", "talkgroup", "talkgroup_tag",
    "talkgroup_description", "talkgroup_group", "freq", "emergency", "encrypted", "transcribed",
    "units", "notes",
]


def calls_frame(calls):
    """One row per call (``calls.csv``), columns ``CALL_TABLE_COLUMNS``: encrypted calls are
    listed here and not transcribed; ``units`` lists who keyed up (``ID tag`` joined with
    `` | ``), ``notes`` what was wrong with the metadata."""
    import pandas as pd

    from pipeline.calls import iso

    rows = [
        {
            "recording": c.recording,
            "source": c.source.value,
            "started_at": iso(c.started_at),
            "ended_at": iso(c.at(c.duration)) if c.duration is not None else "",
            "system": c.system,
            "talkgroup": c.talkgroup,
            "talkgroup_tag": c.talkgroup_tag,
            "talkgroup_description": c.talkgroup_description,
            "talkgroup_group": c.talkgroup_group,
            "freq": c.freq,
            "emergency": c.emergency,
            "encrypted": c.encrypted,
            "transcribed": not c.encrypted,
            "units": " | ".join(dict.fromkeys(f"{u.unit} {u.tag}".strip() for u in c.units
                                              if u.unit)),
            "notes": " | ".join(c.notes),
        }
        for c in calls
    ]
    return pd.DataFrame(rows, columns=CALL_TABLE_COLUMNS)


def quote_words_frame(checks):
    """One row per word of each checked quote, columns ``QUOTE_WORD_COLUMNS`` (``recording``
    is where the quote was located, so a word's times can be read alone)."""
    from dataclasses import asdict

    import pandas as pd

    rows = [{**asdict(w), "status": w.status.value, "recording": c.recording}
            for c in checks for w in c.words]
    return pd.DataFrame(rows, columns=QUOTE_WORD_COLUMNS)


def quote_table_frame(rows: list[dict]):
    """The reviewable quotes table (``dispatch quotes``) as a frame."""
    import pandas as pd

    return pd.DataFrame(rows)
