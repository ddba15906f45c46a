"""Radio metadata: trunk-recorder call files name the unit transmitting at each moment.

trunk-recorder writes a JSON file per call whose ``srcList`` names the radio unit ID
transmitting from each offset. Where it exists those IDs are exact, and
:func:`merge_radio_turns` lets them win over the voice.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

from pipeline.speakers.turns import Turn, cut_turns, join_turns, overlaps, speaker_at

UNKNOWN_UNIT = -1
"""trunk-recorder's ``src`` for a transmission whose unit ID it did not decode."""


def trunk_recorder_json(audio_path: str | Path) -> Path | None:
    """The trunk-recorder call JSON beside an audio file (same name, ``.json``), if any."""
    candidate = Path(audio_path).with_suffix(".json")
    return candidate if candidate.is_file() else None


def read_trunk_recorder(json_path: str | Path, duration: float | None = None) -> list[Turn]:
    """Radio turns from a trunk-recorder call JSON file.

    Args:
        json_path: the call's JSON file.
        duration: length of the audio in seconds; defaults to the file's ``call_length``
            (or ``stop_time - start_time``).

    Returns:
        See :func:`turns_from_trunk_call`.

    Raises:
        ValueError: the file is not a trunk-recorder call JSON.
    """
    try:
        call = json.loads(Path(json_path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"cannot read trunk-recorder JSON {json_path}: {e}") from e
    return turns_from_trunk_call(call, duration)


def turns_from_trunk_call(call: dict, duration: float | None = None) -> list[Turn]:
    """Radio turns from a parsed trunk-recorder call.

    Each ``srcList`` entry starts a transmission at ``pos`` seconds into the audio that
    lasts until the next entry (or the end of the call). Consecutive entries from the
    same unit are joined. Unit ID -1 (not decoded) gives an empty label.

    Args:
        call: the parsed JSON object.
        duration: length of the audio in seconds; see :func:`read_trunk_recorder`.

    Returns:
        Turns with ``source="radio"`` and the unit ID as label, in time order.

    Raises:
        ValueError: no ``srcList``.
    """
    if not isinstance(call, dict) or not isinstance(call.get("srcList"), list):
        raise ValueError("not a trunk-recorder call: no srcList")
    if duration is None:
        duration = float(call.get("call_length") or 0) or float(
            call.get("stop_time", 0) - call.get("start_time", 0)
        )
    entries = sorted(call["srcList"], key=lambda e: float(e.get("pos", 0)))
    turns = []
    for i, entry in enumerate(entries):
        start = float(entry.get("pos", 0))
        end = float(entries[i + 1].get("pos", 0)) if i + 1 < len(entries) else duration
        src = int(entry.get("src", UNKNOWN_UNIT))
        label = "" if src == UNKNOWN_UNIT else str(src)
        if end > start:
            turns.append(Turn(start, max(end, start), label, source="radio"))
    return join_turns(turns)


def merge_radio_turns(voice: Sequence[Turn], radio: Sequence[Turn]) -> list[Turn]:
    """Voice turns relabelled with radio unit IDs where the radio knows them.

    Voice turns are cut at radio boundaries. A piece inside a radio turn with a known
    unit ID takes that ID. A piece the radio does not know keeps its voice label, or
    the unit ID that voice has most often elsewhere, so one person keeps one label.

    Args:
        voice: turns from :func:`~.diarize.diarize` (speech only).
        radio: turns from :func:`read_trunk_recorder`.

    Returns:
        Turns in time order.
    """
    pieces = cut_turns(voice, sorted({t.start for t in radio} | {t.end for t in radio}))
    votes: dict[str, Counter] = defaultdict(Counter)
    for p in pieces:
        unit = speaker_at(radio, p.start, p.end) if overlaps(radio, p.start, p.end) else ""
        if unit:
            votes[p.speaker][unit] += p.duration
            p.speaker, p.source = unit, "radio"
    for p in pieces:
        if p.source == "voice" and votes.get(p.speaker):
            p.speaker = votes[p.speaker].most_common(1)[0][0]
    return join_turns(pieces)
