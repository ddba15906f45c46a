"""Radio metadata: trunk-recorder call files name the unit transmitting at each moment.

trunk-recorder writes a JSON file per call whose ``srcList`` names the radio unit ID
transmitting from each offset. Where it exists those IDs are exact, and
:func:`merge_radio_turns` lets them win over the voice. :func:`name_units` names the
units of a batch's calls (:mod:`pipeline.calls`) with roles from their tags or from
which ID answers everyone on a talkgroup, and :func:`apply_call` gives every segment
the unit keyed up at its words, splitting segments where the unit changes.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from pipeline.records import CallInfo, Role, Segment, Speaker, Transcript, Word
from pipeline.speakers.roles import DISPATCHER, UNIT, attribution_role, name_roles
from pipeline.speakers.turns import Turn, cut_turns, join_turns, overlaps, speaker_at

UNKNOWN_UNIT = -1
"""trunk-recorder's ``src`` for a transmission whose unit ID it did not decode."""


def trunk_recorder_json(audio_path: str | Path) -> Path | None:
    """The trunk-recorder call JSON beside an audio file (same name, ``.json``), if any.

    A JSON file that is not a trunk-recorder call (unreadable, or without ``srcList``)
    is not one: :mod:`pipeline.calls` notes it, and the voices label the recording.
    """
    candidate = Path(audio_path).with_suffix(".json")
    if not candidate.is_file():
        return None
    try:
        raw = json.loads(candidate.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return candidate if isinstance(raw, dict) and isinstance(raw.get("srcList"), list) else None


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
        end = min(end, duration) if duration else end
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


# --- calls: who keyed up, named by the radio system ---------------------------------------


def name_units(calls: Iterable[CallInfo]) -> dict[str, Speaker]:
    """The speakers the radio system names: unit ID -> role and display name.

    A unit's name is its tag (the call's ``tag`` or the unit tags file's). Its role comes
    from the tags: a tag that names a dispatcher (``Zone 8 Dispatch``, ``Console 2``) marks
    the talkgroup's dispatcher. On a talkgroup whose tags name none, the dispatcher is the
    unit ID that answers everyone (:func:`~.roles.name_roles` over the talkgroup's units
    in time order): the radio IDs decide, not the voices. Untagged units are named
    ``Dispatcher`` or ``Unit <ID>``.

    Args:
        calls: The batch's calls (their ``units`` set).

    Returns:
        Unit ID -> speaker, for every unit ID heard.
    """
    calls = sorted(calls, key=_call_order)
    tags: dict[str, Counter] = defaultdict(Counter)
    by_talkgroup: dict[tuple[str, str], list[Turn]] = defaultdict(list)
    for call in calls:
        for key in call.units:
            if key.unit:
                tags[key.unit][key.tag] += 1
                by_talkgroup[(call.system, call.talkgroup)].append(
                    Turn(key.start, key.end, key.unit, source="radio"))
    tag_of = {unit: _best_tag(counts) for unit, counts in tags.items()}
    dispatchers = {u for u, tag in tag_of.items() if attribution_role(tag) is Role.DISPATCHER}
    for turns in by_talkgroup.values():
        if not dispatchers & {t.speaker for t in turns}:
            dispatchers |= {u for u, name in name_roles(join_turns_in_order(turns)).items()
                            if name == DISPATCHER and len({t.speaker for t in turns}) > 1}
    return {unit: Speaker(unit, Role.DISPATCHER if unit in dispatchers else Role.UNIT,
                          tag_of[unit] or (DISPATCHER if unit in dispatchers else f"{UNIT} {unit}"))
            for unit in tag_of}


def _call_order(call: CallInfo):
    started = call.started_at.timestamp() if call.started_at is not None else float("inf")
    return (started, call.recording)


def _best_tag(counts: Counter) -> str:
    named = [(n, tag) for tag, n in counts.items() if tag]
    return max(named)[1] if named else ""


def join_turns_in_order(turns: Sequence[Turn]) -> list[Turn]:
    """Turns of several calls in the order given (each call's own times), with
    consecutive turns of one unit joined into one."""
    out: list[Turn] = []
    for t in turns:
        if out and out[-1].speaker == t.speaker:
            out[-1] = Turn(out[-1].start, out[-1].start + out[-1].duration + t.duration,
                           t.speaker, "radio")
        else:
            out.append(t)
    return out


def apply_call(transcript: Transcript, speakers: dict[str, Speaker]) -> None:
    """Give each segment of a call the unit keyed up at its words, splitting where it changes.

    A segment whose words fall under two units (the dispatcher taking over mid-call)
    becomes two segments; each word goes to the unit keyed up for most of it. A segment
    under a known unit takes the unit's ID, tag and display name as its speaker; one
    under an unknown unit (``src`` -1) keeps the label its voice gave it. Segment ids are
    numbered again from 0.

    Args:
        transcript: A transcript with ``call`` set; changed in place.
        speakers: From :func:`name_units`.
    """
    call = transcript.call
    if call is None or not call.units:
        return
    out: list[Segment] = []
    for seg in transcript.segments:
        out.extend(_split_by_unit(seg, call))
    for n, seg in enumerate(out):
        seg.segment_id = n
        key = call.unit_at(seg.start, seg.end)
        if key is not None and key.unit:
            seg.unit, seg.unit_tag = key.unit, key.tag
            if key.unit in speakers:
                seg.speaker = speakers[key.unit].name
    transcript.segments = out


def _split_by_unit(seg: Segment, call: CallInfo) -> list[Segment]:
    """The segment cut where the unit keyed up changes between its words."""
    if not seg.words:
        return [seg]
    groups: list[list[Word]] = []
    keys: list[int] = []
    for w in seg.words:
        key = id(call.unit_at(w.start, w.end))
        if groups and keys[-1] == key:
            groups[-1].append(w)
        else:
            groups.append([w])
            keys.append(key)
    if len(groups) == 1:
        return [seg]
    parts = []
    for i, words in enumerate(groups):
        start = seg.start if i == 0 else words[0].start
        end = seg.end if i == len(groups) - 1 else words[-1].end
        parts.append(replace(seg, start=min(start, words[0].start), end=max(end, words[-1].end),
                             text=" ".join(w.word for w in words), words=words))
    return parts


def attach_calls(transcripts: Iterable[Transcript], calls: dict[str, CallInfo]) -> dict[str, Speaker]:
    """Give a batch's transcripts their calls, and their segments the units keyed up.

    Each call is fitted to its decoded audio (:func:`pipeline.calls.fit_to_audio`), the
    units of all calls are named (:func:`name_units`) and every segment gets its unit
    (:func:`apply_call`).

    Args:
        transcripts: The batch's transcripts; changed in place.
        calls: Recording -> call metadata (from :class:`pipeline.calls.CallReader`).

    Returns:
        Unit ID -> speaker, for the units heard.
    """
    from pipeline.calls import fit_to_audio

    transcripts = list(transcripts)
    for t in transcripts:
        call = calls.get(t.recording)
        if call is not None:
            fit_to_audio(call, t.duration)
            t.call = call
    speakers = name_units(t.call for t in transcripts if t.call is not None)
    for t in transcripts:
        apply_call(t, speakers)
    return speakers


def batch_speakers(transcripts: Iterable[Transcript], voices: Sequence[Speaker],
                   units: dict[str, Speaker]) -> list[Speaker]:
    """Who speaks in a batch: the radio's units where segments have one, the voices elsewhere.

    Args:
        transcripts: The batch's transcripts, units applied.
        voices: The speakers voice clustering named (``SpeakerLabels.speakers``).
        units: From :func:`attach_calls`.

    Returns:
        Speakers whose name some segment shows, dispatchers first.
    """
    shown = {s.speaker for t in transcripts for s in t.segments}
    heard = {s.unit for t in transcripts for s in t.segments if s.unit}
    out = {u.name: u for unit, u in units.items() if unit in heard}
    for v in voices:
        if v.name in shown and v.name not in out and not v.label.isdigit():
            out[v.name] = v
    return sorted(out.values(), key=lambda s: s.role is not Role.DISPATCHER)
