"""The workspace: a SQLite file in the output directory that remembers finished work.

Every recording's transcript is stored under a key made of the audio's content
hash, the model, the engine and the options that shape the result. A re-run with
the same key transcribes nothing again, and a batch killed midway resumes where
it stopped: each transcript is committed the moment it is finished, in one
transaction, so nothing finished is lost or stored twice.

A transcript belongs to content, not to a path: a recording is a path the user gave,
pointing at a transcript key. Each run records which recordings it was given, in order
(``runs`` and ``run_recordings``), so a run's tables and ``dispatch export`` hold exactly
that run's recordings, each once, under its own path, even when two files have the same
bytes or a file was renamed (its transcript is reused and shown under the new path).
Speaker labels are kept per recording, since two paths with the same bytes may be
labelled differently (a trunk-recorder file beside one of them).

Failures (files that could not be decoded) are recorded with their reason, and other
stages keep bytes under their own keys (:func:`cache_key`), such as voice embeddings.
One process writes a workspace at a time (:func:`locked`, an operating-system lock the
kernel releases when its holder dies). This module knows nothing of engines or audio:
it stores records. ``file_sha256`` is :func:`pipeline.models.file_sha256`, named here
for callers that key recordings.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.files import OutputError, output_errors
from pipeline.models import file_sha256
from pipeline.records import Failure, Segment, Transcript, Transmission, Word

__all__ = [
    "FILENAME", "LOCKNAME", "Run", "SegmentHit", "Workspace", "WorkspaceLocked", "cache_key",
    "file_sha256", "locked", "search_terms", "transcript_from_json", "transcript_key",
    "transcript_to_json",
]

log = logging.getLogger(__name__)

FILENAME = "workspace.sqlite"
LOCKNAME = "workspace.lock"
"""The lock file beside the workspace; it holds the PID of the process writing it."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS transcripts (
    key TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    model TEXT NOT NULL,
    engine TEXT NOT NULL,
    options TEXT NOT NULL,
    recording TEXT NOT NULL,
    data TEXT NOT NULL,
    created TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS recordings (
    recording TEXT PRIMARY KEY,
    key TEXT,
    status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    reason TEXT NOT NULL DEFAULT '',
    updated TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS blobs (
    key TEXT PRIMARY KEY,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    root TEXT NOT NULL,
    started TEXT NOT NULL DEFAULT (datetime('now')),
    finished TEXT
);
CREATE TABLE IF NOT EXISTS run_recordings (
    run INTEGER NOT NULL REFERENCES runs (id),
    position INTEGER NOT NULL,
    recording TEXT NOT NULL,
    PRIMARY KEY (run, recording)
);
"""


_SEARCH_SCHEMA = """
CREATE VIRTUAL TABLE segment_search USING fts5(
    terms, key UNINDEXED, segment UNINDEXED, start UNINDEXED, end UNINDEXED, speaker UNINDEXED,
    text UNINDEXED
);
"""
"""Full-text search over every stored segment: ``terms`` are its words normalised as quotes
are located (:func:`search_terms`); ``segment`` is its position in the transcript."""


def search_terms(words: Sequence[str]) -> str:
    """Words normalised as quote locating normalises them, fillers left out, space-joined:
    what the search index holds and what a query is matched as.

    >>> search_terms(["Ten-four,", "uh,", "Shots", "FIRED", "at", "3:05"])
    '10 4 shots fired at 3 0 5'
    """
    from pipeline.text import FILLERS, tokens_from_strings

    return " ".join(t.text for t in tokens_from_strings(words) if t.text not in FILLERS)


def _segment_terms(segment: Segment) -> str:
    words = [w.word.strip() for w in segment.words] or segment.text.split()
    return search_terms(words)


@dataclass(frozen=True)
class SegmentHit:
    """A stored segment whose words match a search, under one recording that holds it."""

    recording: str
    """The recording's path as it was given."""
    segment: int
    """The segment's position in the transcript."""
    start: float
    """Start, seconds into the recording."""
    end: float
    """End, seconds into the recording."""
    speaker: str
    """The speaker label kept for this recording (else the transcript's own)."""
    text: str
    """The segment's text as recognised."""


def cache_key(*parts) -> str:
    """A workspace key: the SHA-256 of the parts as JSON (every input that shapes the value)."""
    blob = json.dumps(list(parts), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def transcript_key(sha256: str, model: str, engine: str, options: dict) -> str:
    """The cache key of a transcript: audio hash, model, engine and options."""
    return cache_key(sha256, model, engine, options)


@dataclass(frozen=True)
class Run:
    """One batch the workspace was given."""

    id: int
    """Run number, increasing."""
    root: str
    """The working folder the run's relative recording paths start from."""
    started: str
    """When it started (UTC, SQLite's ``datetime('now')``)."""
    finished: str | None
    """When its batch finished, or None if it was stopped before."""
    recordings: int
    """How many recordings it was given."""


class Workspace:
    """A SQLite store of transcripts and batch state.

    Args:
        out_dir: The output directory; the database is ``out_dir/workspace.sqlite``.

    Raises:
        pipeline.files.OutputError: The folder cannot be written or holds no workspace.
    """

    def __init__(self, out_dir: str | Path):
        self.path = Path(out_dir) / FILENAME
        with output_errors(out_dir):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path)
            self.db.executescript(_SCHEMA)
            self.db.execute("PRAGMA journal_mode=WAL")
            self._ensure_search_index()
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(recordings)")}
            if "speakers" not in columns:  # a workspace from before labels were kept per path
                self.db.execute("ALTER TABLE recordings ADD COLUMN speakers TEXT")

    def _ensure_search_index(self) -> None:
        """Create the search index, filling it from the stored transcripts (a workspace
        from before it was kept)."""
        exists = self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'segment_search'").fetchone()
        if exists:
            return
        with self.db:
            self.db.executescript(_SEARCH_SCHEMA)
            for key, data in self.db.execute("SELECT key, data FROM transcripts").fetchall():
                self._index(key, transcript_from_json(data))

    def _index(self, key: str, transcript: Transcript) -> None:
        """Keep a transcript's segments in the search index (replacing what it held)."""
        self.db.execute("DELETE FROM segment_search WHERE key = ?", (key,))
        self.db.executemany(
            "INSERT INTO segment_search (terms, key, segment, start, end, speaker, text)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(_segment_terms(s), key, n, s.start, s.end, s.speaker, " ".join(s.text.split()))
             for n, s in enumerate(transcript.segments)],
        )

    def search(self, terms: str, limit: int = 1000) -> list[SegmentHit]:
        """Segments of every recording whose words hold ``terms`` as a phrase, in
        recording order then time.

        Args:
            terms: Normalised words (:func:`search_terms`).
            limit: Most segments returned.
        """
        if not terms.strip():
            return []
        phrase = '"' + terms.replace('"', '""') + '"'
        rows = self.db.execute(
            "SELECT r.recording, r.speakers, s.segment, s.start, s.end, s.speaker, s.text"
            " FROM segment_search s JOIN recordings r ON r.key = s.key AND r.status = 'done'"
            " WHERE segment_search MATCH ? ORDER BY r.recording, s.start LIMIT ?", (phrase, limit))
        hits = []
        for recording, labels, segment, start, end, speaker, text in rows:
            kept = json.loads(labels) if labels else []
            label = kept[segment] if segment < len(kept) else speaker
            hits.append(SegmentHit(recording, segment, start, end, label or "", text))
        return hits

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One committed transaction; a full or read-only disk becomes an ``OutputError``."""
        with output_errors(self.path.parent), self.db:
            yield

    def get(self, key: str) -> Transcript | None:
        """The stored transcript for a key, or None (its path is the one it was made from)."""
        row = self.db.execute("SELECT data FROM transcripts WHERE key = ?", (key,)).fetchone()
        return transcript_from_json(row[0]) if row else None

    def has(self, key: str) -> bool:
        """Whether a transcript is stored under a key."""
        return self.db.execute("SELECT 1 FROM transcripts WHERE key = ?", (key,)).fetchone() is not None

    def put(self, key: str, transcript: Transcript, options: dict) -> None:
        """Store a finished transcript and mark its recording done, atomically."""
        with self._transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO transcripts (key, sha256, model, engine, options, recording,"
                " data) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    transcript.sha256,
                    transcript.model,
                    transcript.engine,
                    json.dumps(options, sort_keys=True, default=str),
                    transcript.recording,
                    transcript_to_json(transcript),
                ),
            )
            self._index(key, transcript)
            self._mark(transcript.recording, key, "done", "")

    def mark_done(self, recording: str, key: str) -> None:
        """Record that a recording's transcript (already stored, maybe made from a file of
        the same bytes under another path) is ``key``."""
        with self._transaction():
            self._mark(recording, key, "done", "")

    def mark_failed(self, failure: Failure) -> None:
        """Record a recording that could not be processed, with its reason."""
        with self._transaction():
            self._mark(failure.recording, None, "failed", failure.reason)

    def _mark(self, recording: str, key: str | None, status: str, reason: str) -> None:
        """Point a recording at a transcript; its speaker labels stay while the key does."""
        self.db.execute(
            "INSERT INTO recordings (recording, key, status, reason) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (recording) DO UPDATE SET key = excluded.key, status = excluded.status,"
            " reason = excluded.reason, updated = excluded.updated,"
            " speakers = CASE WHEN recordings.key IS excluded.key THEN recordings.speakers END",
            (recording, key, status, reason),
        )

    def begin_run(self, recordings: Sequence[str]) -> int:
        """Start a run given these recordings (in this order); returns its number."""
        with self._transaction():
            run = self.db.execute("INSERT INTO runs (root) VALUES (?)", (os.getcwd(),)).lastrowid
            self.db.executemany(
                "INSERT OR IGNORE INTO run_recordings (run, position, recording) VALUES (?, ?, ?)",
                [(run, n, rec) for n, rec in enumerate(recordings)],
            )
        return run

    def run_recordings(self, run: int) -> list[str]:
        """The recordings a run was given, in order, under the names it gave them."""
        rows = self.db.execute("SELECT recording FROM run_recordings WHERE run = ? ORDER BY position",
                               (run,))
        return [r for (r,) in rows]

    def finish_run(self, run: int) -> None:
        """Record that a run's batch finished (every recording done or failed)."""
        with self._transaction():
            self.db.execute("UPDATE runs SET finished = datetime('now') WHERE id = ?", (run,))

    def runs(self) -> list[Run]:
        """Every run, oldest first."""
        rows = self.db.execute(
            "SELECT r.id, r.root, r.started, r.finished, count(m.recording) FROM runs r"
            " LEFT JOIN run_recordings m ON m.run = r.id GROUP BY r.id ORDER BY r.id"
        )
        return [Run(*row) for row in rows]

    def last_run(self) -> Run | None:
        """The run tables are exported from: the last finished one, else the last started,
        else None (a workspace from before runs were kept)."""
        runs = self.runs()
        finished = [r for r in runs if r.finished]
        return (finished or runs or [None])[-1]

    def _run_id(self, run: int | None) -> int | None:
        if run is not None:
            return run
        last = self.last_run()
        return last.id if last else None

    def failures(self, run: int | None = None) -> list[Failure]:
        """Recordings of a run (default: :meth:`last_run`) whose last attempt failed."""
        run = self._run_id(run)
        if run is None:
            rows = self.db.execute(
                "SELECT recording, reason FROM recordings WHERE status = 'failed' ORDER BY recording"
            )
        else:
            rows = self.db.execute(
                "SELECT r.recording, r.reason FROM run_recordings m"
                " JOIN recordings r ON r.recording = m.recording"
                " WHERE m.run = ? AND r.status = 'failed' ORDER BY m.position", (run,)
            )
        return [Failure(recording=r, reason=why) for r, why in rows]

    def transcripts(self, run: int | None = None) -> Iterator[Transcript]:
        """The transcripts of a run's recordings (default: :meth:`last_run`), in the order
        it was given them, each under its own path with its own speaker labels.

        A workspace without runs lists every recording whose last attempt succeeded, by path.
        """
        run = self._run_id(run)
        if run is None:
            rows = self.db.execute(
                "SELECT r.recording, r.speakers, t.data FROM recordings r"
                " JOIN transcripts t ON t.key = r.key WHERE r.status = 'done' ORDER BY r.recording"
            )
        else:
            rows = self.db.execute(
                "SELECT r.recording, r.speakers, t.data FROM run_recordings m"
                " JOIN recordings r ON r.recording = m.recording JOIN transcripts t ON t.key = r.key"
                " WHERE m.run = ? AND r.status = 'done' ORDER BY m.position", (run,)
            )
        for recording, speakers, data in rows:
            yield _as_recording(transcript_from_json(data), recording, speakers)

    def update_speakers(self, transcript: Transcript) -> None:
        """Keep the speaker labels of a recording's segments (for its path only)."""
        labels = json.dumps([s.speaker for s in transcript.segments])
        with self._transaction():
            self.db.execute("UPDATE recordings SET speakers = ? WHERE recording = ?",
                            (labels, transcript.recording))

    def put_blob(self, key: str, data: bytes) -> None:
        """Store bytes (e.g. voice embeddings) under a key."""
        with self._transaction():
            self.db.execute("INSERT OR REPLACE INTO blobs (key, data) VALUES (?, ?)", (key, data))

    def get_blob(self, key: str) -> bytes | None:
        """Bytes stored under a key, or None."""
        row = self.db.execute("SELECT data FROM blobs WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None


def _as_recording(transcript: Transcript, recording: str, speakers: str | None) -> Transcript:
    """A content's transcript shown as one recording: its path, and its speaker labels
    when they were kept for it."""
    transcript.recording = recording
    labels = json.loads(speakers) if speakers else None
    if labels is not None and len(labels) == len(transcript.segments):
        for segment, label in zip(transcript.segments, labels):
            segment.speaker = label
    return transcript


class WorkspaceLocked(OutputError):
    """Another process is writing the workspace."""


_HELD: dict[str, list] = {}
"""Locks this process holds: lock file -> [descriptor, depth], so holding is re-entrant."""


@contextlib.contextmanager
def locked(out_dir: str | Path, wait: bool = False) -> Iterator[None]:
    """Hold the workspace in ``out_dir`` for writing, as its one writer.

    The lock is the operating system's (``flock``) on ``out_dir/workspace.lock``, so
    the kernel releases it when the holder exits or is killed; the file keeps the
    holder's PID for the message another process shows. A process may take it again
    while it holds it.

    Args:
        out_dir: The output folder (created if missing).
        wait: Wait for the other process instead of refusing.

    Raises:
        WorkspaceLocked: Another process holds it (and ``wait`` is False).
        pipeline.files.OutputError: The folder cannot be written.
    """
    path = os.path.abspath(Path(out_dir) / LOCKNAME)
    if path in _HELD:
        _HELD[path][1] += 1
        try:
            yield
        finally:
            _HELD[path][1] -= 1
        return
    fd = _acquire(out_dir, path, wait)
    _HELD[path] = [fd, 1]
    try:
        yield
    finally:
        del _HELD[path]
        _release(fd)


def _acquire(out_dir: str | Path, path: str, wait: bool) -> int | None:
    """Open the lock file and lock it; None where the system has no ``flock``."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: one writer is the user's care
        return None
    with output_errors(out_dir):
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise WorkspaceLocked(
            f"{str(out_dir).rstrip('/')}/ is in use by another dispatch process (PID {holder}): "
            "wait for it to finish, or give another --out") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _release(fd: int | None) -> None:
    if fd is None:
        return
    import fcntl

    os.ftruncate(fd, 0)
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def transcript_to_json(transcript: Transcript) -> str:
    """Serialise a transcript to JSON."""
    return json.dumps(dataclasses.asdict(transcript), separators=(",", ":"))


def transcript_from_json(data: str) -> Transcript:
    """Rebuild a transcript from its JSON."""
    raw = json.loads(data)
    segments = [
        Segment(**{**s, "words": [Word(**w) for w in s["words"]]}) for s in raw.pop("segments")
    ]
    transmissions = [Transmission(**t) for t in raw.pop("transmissions")]
    return Transcript(**raw, segments=segments, transmissions=transmissions)
