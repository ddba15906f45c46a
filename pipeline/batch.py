"""Many recordings: find them, skip finished work, transcribe the rest, record failures.

Each recording is decoded once, transcribed, and committed to the workspace the
moment it is done, so a killed batch resumes where it stopped. A file that cannot
be decoded is recorded with its reason and the batch goes on. With ``jobs > 1``
recordings are spread over worker processes, each of which loads the model once.

When the batch will be labelled with speakers, the worker that decoded a recording
also embeds the voices of its speech (``speakers.embed_voices``) and the workspace
stores them, so ``speakers.label_speakers`` clusters the batch from stored embeddings
and decodes nothing again. Nothing holds a batch's audio in memory, except an
``AudioCache`` of a few recordings when the caller gives one (``verify`` does, to cut
quote windows from the samples decoded for transcription; worker processes of
``jobs > 1`` cannot share it). :func:`transcribe_paths` is the whole workflow of
``dispatch transcribe``: the batch, its speakers, and the tables.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import audio
from pipeline.calls import CallOptions, from_file_name
from pipeline.executors import (
    ClusterSpec,
    DaskExecutor,
    Executor,
    InProcessExecutor,
    PoolExecutor,
    decode_shipped,
)
from pipeline.files import atomic_path, output_errors
from pipeline.progress import bar as progress_bar
from pipeline.progress import listening, stage
from pipeline.records import CallInfo, Failure, Speaker, Transcript
from pipeline.speakers import SpeakerOptions, SpeakerSettings, Voices, embed_voices, store_voices
from pipeline.tablepaths import TablePaths
from pipeline.transcribe import Recording, TranscribeOptions, transcribe_many
from pipeline.workspace import Workspace, file_sha256, locked, transcript_key

__all__ = ["AudioCache", "BatchSummary", "find_recordings", "recording_name", "run_batch",
           "transcribe_paths"]

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
    """Recordings whose transcript was already in the workspace (made for these bytes under
    any name, or earlier in this run for a file with the same bytes)."""
    seconds: float = 0.0
    """Wall-clock time of the run."""
    speakers: list[Speaker] = field(default_factory=list)
    """Who speaks in the batch, with roles (empty when speakers were not labelled)."""
    tables: list[Path] = field(default_factory=list)
    """The tables written (segments.csv, words.csv), when :func:`transcribe_paths` wrote them."""
    table_paths: TablePaths | None = None
    """How the tables name the recordings (relative to the run's root, in ``run.json``), when
    :func:`transcribe_paths` wrote them."""
    calls: list[CallInfo] = field(default_factory=list)
    """Call metadata of the recordings that have any (encrypted calls, never transcribed,
    included), when :func:`transcribe_paths` read it."""

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
    Each file is named once, however it was spelled (:func:`recording_name`).

    Raises:
        FileNotFoundError: A path does not exist.
    """
    found: list[str] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found += sorted(
                recording_name(p) for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS
            )
        elif path.is_file():
            found.append(recording_name(given))
        else:
            raise FileNotFoundError(f"no such file or folder: {given}")
    return list(dict.fromkeys(found))


def recording_name(path: str | Path) -> str:
    """The one name of a recording file: relative to the current folder when under it,
    else absolute; ``./calls/a.wav``, ``calls/a.wav`` and its absolute path are one name.

    >>> import os
    >>> recording_name("./calls/../calls/a.wav") == recording_name(os.path.abspath("calls/a.wav"))
    True
    """
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, os.getcwd())
    return absolute if relative == os.pardir or relative.startswith(os.pardir + os.sep) else relative


def plan(recordings: list[str], options: TranscribeOptions) -> list[Job | Failure]:
    """Hash every recording and compute its workspace key; a file that cannot be read
    becomes a ``Failure``."""
    fingerprint = options.fingerprint()
    jobs: list[Job | Failure] = []
    for rec in recordings:
        try:
            sha = file_sha256(rec)
        except OSError as e:
            jobs.append(Failure(rec, f"cannot be read: {e.strerror or e}"))
            continue
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
    speakers: SpeakerOptions | None = None,
    samples_for: AudioCache | None = None,
    cluster: ClusterSpec | None = None,
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
        speakers: Speaker options when the batch will be labelled
            (``speakers.label_speakers``): each worker then embeds the voices of the
            recordings it decodes, and the workspace keeps them.
        samples_for: Decodes a recording for transcription when the work stays in
            this process (an ``AudioCache``, so a later stage, such as ``verify``
            cutting quote windows, reuses the samples instead of decoding again);
            worker processes decode with ``audio.load_audio``.
        cluster: Run on this Dask cluster instead (``jobs`` is then ignored; an
            ``engine`` given is sent to every worker, so it must pickle).

    Returns:
        A summary of this run: every recording it was given, once each, under the name
        :func:`find_recordings` gives it, transcript or failure. A recording whose bytes
        are already transcribed (under any name) is not transcribed again, nor is a second
        file with the same bytes in one batch.

    Raises:
        pipeline.executors.ClusterError: The cluster's scheduler cannot be reached.
    """
    started = time.perf_counter()
    summary = BatchSummary()
    recordings = find_recordings(paths)
    run = workspace.begin_run(recordings)
    todo, twins = _split_planned(plan(recordings, options), workspace, summary)
    for job, result in _run(todo, options, jobs, threads, progress, engine, speakers, samples_for,
                            cluster):
        if isinstance(result, Failure):
            _record_failure(workspace, result, twins[job.key])
            continue
        transcript, voices = result
        if voices is not None:
            store_voices(workspace, transcript, speakers, voices)
        workspace.put(job.key, transcript, options.fingerprint())
        summary.transcribed += 1
        for twin in twins[job.key]:
            workspace.mark_done(twin.recording, job.key)
            summary.cached += 1
    summary.transcripts = list(workspace.transcripts(run))
    summary.failures = workspace.failures(run)
    workspace.finish_run(run)
    summary.seconds = time.perf_counter() - started
    return summary


def _split_planned(planned: list[Job | Failure], workspace: Workspace,
                   summary: BatchSummary) -> tuple[list[Job], dict[str, list[Job]]]:
    """Jobs to transcribe, and for each the later jobs with the same bytes (done with it);
    recordings already transcribed are marked done, unreadable ones failed."""
    todo: list[Job] = []
    twins: dict[str, list[Job]] = {}
    for job in planned:
        if isinstance(job, Failure):
            _record_failure(workspace, job, [])
        elif workspace.has(job.key):
            workspace.mark_done(job.recording, job.key)
            summary.cached += 1
        elif job.key in twins:
            twins[job.key].append(job)
        else:
            twins[job.key] = []
            todo.append(job)
    return todo, twins


def _record_failure(workspace: Workspace, failure: Failure, twins: list[Job]) -> None:
    """Record a recording that failed, and the files with the same bytes, for the same reason."""
    for f in [failure, *(Failure(t.recording, failure.reason) for t in twins)]:
        log.warning("skipped %s: %s", f.recording, f.reason)
        workspace.mark_failed(f)


def transcribe_paths(
    paths: Iterable[str | Path],
    options: TranscribeOptions,
    out_dir: str | Path,
    *,
    jobs: int = 1,
    threads: int = 0,
    speakers: SpeakerSettings | None = None,
    progress: bool = True,
    samples_for: AudioCache | None = None,
    cluster: ClusterSpec | None = None,
    calls: CallOptions | None = None,
) -> BatchSummary:
    """Transcribe recordings into ``out_dir``: the batch, its speakers, and the tables.

    Reads the call metadata beside each recording (:mod:`pipeline.calls`), runs
    :func:`run_batch` on the workspace in ``out_dir`` over the calls that are not
    encrypted, labels the speakers of the whole batch (unless ``speakers`` is None; the
    radio's unit IDs name them where a call says who keyed up), and writes
    ``segments.csv`` and ``words.csv`` there (and ``calls.csv`` when any recording has
    call metadata), their recordings relative to the run's root, recorded in ``run.json``
    (:mod:`pipeline.tablepaths`).

    Args:
        paths: Files and folders.
        options: Transcription options.
        out_dir: The output folder; it holds the workspace and the tables.
        jobs: Worker processes (each loads the model once).
        threads: CPU threads per engine (0: the engine's default).
        speakers: Speaker options and renames; None skips speaker labelling.
        progress: Show a progress bar on stderr.
        samples_for: An ``AudioCache`` that keeps the samples decoded for a later stage.
        cluster: Transcribe on this Dask cluster instead of this machine.
        calls: How call metadata is read (unit tags, time zone); defaults when None.

    Returns:
        The summary, with the batch's speakers, its calls and the tables written.

    Raises:
        FileNotFoundError: A path does not exist.
        ValueError: A trunk-recorder call file beside a recording cannot be read.
        pipeline.workspace.WorkspaceLocked: Another process is writing ``out_dir``.
        pipeline.files.OutputError: ``out_dir`` cannot be written (read-only, full).
        pipeline.errors.DispatchError: The model cannot be loaded, or the cluster reached.
    """
    from pipeline import export
    from pipeline.calls import CallReader
    from pipeline.speakers import label_speakers
    from pipeline.speakers.radio import attach_calls, batch_speakers

    recordings = find_recordings(paths)
    found = CallReader(calls).read_all(recordings)
    audible = [r for r in recordings if r not in found or not found[r].encrypted]
    with locked(out_dir), output_errors(out_dir):
        with Workspace(out_dir) as workspace:
            summary = run_batch(audible, options, workspace, jobs=jobs, threads=threads,
                                progress=progress, speakers=speakers.options if speakers else None,
                                samples_for=samples_for, cluster=cluster)
            if speakers is not None and summary.transcripts:
                stage("labelling speakers", progress)
                labels = label_speakers(summary.transcripts, workspace, speakers,
                                        samples_for=samples_for)
                summary.speakers = labels.speakers
        units = attach_calls(summary.transcripts, found)
        if units:
            summary.speakers = batch_speakers(summary.transcripts, summary.speakers, units)
        summary.calls = list(found.values())
        summary.table_paths = TablePaths.for_run(audible)  # as readers rebuild it from the run
        frames = {"segments.csv": export.segments_frame(summary.transcripts),
                  "words.csv": export.words_frame(summary.transcripts)}
        if summary.calls:
            frames["calls.csv"] = export.calls_frame(summary.calls)
        summary.table_paths.write(out_dir)
        for name, frame in frames.items():
            with atomic_path(Path(out_dir) / name) as tmp:
                export.write_table(export.with_table_paths(frame, summary.table_paths), tmp)
            summary.tables.append(Path(out_dir) / name)
    return summary


def _run(todo: list[Job], options, jobs: int, threads: int, progress: bool, engine,
         speakers=None, samples_for=None, cluster: ClusterSpec | None = None) -> Iterator:
    """Yield ``(job, (Transcript, Voices | None) | Failure)`` as recordings finish, in any order.

    Keeps at most the executor's ``slots`` jobs submitted, so a batch of any size (its
    shipped audio included) flows through; the bar shows done, failed and in flight.

    Raises:
        pipeline.errors.DispatchError: A worker cannot load the model, or the cluster is lost.
    """
    from pipeline.errors import DispatchError

    if not todo:
        return
    if engine is None:
        stage(f"loading the {options.model} model ({options.engine})", progress)
    executor = _executor(todo, options, jobs, threads, engine, speakers, samples_for, cluster)
    if len(todo) == 1 and isinstance(executor, InProcessExecutor):
        yield from _run_one(todo[0], executor, progress)
        return
    stage(f"decoding and transcribing {len(todo)} recordings", progress)
    bar = progress_bar(progress, total=len(todo), unit="rec", desc="transcribing")
    if executor.dashboard:
        log.info("Dask dashboard: %s", executor.dashboard)
        if progress:
            bar.write(f"Dask dashboard: {executor.dashboard}")
    one_each = cluster is not None or not options.pack_calls
    waiting, in_flight, failed = iter(parcels(todo, one_each)), 0, 0
    try:
        while True:
            for parcel in itertools.islice(waiting, max(0, executor.slots - in_flight)):
                executor.submit(parcel)
                in_flight += 1
            if not in_flight:
                break
            parcel, results = executor.next_done()
            in_flight -= 1
            if isinstance(results, DispatchError):
                raise results
            if isinstance(results, Exception):
                log.error("failed on %s", parcel.recording, exc_info=results)
                results = [Failure(job.recording, f"internal error while transcribing: {results!r}")
                           for job in parcel.jobs]
            for job, result in zip(parcel.jobs, results, strict=True):
                failed += isinstance(result, Failure)
                bar.set_postfix(failed=failed, in_flight=in_flight, refresh=False)
                bar.update(1)
                yield job, result
    finally:
        bar.close()
        executor.close()


def _run_one(job: Job, executor: InProcessExecutor, progress: bool) -> Iterator:
    """One recording in this process, its bar counting the seconds of audio transcribed."""
    from pipeline.errors import DispatchError

    stage(f"decoding {job.recording}", progress)
    bars = []  # made when the audio's length is known, as its first windows are decoded

    def reached(seconds: float, total: float) -> None:
        if not bars:
            bars.append(progress_bar(progress, total=round(total, 1), unit="s", desc="transcribing",
                                     bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} "
                                                "s of audio [{elapsed}<{remaining}]"))
        bars[0].update(max(0.0, min(seconds, bars[0].total) - bars[0].n))

    try:
        with listening(reached):
            executor.submit(Parcel([job]))
            _, results = executor.next_done()
        if isinstance(results, DispatchError):
            raise results
        if isinstance(results, Exception):
            log.error("failed on %s", job.recording, exc_info=results)
            results = [Failure(job.recording, f"internal error while transcribing: {results!r}")]
        for bar in bars:
            bar.update(bar.total - bar.n)
        yield job, results[0]
    finally:
        for bar in bars:
            bar.close()
        executor.close()


def _executor(todo: list[Job], options, jobs: int, threads: int, engine, speakers, samples_for,
              cluster: ClusterSpec | None) -> Executor:
    """Where the batch runs: on the cluster when one is given, else a process pool for
    ``jobs > 1`` (and no engine given), else this process."""
    if cluster is not None:
        workers = cluster.local_workers
        threads = threads or (max(1, (os.cpu_count() or 1) // workers) if workers else 0)
        return DaskExecutor(_work, _init_worker, (options, threads, engine, speakers), cluster)
    if engine is None and jobs > 1 and len(todo) > 1:
        per_job_threads = threads or max(1, (os.cpu_count() or 1) // jobs)
        return PoolExecutor(_work, _init_worker, (options, per_job_threads, None, speakers), jobs)
    return InProcessExecutor(_work, _init_worker, (options, threads, engine, speakers, samples_for))


_ENGINE = None
_LOADED_FOR: tuple[str, str] | None = None
"""The engine and model ``_ENGINE`` was loaded for (None when it was given)."""
_OPTIONS: TranscribeOptions | None = None
_SPEAKERS: SpeakerOptions | None = None
_DECODE = None


def _init_worker(options: TranscribeOptions, threads: int, engine=None, speakers=None,
                 samples_for=None) -> None:
    """Set the process's engine (the one given, or loaded once per model and engine),
    whether its recordings' voices are embedded, and how recordings are decoded."""
    from pipeline.engines import load_engine

    global _ENGINE, _LOADED_FOR, _OPTIONS, _SPEAKERS, _DECODE
    if engine is not None:
        _ENGINE, _LOADED_FOR = engine, None
    elif _LOADED_FOR != (options.engine, options.model):
        _ENGINE = load_engine(options.model, options.engine, threads=threads)
        _LOADED_FOR = (options.engine, options.model)
    _OPTIONS, _SPEAKERS, _DECODE = options, speakers, samples_for


PARCEL_FILES = 64
"""Most recordings transcribed together (``transcribe.transcribe_many`` packs the
transmissions of short calls across them)."""
PARCEL_FILE_BYTES = 4_000_000
"""A file larger than this (about two minutes of 16 kHz WAV) is transcribed on its own."""


@dataclass
class Parcel:
    """Recordings handed to a worker together."""

    jobs: list[Job]
    """The recordings, in call order (talkgroup, start, then path)."""

    @property
    def recording(self) -> str:
        """The first recording (what a task is named by)."""
        return self.jobs[0].recording


def parcels(todo: list[Job], one_each: bool = False) -> list[Parcel]:
    """Short recordings grouped in call order, ``PARCEL_FILES`` at most; a large file, or
    every file when ``one_each`` (a cluster ships and retries one recording a task), alone."""
    if one_each:
        return [Parcel([job]) for job in todo]
    out: list[Parcel] = []
    closed = True
    for job in sorted(todo, key=lambda j: _call_order(j.recording)):
        alone = _size(job.recording) > PARCEL_FILE_BYTES
        if alone or closed or len(out[-1].jobs) >= PARCEL_FILES:
            out.append(Parcel([]))
        out[-1].jobs.append(job)
        closed = alone
    return out


def _size(recording: str) -> int:
    try:
        return os.path.getsize(recording)
    except OSError:
        return 0


def _call_order(recording: str) -> tuple:
    """(talkgroup, start epoch, path) from a scanner tool's file name, else ("", 0, path)."""
    call = from_file_name(recording)
    if call is None:
        return "", 0.0, recording
    return call.talkgroup, call.started_at.timestamp() if call.started_at else 0.0, recording


def _work(parcel: Parcel, data: bytes | None = None
          ) -> list[tuple[Transcript, Voices | None] | Failure]:
    """Decode and transcribe a parcel's recordings together (and embed their voices when
    speakers are wanted); a bad file becomes a ``Failure``, any other error is raised for
    the executor.

    Args:
        parcel: The recordings.
        data: The bytes of its one recording, when shipped to a worker that cannot read it.
    """
    out: dict[int, tuple[Transcript, Voices | None] | Failure] = {}
    items: dict[int, Recording] = {}
    notes: dict[int, list[str]] = {}
    for n, job in enumerate(parcel.jobs):
        try:
            samples = (decode_shipped(job.recording, data) if data is not None
                       else (_DECODE or audio.load_audio)(job.recording))
            notes[n] = [] if data is not None else audio.decode_warnings(job.recording, len(samples))
        except audio.AudioError as e:
            out[n] = Failure(job.recording, str(e))
            continue
        call = from_file_name(job.recording)
        items[n] = Recording(job.recording, samples, job.sha256, call.talkgroup if call else "",
                             call.started_at if call else None)
    for n, transcript in zip(items, _transcribe(list(items.values())), strict=True):
        if not isinstance(transcript, Failure):
            transcript.warnings = notes[n]
            for note in notes[n]:
                log.warning("%s: %s", transcript.recording, note)
        voices = None
        if not isinstance(transcript, Failure) and _SPEAKERS is not None and transcript.transmissions:
            voices = embed_voices(items[n].samples, transcript, _SPEAKERS)
        out[n] = transcript if isinstance(transcript, Failure) else (transcript, voices)
    return [out[n] for n in range(len(parcel.jobs))]


def _transcribe(items: list[Recording]) -> list[Transcript | Failure]:
    """Transcribe items together; if audio fails on the way, each alone, failing alone."""
    try:
        return transcribe_many(items, _ENGINE, _OPTIONS)
    except audio.AudioError as e:
        if len(items) == 1:
            return [Failure(items[0].recording, str(e))]
    out: list[Transcript | Failure] = []
    for item in items:
        try:
            out += transcribe_many([item], _ENGINE, _OPTIONS)
        except audio.AudioError as e:
            out.append(Failure(item.recording, str(e)))
    return out


class AudioCache:
    """Decoded samples of the last few recordings, so a stage never decodes twice in a row.

    Called with a recording, it returns its samples (``audio.load_audio``), decoding
    only recordings it does not hold; it holds the ``size`` most recently used. Given
    to ``run_batch`` and then to ``verify``, the recordings just transcribed are cut
    into quote windows without a second decode.
    """

    def __init__(self, size: int = 4):
        self.size = size
        """Most recordings held (a 30 min recording is 115 MB of samples)."""
        self.decoded = 0
        """Recordings decoded so far (a miss each)."""
        self._items: dict[str, object] = {}

    def __call__(self, recording: str):
        if recording in self._items:
            self._items[recording] = self._items.pop(recording)
        else:
            self._items[recording] = audio.load_audio(recording)
            self.decoded += 1
            while len(self._items) > self.size:
                self._items.pop(next(iter(self._items)))
        return self._items[recording]
