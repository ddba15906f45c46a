"""The workspace: a SQLite file in the output directory that remembers finished work.

Every recording's transcript is stored under a key made of the audio's content
hash, the model, the engine and the options that shape the result. A re-run with
the same key transcribes nothing again, and a batch killed midway resumes where
it stopped: each transcript is committed the moment it is finished, in one
transaction, so nothing finished is lost or stored twice.

Failures (files that could not be decoded) are recorded with their reason, and other
stages keep bytes under their own keys (:func:`cache_key`), such as voice embeddings.
This module knows nothing of engines or audio: it stores records. ``file_sha256`` is
:func:`pipeline.models.file_sha256`, named here for callers that key recordings.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from pipeline.models import file_sha256
from pipeline.records import Failure, Segment, Transcript, Transmission, Word

__all__ = [
    "FILENAME", "Workspace", "cache_key", "file_sha256", "transcript_from_json", "transcript_key",
    "transcript_to_json",
]

FILENAME = "workspace.sqlite"

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
"""


def cache_key(*parts) -> str:
    """A workspace key: the SHA-256 of the parts as JSON (every input that shapes the value)."""
    blob = json.dumps(list(parts), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def transcript_key(sha256: str, model: str, engine: str, options: dict) -> str:
    """The cache key of a transcript: audio hash, model, engine and options."""
    return cache_key(sha256, model, engine, options)


class Workspace:
    """A SQLite store of transcripts and batch state.

    Args:
        out_dir: The output directory; the database is ``out_dir/workspace.sqlite``.
    """

    def __init__(self, out_dir: str | Path):
        self.path = Path(out_dir) / FILENAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path)
        self.db.executescript(_SCHEMA)
        self.db.execute("PRAGMA journal_mode=WAL")

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get(self, key: str) -> Transcript | None:
        """The stored transcript for a key, or None."""
        row = self.db.execute("SELECT data FROM transcripts WHERE key = ?", (key,)).fetchone()
        return transcript_from_json(row[0]) if row else None

    def put(self, key: str, transcript: Transcript, options: dict) -> None:
        """Store a finished transcript and mark its recording done, atomically."""
        with self.db:
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
            self._mark(transcript.recording, key, "done", "")

    def mark_done(self, recording: str, key: str) -> None:
        """Record that a recording's transcript (already stored) belongs to this batch."""
        with self.db:
            self._mark(recording, key, "done", "")

    def mark_failed(self, failure: Failure) -> None:
        """Record a recording that could not be processed, with its reason."""
        with self.db:
            self._mark(failure.recording, None, "failed", failure.reason)

    def _mark(self, recording: str, key: str | None, status: str, reason: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO recordings (recording, key, status, reason) VALUES (?, ?, ?, ?)",
            (recording, key, status, reason),
        )

    def failures(self) -> list[Failure]:
        """Recordings whose last attempt failed."""
        rows = self.db.execute(
            "SELECT recording, reason FROM recordings WHERE status = 'failed' ORDER BY recording"
        )
        return [Failure(recording=r, reason=why) for r, why in rows]

    def transcripts(self) -> Iterator[Transcript]:
        """Every transcript of a recording whose last attempt succeeded, by recording path."""
        rows = self.db.execute(
            "SELECT t.data FROM recordings r JOIN transcripts t ON t.key = r.key"
            " WHERE r.status = 'done' ORDER BY r.recording"
        )
        for (data,) in rows:
            yield transcript_from_json(data)

    def update_speakers(self, transcript: Transcript) -> None:
        """Rewrite the stored transcripts of a recording after speaker labelling."""
        with self.db:
            self.db.execute(
                "UPDATE transcripts SET data = ? WHERE key IN"
                " (SELECT key FROM recordings WHERE recording = ?)",
                (transcript_to_json(transcript), transcript.recording),
            )

    def put_blob(self, key: str, data: bytes) -> None:
        """Store bytes (e.g. voice embeddings) under a key."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO blobs (key, data) VALUES (?, ?)", (key, data))

    def get_blob(self, key: str) -> bytes | None:
        """Bytes stored under a key, or None."""
        row = self.db.execute("SELECT data FROM blobs WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None


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
