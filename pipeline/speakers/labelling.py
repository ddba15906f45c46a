"""Labelling a batch: who spoke every segment, the same voice with the same name.

The worker that decodes a recording to transcribe it also embeds the voices of its
speech (:func:`embed_voices`) and the workspace stores them (:func:`store_voices`), so
:func:`label_speakers` clusters the whole batch from stored embeddings and decodes
nothing again. trunk-recorder unit IDs win over the voice where a call file is found;
labels are then named as roles and renamed by the names file. The workspace keys of
stored voices and labels name the encoder that made them (:func:`~.embedding.encoder_id`),
so another encoder never reuses old embeddings.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from pipeline.records import Speaker, Transcript, Transmission
from pipeline.speakers.diarize import cluster_voices
from pipeline.speakers.embedding import Voices, embed_windows, encoder_id, process_encoder
from pipeline.speakers.options import SpeakerOptions, SpeakerSettings
from pipeline.speakers.radio import merge_radio_turns, read_trunk_recorder, trunk_recorder_json
from pipeline.speakers.roles import name_speakers
from pipeline.speakers.turns import Turn, label_segments
from pipeline.workspace import Workspace, cache_key

log = logging.getLogger(__name__)

SPEAKER_THREADS = 1
"""Torch threads for the voice embeddings a worker makes, whatever the engine's ``threads``
is, and for ``label_speakers`` when its ``threads`` is 0: on a shared machine torch's
OpenMP workers spin; with ``--threads 2`` passed on to them too, labelling the 30 min
bench recording took 53 s instead of 8 (the whole run 83 s instead of 38)."""

LAST_TURNS = "turns:last"
"""Workspace blob holding the speaker turns of the last labelled batch (for RTTM)."""


@dataclass
class SpeakerLabels:
    """The speakers of a labelled batch."""

    turns: dict[str, list[Turn]] = field(default_factory=dict)
    """Recording -> turns in time order; their labels are display names."""
    speakers: list[Speaker] = field(default_factory=list)
    """Who speaks in the batch, with role and display name (the dispatcher first)."""


def speech_spans(transcript: Transcript) -> list[Transmission]:
    """The stretches of a recording to label: transmissions that hold transcribed speech."""
    used = {s.transmission_id for s in transcript.segments}
    found = [tx for n, tx in enumerate(transcript.transmissions) if n in used]
    return found or transcript.transmissions


def embed_voices(
    samples: np.ndarray, transcript: Transcript, options: SpeakerOptions, encoder=None,
    threads: int = 0,
) -> Voices:
    """Embed the voices of a transcribed recording (windows only, no clustering).

    Args:
        samples: The recording's decoded samples.
        transcript: Its transcript (the spans come from :func:`speech_spans`).
        options: Window length, hop and shortest span.
        encoder: From :func:`~.embedding.load_encoder`; the process's own when None.
        threads: Torch threads while embedding (0: ``SPEAKER_THREADS``).

    Returns:
        The recording's voices.
    """
    import torch

    spans = sorted(speech_spans(transcript), key=lambda t: t.start)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads or SPEAKER_THREADS)
    try:
        windows, emb = embed_windows(encoder or process_encoder(), [samples], [spans], options)
    finally:
        torch.set_num_threads(previous)
    return Voices(spans, windows, emb)


def voices_key(transcript: Transcript, options: SpeakerOptions) -> str:
    """Workspace key of a recording's voices: content, speech spans, encoder and settings."""
    spans = [(round(x.start, 3), round(x.end, 3)) for x in speech_spans(transcript)]
    return "voices:" + cache_key(transcript.sha256, repr(spans), encoder_id(),
                                 {"embedding": options.embedding_settings()})


def store_voices(workspace: Workspace, transcript: Transcript, options: SpeakerOptions,
                 voices: Voices) -> None:
    """Keep a recording's voices in the workspace for :func:`label_speakers`."""
    workspace.put_blob(voices_key(transcript, options), voices.to_bytes())


def label_speakers(
    transcripts: Sequence[Transcript],
    workspace: Workspace,
    settings: SpeakerSettings | None = None,
    samples_for: Callable[[str], np.ndarray] | None = None,
    threads: int = 0,
) -> SpeakerLabels:
    """Label who spoke every segment of a batch, the same voice with the same name.

    The voices of all recordings are clustered together; trunk-recorder unit IDs from
    a JSON file beside a recording win over the voice; labels are named as roles
    (``Dispatcher``, ``Unit 1``...) and renamed by ``settings.renames``. Segments are
    updated in place and in the workspace; the turns are stored for RTTM export. A
    batch labelled before with the same recordings, encoder and settings is not
    clustered again.

    Args:
        transcripts: The batch's transcripts.
        workspace: Where voices, labels and turns are stored.
        settings: Speaker options and renames; defaults when None.
        samples_for: Returns a recording's samples (default: ``audio.load_audio``); used
            only for recordings whose voices the workspace lacks.
        threads: Torch threads for embedding (0: ``SPEAKER_THREADS``).

    Returns:
        The batch's turns and speakers.
    """
    settings = settings or SpeakerSettings()
    key = labels_key(transcripts, settings)
    cached = workspace.get_blob(key)
    if cached is not None:
        log.info("speaker labels of %d recordings taken from the workspace", len(transcripts))
        labels = _labels_from_json(cached)
    else:
        labels = _label(transcripts, settings, samples_for, workspace, threads)
        workspace.put_blob(key, _labels_to_json(labels))
    workspace.put_blob(LAST_TURNS, _turns_to_json(labels.turns))
    for t in transcripts:
        label_segments(t.segments, labels.turns.get(t.recording, []))
        workspace.update_speakers(t)
    return labels


def last_turns(workspace: Workspace) -> dict[str, list[Turn]]:
    """The speaker turns of the last labelled batch, recording -> turns."""
    data = workspace.get_blob(LAST_TURNS)
    return _turns_from_json(data) if data else {}


def labels_key(transcripts: Sequence[Transcript], settings: SpeakerSettings) -> str:
    """Workspace key of a batch's labels: its recordings, the encoder, options and renames."""
    recordings = ",".join(sorted(t.sha256 + t.recording for t in transcripts))
    return "turns:" + cache_key(recordings, "", encoder_id(),
                                {"options": vars(settings.options), "renames": settings.renames})


def _label(transcripts, settings: SpeakerSettings, samples_for, workspace, threads) -> SpeakerLabels:
    """Voice turns for a batch (radio IDs where known), labelled with display names."""
    options = settings.options
    with_speech = [t for t in transcripts if t.transmissions]
    voices = [_stored_voices(t, options, samples_for, workspace, threads) for t in with_speech]
    turns = cluster_voices([t.recording for t in with_speech], voices, options)
    for t in with_speech:
        radio_json = trunk_recorder_json(t.recording)
        if radio_json is not None:
            radio = read_trunk_recorder(radio_json, t.duration)
            turns[t.recording] = merge_radio_turns(turns[t.recording], radio)
    ordered = [turn for t in with_speech for turn in turns[t.recording]]
    people = name_speakers(ordered, settings.renames)
    shown = {label: p.name for label, p in people.items()}
    named = {rec: [replace(turn, speaker=shown.get(turn.speaker, turn.speaker)) for turn in ts]
             for rec, ts in turns.items()}
    return SpeakerLabels(named, list(people.values()))


def _stored_voices(t: Transcript, options, samples_for, workspace, threads) -> Voices:
    """A recording's voices from the workspace, or embedded now from decoded samples."""
    data = workspace.get_blob(voices_key(t, options))
    if data is not None:
        return Voices.from_bytes(data)
    if samples_for is None:
        from pipeline.audio import load_audio

        samples_for = load_audio
    return embed_voices(samples_for(t.recording), t, options, threads=threads)


def _turns_to_json(turns: dict[str, list[Turn]]) -> bytes:
    return json.dumps(_plain_turns(turns)).encode()


def _turns_from_json(data: bytes) -> dict[str, list[Turn]]:
    return _read_turns(json.loads(data))


def _labels_to_json(labels: SpeakerLabels) -> bytes:
    return json.dumps({"turns": _plain_turns(labels.turns),
                       "speakers": [asdict(s) for s in labels.speakers]}).encode()


def _labels_from_json(data: bytes) -> SpeakerLabels:
    raw = json.loads(data)
    return SpeakerLabels(_read_turns(raw["turns"]), [Speaker(**s) for s in raw["speakers"]])


def _plain_turns(turns: dict[str, list[Turn]]) -> dict[str, list[dict]]:
    return {rec: [asdict(x) for x in ts] for rec, ts in turns.items()}


def _read_turns(raw: dict[str, list[dict]]) -> dict[str, list[Turn]]:
    return {rec: [Turn(**x) for x in ts] for rec, ts in raw.items()}
