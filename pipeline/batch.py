"""Many recordings: find them, skip finished work, transcribe the rest, record failures.

Each recording is decoded once, transcribed, and committed to the workspace the
moment it is done, so a killed batch resumes where it stopped. A file that cannot
be decoded is recorded with its reason and the batch goes on. With ``jobs > 1``
recordings are spread over worker processes, each of which loads the model once.

When the batch will be labelled with speakers, the worker that decoded a recording
also embeds the voices of its speech (``Voices``) and the workspace stores them, so
``label_speakers`` clusters the batch from stored embeddings and decodes nothing
again; only recordings without stored voices (transcribed in an earlier run) are
decoded for it. Nothing holds a batch's audio in memory, except an ``AudioCache`` of a
few recordings when the caller gives one (``verify`` does, to cut quote windows from
the samples decoded for transcription; worker processes of ``jobs > 1`` cannot share it).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline import audio
from pipeline.records import Failure, Transcript, Transmission
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


@dataclass
class Voices:
    """Voice embeddings of one recording's speech, from the samples decoded to transcribe it."""

    spans: list[Transmission]
    """The stretches embedded (transmissions holding transcribed speech), in time order."""
    windows: list
    """``speakers._Window`` per embedding (its ``recording`` field is set when clustering)."""
    embeddings: np.ndarray
    """(len(windows), 256) float32 unit vectors."""

    def to_bytes(self) -> bytes:
        """Serialise for the workspace."""
        import io

        buf = io.BytesIO()
        np.savez(buf, spans=np.array([(t.start, t.end) for t in self.spans]).reshape(-1, 2),
                 windows=np.array([(w.span, w.start, w.end) for w in self.windows]).reshape(-1, 3),
                 embeddings=self.embeddings)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Voices:
        """Read what :meth:`to_bytes` wrote."""
        import io

        from pipeline.speakers import _Window

        z = np.load(io.BytesIO(data))
        return cls([Transmission(float(a), float(b)) for a, b in z["spans"]],
                   [_Window(0, int(n), float(a), float(b)) for n, a, b in z["windows"]],
                   z["embeddings"])


def embed_voices(samples: np.ndarray, transcript: Transcript, options, encoder) -> Voices:
    """Embed the voices of a transcribed recording (``speakers`` windows, no clustering).

    Args:
        samples: The recording's decoded samples.
        transcript: Its transcript (the spans come from its transmissions and segments).
        options: ``speakers.SpeakerOptions``.
        encoder: From ``speakers.load_encoder``.
    """
    from pipeline.speakers import _embed_windows

    spans = sorted(_speech_spans(transcript), key=lambda t: t.start)
    windows, emb = _embed_windows(encoder, [samples], [spans], options)
    return Voices(spans, windows, emb)


def _voices_key(t: Transcript, options) -> str:
    """Workspace key of a recording's voices: its content, its speech spans, the options."""
    spans = [(round(x.start, 3), round(x.end, 3)) for x in _speech_spans(t)]
    return "voices:" + transcript_key(t.sha256, repr(spans), "speakers", {"options": vars(options)})


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
    speakers=None,
    samples_for=None,
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
        speakers: ``speakers.SpeakerOptions`` when the batch will be labelled
            (``label_speakers``): each worker then embeds the voices of the
            recordings it decodes, and the workspace keeps them.
        samples_for: Decodes a recording for transcription when the work stays in
            this process (an ``AudioCache``, so a later stage, such as ``verify``
            cutting quote windows, reuses the samples instead of decoding again);
            worker processes decode with ``audio.load_audio``.

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
    for job, result in _run(todo, options, jobs, threads, progress, engine, speakers, samples_for):
        if isinstance(result, Failure):
            log.warning("skipped %s: %s", result.recording, result.reason)
            workspace.mark_failed(result)
            continue
        transcript, voices = result
        if voices is not None:
            workspace.put_blob(_voices_key(transcript, speakers), voices.to_bytes())
        workspace.put(job.key, transcript, options.fingerprint())
        summary.transcribed += 1
    order = {rec: n for n, rec in enumerate(find_recordings(paths))}
    summary.transcripts = sorted(
        (t for t in workspace.transcripts() if t.recording in order), key=lambda t: order[t.recording]
    )
    summary.failures = [f for f in workspace.failures() if f.recording in order]
    summary.seconds = time.perf_counter() - started
    return summary


def _run(todo: list[Job], options, jobs: int, threads: int, progress: bool, engine,
         speakers=None, samples_for=None) -> Iterator:
    """Yield ``(job, (Transcript, Voices | None) | Failure)`` as recordings finish."""
    from tqdm import tqdm

    bar = tqdm(total=len(todo), unit="rec", desc="transcribing", disable=not progress or not todo)
    parallel = engine is None and jobs > 1 and len(todo) > 1
    if not parallel:
        _init_worker(options, threads, engine, speakers, samples_for)
        results = map(_work, todo)
    else:
        per_job_threads = threads or max(1, (os.cpu_count() or 1) // jobs)
        pool = ProcessPoolExecutor(jobs, initializer=_init_worker,
                                   initargs=(options, per_job_threads, None, speakers))
        results = pool.map(_work, todo)
    try:
        for job, result in zip(todo, results):
            bar.update(1)
            yield job, result
    finally:
        bar.close()
        if parallel:
            pool.shutdown(cancel_futures=True)


LAST_TURNS = "turns:last"
"""Workspace blob holding the speaker turns of the last labelled batch (for RTTM)."""

SPEAKER_THREADS = 1
"""Torch threads for the voice embeddings a worker makes, whatever ``threads`` (the
engine's) is, and for ``label_speakers`` when its ``threads`` is 0: on a shared machine
torch's OpenMP workers spin; with ``--threads 2`` passed on to them too, labelling the
30 min bench recording took 53 s instead of 8 (the whole run 83 s instead of 38)."""

_ENGINE = None
_OPTIONS: TranscribeOptions | None = None
_SPEAKERS = None
_ENCODER = None
_DECODE = None


def _init_worker(options: TranscribeOptions, threads: int, engine=None, speakers=None,
                 samples_for=None) -> None:
    """Set the process's engine (the one given, or loaded once per model and engine),
    whether its recordings' voices are embedded, and how recordings are decoded."""
    from pipeline.engines import load_engine

    global _ENGINE, _OPTIONS, _SPEAKERS, _DECODE
    if engine is not None:
        _ENGINE = engine
    elif _ENGINE is None or (_ENGINE.name, _ENGINE.model) != (options.engine, options.model):
        _ENGINE = load_engine(options.model, options.engine, threads=threads)
    _OPTIONS, _SPEAKERS, _DECODE = options, speakers, samples_for


def _encoder():
    """The process's voice encoder, loaded once, on first use."""
    global _ENCODER
    if _ENCODER is None:
        from pipeline.speakers import load_encoder

        _ENCODER = load_encoder()
    return _ENCODER


def _embed(samples: np.ndarray, transcript: Transcript, options, threads: int) -> Voices:
    """``embed_voices`` with torch pinned to ``threads`` (``SPEAKER_THREADS`` for 0)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads or SPEAKER_THREADS)
    try:
        return embed_voices(samples, transcript, options, _encoder())
    finally:
        torch.set_num_threads(previous)


def _work(job: Job) -> tuple[Transcript, Voices | None] | Failure:
    """Decode and transcribe one recording (and embed its voices when speakers are
    wanted); a bad file becomes a ``Failure``."""
    try:
        samples = (_DECODE or audio.load_audio)(job.recording)
        transcript = transcribe_file(job.recording, samples, job.sha256, _ENGINE, _OPTIONS)
        voices = None
        if _SPEAKERS is not None and transcript.transmissions:
            voices = _embed(samples, transcript, _SPEAKERS, SPEAKER_THREADS)
        return transcript, voices
    except audio.AudioError as e:
        return Failure(job.recording, str(e))
    except Exception as e:  # one bad recording must not sink a batch of a thousand
        log.exception("failed on %s", job.recording)
        return Failure(job.recording, f"internal error while transcribing: {e!r}")


def label_speakers(
    transcripts: list[Transcript],
    workspace: Workspace,
    options=None,
    renames: dict[str, str] | None = None,
    samples_for=None,
    threads: int = 0,
) -> dict[str, list]:
    """Label who spoke every segment of a batch, the same voice with the same name.

    The transmissions of all recordings are clustered together
    (``speakers.diarize_batch``); trunk-recorder unit IDs from a JSON file beside a
    recording win over the voice; labels are named as roles (``Dispatcher``,
    ``Unit 1``...) and renamed by ``renames``. Segments are updated in place and in
    the workspace; the turns are stored for RTTM export. A batch labelled before
    with the same recordings and options is not embedded again.

    Args:
        transcripts: The batch's transcripts.
        workspace: Where labels and turns are stored.
        options: ``speakers.SpeakerOptions``; defaults when None.
        renames: Label or role -> name, from a ``--speaker-names`` file.
        samples_for: Returns a recording's samples (default: decode it); used only
            for recordings whose voices ``run_batch(..., speakers=options)`` did not
            store.
        threads: Torch threads for embedding (0: ``SPEAKER_THREADS``).

    Returns:
        Recording -> turns (labels are display names).
    """
    from pipeline import speakers

    options = options or speakers.SpeakerOptions()
    samples_for = samples_for or audio.load_audio
    key = "turns:" + transcript_key(
        ",".join(sorted(t.sha256 + t.recording for t in transcripts)), "", "speakers",
        {"options": vars(options), "renames": renames or {}},
    )
    cached = workspace.get_blob(key)
    if cached is not None:
        turns = _turns_from_json(cached)
    else:
        turns = _diarize(transcripts, options, renames, samples_for, workspace, threads)
        workspace.put_blob(key, _turns_to_json(turns))
    workspace.put_blob(LAST_TURNS, _turns_to_json(turns))
    for t in transcripts:
        speakers.label_segments(t.segments, turns.get(t.recording, []))
        workspace.update_speakers(t)
    return turns


def _diarize(transcripts, options, renames, samples_for, workspace, threads) -> dict[str, list]:
    """Voice turns for a batch (radio IDs where known), labelled with display names."""
    from dataclasses import replace

    from pipeline import speakers

    with_speech = [t for t in transcripts if t.transmissions]
    voices = [_stored_voices(t, options, samples_for, workspace, threads) for t in with_speech]
    turns = cluster_voices([t.recording for t in with_speech], voices, options)
    for t in with_speech:
        radio_json = speakers.trunk_recorder_json(t.recording)
        if radio_json is not None:
            radio = speakers.read_trunk_recorder(radio_json, t.duration)
            turns[t.recording] = speakers.merge_radio_turns(turns[t.recording], radio)
    ordered = [turn for t in with_speech for turn in turns[t.recording]]
    names = speakers.display_names(speakers.name_roles(ordered), renames)
    return {rec: [replace(turn, speaker=names.get(turn.speaker, turn.speaker)) for turn in ts]
            for rec, ts in turns.items()}


def _stored_voices(t: Transcript, options, samples_for, workspace, threads) -> Voices:
    """A recording's voices from the workspace, or embedded now from decoded samples."""
    data = workspace.get_blob(_voices_key(t, options))
    if data is not None:
        return Voices.from_bytes(data)
    return _embed(samples_for(t.recording), t, options, threads)


def cluster_voices(recordings: list[str], voices: list[Voices], options) -> dict[str, list]:
    """Speaker turns of a batch from its recordings' voices, the same voice the same label.

    Gives what ``speakers.diarize_batch`` gives on the same spans, without the audio.

    Args:
        recordings: Recording ids, one per ``voices``.
        voices: Each recording's embedded speech.
        options: ``speakers.SpeakerOptions``.

    Returns:
        Recording id -> turns in time order, labelled ``S0``, ``S1``...
    """
    from dataclasses import replace

    from pipeline.speakers import _turns_of_recording, cluster

    if not voices:
        return {}
    windows = [replace(w, recording=r) for r, v in enumerate(voices) for w in v.windows]
    emb = np.concatenate([v.embeddings for v in voices])
    labels = cluster(emb, np.array([w.end - w.start for w in windows]), options)
    log.info("%d windows in %d recordings -> %d speakers", len(windows), len(recordings),
             len(set(labels.tolist())))
    out: dict[str, list] = {}
    for r, (rec, v) in enumerate(zip(recordings, voices, strict=True)):
        picks = [i for i, w in enumerate(windows) if w.recording == r]
        out[rec] = _turns_of_recording(v.spans, [windows[i] for i in picks], emb[picks],
                                       labels, emb, options)
    return out


def _speech_spans(t: Transcript) -> list[Transmission]:
    """The stretches to label: transmissions that hold transcribed speech."""
    used = {s.transmission_id for s in t.segments}
    return [tx for n, tx in enumerate(t.transmissions) if n in used] or t.transmissions


def _turns_to_json(turns: dict[str, list]) -> bytes:
    import json
    from dataclasses import asdict

    return json.dumps({rec: [asdict(x) for x in ts] for rec, ts in turns.items()}).encode()


def _turns_from_json(data: bytes) -> dict[str, list]:
    import json

    from pipeline.speakers import Turn

    return {rec: [Turn(**x) for x in ts] for rec, ts in json.loads(data).items()}


def last_turns(workspace: Workspace) -> dict[str, list]:
    """The speaker turns of the last labelled batch, recording -> turns."""
    data = workspace.get_blob(LAST_TURNS)
    return _turns_from_json(data) if data else {}


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
