"""Speakers: who said each stretch of a recording, and does it match the article.

Two sources of labels:

* **The voice** (:mod:`.embedding`, :mod:`.clustering`, :mod:`.diarize`). Speech spans
  (transmissions or segments, found by the caller) are cut into short overlapping
  windows; each window gets a ``resemblyzer`` voice embedding; the windows of a
  recording, or of a whole batch, are clustered by cosine distance (agglomerative,
  average linkage), so the same voice in several recordings gets the same label.
* **The radio system** (:mod:`.radio`). trunk-recorder writes a JSON file per call whose
  ``srcList`` names the radio unit ID transmitting from each offset; where it exists
  those IDs win over the voice.

Labels are then named as dispatch users think of them (:mod:`.roles`): the dominant
voice that answers everyone is ``Dispatcher``, the others ``Unit 1``, ``Unit 2``, ...;
a names file renames them, and each :class:`~pipeline.records.Speaker` keeps its role,
so :func:`attribution_matches` checks an article's attribution ("the dispatcher says",
"one officer on scene") against the role that spoke whatever it is called.
:func:`label_speakers` (:mod:`.labelling`) does all this for a batch from the voices
stored in the workspace; :func:`to_rttm` writes turns as RTTM text.

This package never decodes audio except where :func:`label_speakers` finds no stored
voices: callers pass 16 kHz mono float32 samples from :mod:`pipeline.audio`.

It does not label sub-second transmissions ("Roger", "Copy") reliably: their embeddings
sit nearer other voices than their own, and neither centring, tiling nor recording-path
features (long-term spectrum, noise floor) fix that (``bench/bench_speakers.py``).
"""

from pipeline.speakers.diarize import cluster_voices, diarize, diarize_batch
from pipeline.speakers.embedding import Voices, embed_spans, encoder_id, load_encoder
from pipeline.speakers.labelling import (
    SpeakerLabels,
    embed_voices,
    label_speakers,
    last_turns,
    store_voices,
)
from pipeline.speakers.options import SpeakerOptions, SpeakerSettings
from pipeline.speakers.radio import (
    merge_radio_turns,
    read_trunk_recorder,
    trunk_recorder_json,
    turns_from_trunk_call,
)
from pipeline.speakers.roles import (
    DISPATCHER,
    UNIT,
    attribution_matches,
    attribution_role,
    display_names,
    name_roles,
    name_speakers,
    read_speaker_names,
    speaker_named,
)
from pipeline.speakers.rttm import to_rttm
from pipeline.speakers.turns import Turn, label_segments, speaker_at, speakers_in

__all__ = [
    "DISPATCHER",
    "UNIT",
    "SpeakerLabels",
    "SpeakerOptions",
    "SpeakerSettings",
    "Turn",
    "Voices",
    "attribution_matches",
    "attribution_role",
    "cluster_voices",
    "diarize",
    "diarize_batch",
    "display_names",
    "embed_spans",
    "embed_voices",
    "encoder_id",
    "label_segments",
    "label_speakers",
    "last_turns",
    "load_encoder",
    "merge_radio_turns",
    "name_roles",
    "name_speakers",
    "read_speaker_names",
    "read_trunk_recorder",
    "speaker_at",
    "speaker_named",
    "speakers_in",
    "store_voices",
    "to_rttm",
    "trunk_recorder_json",
    "turns_from_trunk_call",
]
