"""Many recordings: find them, skip finished work, transcribe the rest, record failures.

Each recording is decoded once, transcribed, and committed to the workspace the
moment it is done, so a killed batch resumes where it stopped. A file that cannot
be decoded is recorded with its reason and the batch goes on. With ``jobs > 1``
recordings are spread over worker processes, each of which loads the model once.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import audio
from pipeline.records import Failure, Transcript
from pipeline.transcribe import TranscribeOptions, transcribe_file
from pipeline.workspace import Workspace, file_sha256, transcript_key

log = logging.getLogger(__name__)

AUDIO_EXTENSIONS = frozenset(
    ".wav .mp3 .m4a .aac .flac .ogg .oga .opus .webm .wma .amr .mp4 .mka .aiff .aif .au".split()
)


@dataclass
class Job:
    """One recording to process."""

    recording: str
    """The path as the user gave it (or as found under a folder the user gave)."""
    sha256: str
    """Content hash of the file."""
    key: str
    """Workspace key: hash, model, engine and options."""


@dataclass
class BatchSummary:
    """What a batch did."""

    transcripts: list[Transcript] = field(default_factory=list)
    """Transcripts of every recording that succeeded, new and cached, in path order."""
    failures: list[Failure] = field(default_factory=list)
    """Recordings that could not be processed, with reasons."""
    transcribed: int = 0
    """Recordings transcribed in this run."""
    cached: int = 0
    """Recordings whose transcript was already in the workspace."""
    seconds: float = 0.0
    """Wall-clock time of the run."""

    @property
    def audio_hours(self) -> float:
        """Hours of audio in the successful recordings."""
        return sum(t.duration for t in self.transcripts) / 3600

    @property
    def speech_hours(self) -> float:
        """Hours of audio inside transmissions."""
        return sum(t.speech_seconds for t in self.transcripts) / 3600


def find_recordings(paths: Iterable[str | Path]) -> list[str]:
    """Audio files named directly or found (recursively) under folders, in a stable order.

    A file named directly is taken whatever its extension, so a broken file is
    reported rather than silently ignored; inside folders only audio extensions count.

    Raises:
        FileNotFoundError: A path does not exist.
    """
    found: list[str] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found += sorted(
                str(p) for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS
            )
        elif path.is_file():
            found.append(str(given))
        else:
            raise FileNotFoundError(f"no such file or folder: {given}")
    return list(dict.fromkeys(found))


def plan(recordings: list[str], options: TranscribeOptions) -> list[Job]:
    """Hash every recording and compute its workspace key."""
    fingerprint = options.fingerprint()
    jobs = []
    for rec in recordings:
        sha = file_sha256(rec)
        jobs.append(Job(rec, sha, transcript_key(sha, options.model, options.engine, fingerprint)))
    return jobs


def run_batch(
    paths: Iterable[str | Path],
    options: TranscribeOptions,
    workspace: Workspace,
    jobs: int = 1,
    threads: int = 0,
    progress: bool = False,
    engine=None,
) -> BatchSummary:
    """Transcribe every recording under ``paths`` that the workspace lacks.

    Args:
        paths: Files and folders.
        options: Transcription options.
        workspace: Where transcripts and failures are stored.
        jobs: Worker processes (each loads the model once).
        threads: CPU threads per engine (0: the engine's default).
        progress: Show a progress bar on stderr.
        engine: An engine already loaded (then ``jobs`` is ignored and work stays
            in this process); by default each worker loads ``options.model``.

    Returns:
        A summary with every successful transcript and every failure.
    """
    started = time.perf_counter()
    summary = BatchSummary()
    todo = []
    for job in plan(find_recordings(paths), options):
        if workspace.get(job.key) is not None:
            workspace.mark_done(job.recording, job.key)
            summary.cached += 1
        else:
            todo.append(job)
    for job, result in _run(todo, options, jobs, threads, progress, engine):
        if isinstance(result, Failure):
            log.warning("skipped %s: %s", result.recording, result.reason)
            workspace.mark_failed(result)
        else:
            workspace.put(job.key, result, options.fingerprint())
            summary.transcribed += 1
    order = {rec: n for n, rec in enumerate(find_recordings(paths))}
    summary.transcripts = sorted(
        (t for t in workspace.transcripts() if t.recording in order), key=lambda t: order[t.recording]
    )
    summary.failures = [f for f in workspace.failures() if f.recording in order]
    summary.seconds = time.perf_counter() - started
    return summary


def _run(todo: list[Job], options, jobs: int, threads: int, progress: bool, engine) -> Iterator:
    """Yield ``(job, Transcript | Failure)`` as recordings finish."""
    from tqdm import tqdm

    bar = tqdm(total=len(todo), unit="rec", desc="transcribing", disable=not progress or not todo)
    parallel = engine is None and jobs > 1 and len(todo) > 1
    if not parallel:
        _init_worker(options, threads, engine)
        results = map(_work, todo)
    else:
        per_job_threads = threads or max(1, (os.cpu_count() or 1) // jobs)
        pool = ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(options, per_job_threads))
        results = pool.map(_work, todo)
    try:
        for job, result in zip(todo, results):
            bar.update(1)
            yield job, result
    finally:
        bar.close()
        if parallel:
            pool.shutdown(cancel_futures=True)


_ENGINE = None
_OPTIONS: TranscribeOptions | None = None


def _init_worker(options: TranscribeOptions, threads: int, engine=None) -> None:
    """Set the process's engine: the one given, or loaded once per model and engine."""
    from pipeline.engines import load_engine

    global _ENGINE, _OPTIONS
    if engine is not None:
        _ENGINE = engine
    elif _ENGINE is None or (_ENGINE.name, _ENGINE.model) != (options.engine, options.model):
        _ENGINE = load_engine(options.model, options.engine, threads=threads)
    _OPTIONS = options


def _work(job: Job) -> Transcript | Failure:
    """Decode and transcribe one recording; a bad file becomes a ``Failure``."""
    try:
        samples = audio.load_audio(job.recording)
        return transcribe_file(job.recording, samples, job.sha256, _ENGINE, _OPTIONS)
    except audio.AudioError as e:
        return Failure(job.recording, str(e))
    except Exception as e:  # one bad recording must not sink a batch of a thousand
        log.exception("failed on %s", job.recording)
        return Failure(job.recording, f"internal error while transcribing: {e!r}")
