"""Reviewers' decisions, kept in the workspace, and their flow back into ``quotes.csv``.

Decisions live in their own table, ``review_decisions``, of the results folder's
``workspace.sqlite``, one row per decision, never updated nor deleted: the latest
row for a quote is its decision, the earlier ones its history. Each row carries the
quote's fingerprint (its normalised text, source, the recording's SHA-256 and the
span), so a re-run of ``verify`` keeps every decision whose quote and span are
unchanged and shows the others as ``stale``, for a second look; none is dropped.

Two tabs on one workspace do not overwrite each other silently: a save names the
decision the page last saw, and a save over a newer one is refused
(:class:`Conflict`) until the page has shown it.
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import json
import logging
import os
import sqlite3
import tempfile
import threading
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path

from pipeline.errors import DispatchError
from pipeline.records import Verdict

log = logging.getLogger(__name__)

REVIEW_COLUMNS = ["review_verdict", "reviewer", "reviewed_at", "review_note", "final_verdict",
                  "verdict_source"]
"""Columns the review adds to ``quotes.csv``."""

STALE = "stale"
"""``review_verdict`` of a decision made on another version of the quote or span."""

CHOICES = (
    (Verdict.VERBATIM, "verbatim"),
    (Verdict.MINOR, "minor"),
    (Verdict.MISQUOTE, "misquote"),
    (Verdict.NOT_FOUND, "not in the audio"),
    (Verdict.UNVERIFIABLE, "cannot tell"),
)
"""What a reviewer can decide, in key order (keys 1-5), with the button's words."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS review_decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    quote_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    verdict TEXT NOT NULL,
    heard TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    reviewer TEXT NOT NULL,
    reviewed_at TEXT NOT NULL,
    basis TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS review_decisions_quote ON review_decisions (quote_id);
CREATE INDEX IF NOT EXISTS review_decisions_fingerprint ON review_decisions (fingerprint);
"""


class VerdictSource(str, Enum):
    """Who gave a quote's final verdict."""

    AUDIO = "audio"
    REVIEWER = "reviewer"

    def __str__(self) -> str:
        return self.value


class Conflict(DispatchError):
    """A save over a decision the page has not seen (another tab or reviewer made it)."""

    def __init__(self, current: Decision):
        super().__init__(f"{current.quote_id} was decided meanwhile by {current.reviewer} "
                         f"({current.verdict}, {current.reviewed_at})")
        self.current = current
        """The decision now in the store."""


@dataclass(frozen=True)
class Decision:
    """One reviewer's decision on one quote."""

    id: int
    """Row id: later decisions have larger ids."""
    quote_id: str
    """The quote decided."""
    fingerprint: str
    """The quote's fingerprint when it was decided (see :func:`fingerprint`)."""
    verdict: Verdict
    """What the reviewer decided."""
    heard: str
    """What the reviewer hears in the audio (optional)."""
    note: str
    """The reviewer's note (optional)."""
    reviewer: str
    """Who decided."""
    reviewed_at: str
    """When, ISO 8601 in UTC."""
    basis: str = "{}"
    """JSON of what the fingerprint was made from (text, source, recording hash, span)."""

    def as_json(self) -> dict:
        """The decision as JSON-ready values."""
        return {"id": self.id, "quote_id": self.quote_id, "verdict": str(self.verdict),
                "heard": self.heard, "note": self.note, "reviewer": self.reviewer,
                "reviewed_at": self.reviewed_at}


def normalise_text(text: str) -> str:
    """The quote text as fingerprinted: NFKC, case-folded, typographic quotes plain,
    whitespace collapsed.

    >>> normalise_text("We\u2019re  BLOCKED in.")
    "we're blocked in."
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.translate({0x2018: "'", 0x2019: "'", 0x201C: '"', 0x201D: '"', 0x2014: "-", 0x2013: "-"})
    return " ".join(text.split())


def fingerprint_basis(text: str, source: str, recording_sha256: str,
                      start_s: float | None, end_s: float | None) -> dict:
    """What a quote's fingerprint is made of (times rounded to 10 ms)."""
    span = [None if t is None else round(t, 2) for t in (start_s, end_s)]
    return {"text": normalise_text(text), "source": source, "recording_sha256": recording_sha256,
            "span": span}


def fingerprint(text: str, source: str, recording_sha256: str,
                start_s: float | None, end_s: float | None) -> str:
    """A quote's identity for keeping decisions across runs: the SHA-256 of its normalised
    text, source, the recording's hash and its span.

    Args:
        text: The quote as published.
        source: The article or table it came from.
        recording_sha256: SHA-256 of the recording it was located in ("" if none).
        start_s: Start of the located span, or None.
        end_s: End of the located span, or None.

    Returns:
        A hex digest.
    """
    return basis_fingerprint(fingerprint_basis(text, source, recording_sha256, start_s, end_s))


def default_reviewer() -> str:
    """The operating system's user name, or ``reviewer`` when it cannot be read."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "reviewer"


class DecisionStore:
    """The ``review_decisions`` table of a workspace.

    Args:
        workspace: The ``workspace.sqlite`` file (created if missing).
    """

    def __init__(self, workspace: str | Path):
        self.path = Path(workspace)
        self.db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self.db.execute("PRAGMA busy_timeout = 30000")
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def __enter__(self) -> DecisionStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def save(self, quote_id: str, basis: dict, verdict: Verdict | str, *, reviewer: str,
             heard: str = "", note: str = "", seen: int | None = None) -> Decision:
        """Record a decision, refusing to pass over one the caller has not seen.

        Args:
            quote_id: The quote decided.
            basis: Its :func:`fingerprint_basis`.
            verdict: The reviewer's verdict.
            reviewer: Who decides.
            heard: What the reviewer hears (optional).
            note: A note (optional).
            seen: Id of the latest decision the caller has seen for this quote (None: none).

        Returns:
            The stored decision.

        Raises:
            Conflict: A newer decision than ``seen`` exists for this quote.
        """
        verdict = Verdict(verdict)
        fp = basis_fingerprint(basis)
        when = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._lock, self.db:
            self.db.execute("BEGIN IMMEDIATE")
            current = self.latest(quote_id)
            if current is not None and current.id != seen:
                raise Conflict(current)
            cur = self.db.execute(
                "INSERT INTO review_decisions (quote_id, fingerprint, verdict, heard, note, reviewer,"
                " reviewed_at, basis) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (quote_id, fp, verdict.value, heard, note, reviewer, when, json.dumps(basis)),
            )
        log.info("%s decided %s on %s", reviewer, verdict, quote_id)
        return Decision(cur.lastrowid, quote_id, fp, verdict, heard, note, reviewer, when,
                        json.dumps(basis))

    def latest(self, quote_id: str) -> Decision | None:
        """The latest decision on a quote id, or None."""
        row = self.db.execute(
            "SELECT * FROM review_decisions WHERE quote_id = ? ORDER BY id DESC LIMIT 1", (quote_id,)
        ).fetchone()  # called inside save's lock, or alone
        return _decision(row) if row else None

    def history(self, quote_id: str) -> list[Decision]:
        """Every decision on a quote id, oldest first."""
        with self._lock:
            rows = self.db.execute("SELECT * FROM review_decisions WHERE quote_id = ? ORDER BY id",
                                   (quote_id,)).fetchall()
        return [_decision(r) for r in rows]

    def all_latest(self) -> tuple[dict[str, Decision], dict[str, Decision]]:
        """The latest decision per quote id and per fingerprint."""
        by_id: dict[str, Decision] = {}
        by_fp: dict[str, Decision] = {}
        with self._lock:
            rows = self.db.execute("SELECT * FROM review_decisions ORDER BY id").fetchall()
        for row in rows:
            d = _decision(row)
            by_id[d.quote_id] = d
            by_fp[d.fingerprint] = d
        return by_id, by_fp


def _decision(row) -> Decision:
    rid, quote_id, fp, verdict, heard, note, reviewer, when, basis = row
    return Decision(rid, quote_id, fp, Verdict(verdict), heard, note, reviewer, when, basis)


@dataclass(frozen=True)
class Match:
    """A quote's decision as it stands in this run."""

    decision: Decision | None
    """The decision found (None: not reviewed)."""
    stale: bool = False
    """True when it was made on another version of the quote or span."""

    @property
    def current(self) -> Decision | None:
        """The decision, when it applies to this version of the quote."""
        return None if self.stale else self.decision


def match(quote_id: str, fp: str, by_id: dict[str, Decision], by_fp: dict[str, Decision]) -> Match:
    """Find a quote's decision: by fingerprint (it applies), else by quote id (stale).

    A decision found by fingerprint follows the quote when only its id changed; one
    found only by id was made on another text or span, and needs a second look.
    """
    if fp in by_fp:
        return Match(by_fp[fp])
    if quote_id in by_id:
        return Match(by_id[quote_id], stale=True)
    return Match(None)


def review_values(audio_verdict: Verdict | str, found: Match) -> dict[str, str]:
    """The review columns of one quote.

    Args:
        audio_verdict: The verdict verify gave on the audio.
        found: The quote's decision as it stands.

    Returns:
        ``REVIEW_COLUMNS`` → cell text. A stale decision keeps its author and time, its
        verdict and note are put in ``review_note``, and the final verdict is the audio's.
    """
    d = found.decision
    if d is None:
        return {"review_verdict": "", "reviewer": "", "reviewed_at": "", "review_note": "",
                "final_verdict": str(Verdict(audio_verdict)), "verdict_source": str(VerdictSource.AUDIO)}
    if found.stale:
        note = f"decided {d.verdict} on an earlier version of this quote or span"
        note += f"; {d.note}" if d.note else ""
        return {"review_verdict": STALE, "reviewer": d.reviewer, "reviewed_at": d.reviewed_at,
                "review_note": note, "final_verdict": str(Verdict(audio_verdict)),
                "verdict_source": str(VerdictSource.AUDIO)}
    note = d.note if not d.heard else (f"heard: {d.heard}" + (f"; {d.note}" if d.note else ""))
    return {"review_verdict": str(d.verdict), "reviewer": d.reviewer, "reviewed_at": d.reviewed_at,
            "review_note": note, "final_verdict": str(d.verdict),
            "verdict_source": str(VerdictSource.REVIEWER)}


def recording_hashes(workspace: str | Path) -> dict[str, str]:
    """SHA-256 of each recording the workspace has a transcript of, by recorded path, and by
    the path the tables beside it give it (relative to the root in ``run.json``)."""
    from pipeline.tablepaths import of_results

    path = Path(workspace)
    if not path.is_file():
        return {}
    db = sqlite3.connect(path, timeout=30)
    try:
        rows = db.execute("SELECT r.recording, t.sha256 FROM recordings r JOIN transcripts t"
                          " ON t.key = r.key WHERE r.status = 'done'").fetchall()
    except sqlite3.Error:
        rows = []
    finally:
        db.close()
    hashes = dict(rows)
    paths = of_results(path.parent)
    if paths is not None:
        for recording, sha256 in rows:
            hashes.setdefault(paths.table_path(recording), sha256)
    return hashes


def row_basis(row: dict, hashes: dict[str, str]) -> dict:
    """The fingerprint basis of a ``quotes.csv`` row (strings or numbers)."""
    def num(value):
        if value is None or value == "" or (isinstance(value, float) and value != value):
            return None
        return float(value)

    recording = row.get("recording") or ""
    if not isinstance(recording, str):  # NaN from pandas
        recording = ""
    return fingerprint_basis(_unescaped(row.get("quote_text")), _unescaped(row.get("source")),
                             hashes.get(recording, ""), num(row.get("start_s")), num(row.get("end_s")))


def _unescaped(value) -> str:
    """A cell as it was before ``export.spreadsheet_safe`` (which may have prefixed a ``'``)."""
    text = "" if value is None or not isinstance(value, str) else value
    if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        return text[1:]
    return text


def basis_fingerprint(basis: dict) -> str:
    """The fingerprint of a basis from :func:`fingerprint_basis`."""
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()


def apply_decisions(frame, workspace: str | Path):
    """Add the review columns to a quotes table before it is written.

    ``verify`` calls this on its ``quotes.csv`` frame, so a re-run keeps every decision
    whose quote and span are unchanged and marks the others ``stale``.

    Args:
        frame: A pandas DataFrame with ``quotes.csv``'s columns.
        workspace: The ``workspace.sqlite`` holding the decisions (absent: none).

    Returns:
        A copy of ``frame`` with ``REVIEW_COLUMNS`` set (replaced if present).
    """
    frame = frame.copy()
    values = review_rows(frame.to_dict("records"), workspace)
    for column in REVIEW_COLUMNS:
        frame[column] = [v[column] for v in values]
    return frame


def review_rows(rows: list[dict], workspace: str | Path) -> list[dict[str, str]]:
    """The review columns for each ``quotes.csv`` row, in order."""
    path = Path(workspace)
    if not path.is_file():
        return [review_values(r["verdict"], Match(None)) for r in rows]
    hashes = recording_hashes(path)
    with DecisionStore(path) as store:
        by_id, by_fp = store.all_latest()
    return [review_values(r["verdict"], match(str(r["quote_id"]),
                                              basis_fingerprint(row_basis(r, hashes)), by_id, by_fp))
            for r in rows]


def write_quotes_csv(path: str | Path, rows: list[dict[str, str]], columns: list[str],
                     workspace: str | Path) -> Path:
    """Rewrite ``quotes.csv`` with the review columns, atomically (temp file, then rename).

    Args:
        path: The ``quotes.csv`` to replace.
        rows: Its rows as read (strings), in file order.
        columns: Its columns as read.
        workspace: The workspace holding the decisions.

    Returns:
        The path written.
    """
    from pipeline.export import spreadsheet_safe

    path = Path(path)
    fields = [c for c in columns if c not in REVIEW_COLUMNS] + REVIEW_COLUMNS
    values = review_rows(rows, workspace)
    fd, tmp = tempfile.mkstemp(prefix=".quotes-", suffix=".csv", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
            writer.writeheader()
            for row, review in zip(rows, values):
                safe = {k: spreadsheet_safe(v) for k, v in review.items()}
                writer.writerow({**row, **safe})
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
