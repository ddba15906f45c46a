"""Roles and names: who on the channel is the dispatcher, what the tables call each voice,
and whether an article's attribution fits the speaker heard.

The dominant voice that answers everyone is the ``Dispatcher``, the others ``Unit 1``,
``Unit 2``, ...; a names file (:func:`read_speaker_names`) renames them. Each speaker
is a :class:`~pipeline.records.Speaker` carrying its role as data, so a renamed
dispatcher (``Dispatcher = Sgt Ruiz``) is still checked as the dispatcher.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from pipeline.records import Role, Speaker
from pipeline.speakers.turns import Turn

DISPATCHER = "Dispatcher"
"""Role name of a channel's dispatcher."""
UNIT = "Unit"
"""Role name prefix of everyone else on the channel (field units)."""


def name_roles(turns: Iterable[Turn]) -> dict[str, str]:
    """Role names for the labels of a channel.

    The dispatcher is the voice that answers everyone: the label in the most changes
    of speaker (ties: more speech). The others are
    ``Unit 1``, ``Unit 2``... in order of first appearance, or ``Unit <ID>`` for radio
    unit IDs. A channel with a single voice names it ``Dispatcher``.

    Args:
        turns: turns of one recording, or of a batch from one channel in order.

    Returns:
        Label -> role name; empty labels are left out.
    """
    turns = [t for t in turns if t.speaker]
    if not turns:
        return {}
    exchanges: Counter = Counter()
    talk: Counter = Counter()
    for prev, cur in zip([None, *turns[:-1]], turns):
        talk[cur.speaker] += cur.duration
        if prev is not None and prev.speaker != cur.speaker:
            exchanges[cur.speaker] += 1
            exchanges[prev.speaker] += 1
    order = list(dict.fromkeys(t.speaker for t in turns))
    dispatcher = max(order, key=lambda k: (exchanges[k], talk[k]))
    names = {dispatcher: DISPATCHER}
    n = 0
    for label in order:
        if label == dispatcher:
            continue
        if label.isdigit():
            names[label] = f"{UNIT} {label}"
        else:
            n += 1
            names[label] = f"{UNIT} {n}"
    return names


def read_speaker_names(path: str | Path) -> dict[str, str]:
    """Read a names file: one ``label = name`` per line (``Unit 2 = Beat 833``).

    Blank lines and ``#`` comments are skipped. Labels may be role names, voice
    labels or radio unit IDs.

    Args:
        path: the file.

    Returns:
        Label -> new name.

    Raises:
        ValueError: a line without ``=`` or with an empty side, with its line number.
    """
    names = {}
    text = Path(path).read_text(encoding="utf-8")
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        label, sep, name = (part.strip() for part in line.partition("="))
        if not sep or not label or not name:
            raise ValueError(f"{path}:{n}: expected 'label = name', got {raw.strip()!r}")
        names[label] = name
    return names


def display_names(roles: dict[str, str], renames: dict[str, str] | None = None) -> dict[str, str]:
    """Label -> name shown in the CSVs: the role, renamed by the names file.

    A rename may name the raw label (``S3``, ``1234567``) or its role (``Unit 2``).
    """
    renames = renames or {}
    return {
        label: renames.get(label, renames.get(role, role)) for label, role in roles.items()
    }


def name_speakers(turns: Iterable[Turn], renames: dict[str, str] | None = None) -> dict[str, Speaker]:
    """The speakers of a channel, each with its role and its display name.

    Args:
        turns: turns of one recording, or of a batch from one channel in order.
        renames: label or role name -> name, from :func:`read_speaker_names`.

    Returns:
        Label -> speaker (see :func:`name_roles` and :func:`display_names`).
    """
    roles = name_roles(turns)
    names = display_names(roles, renames)
    return {
        label: Speaker(label, Role.DISPATCHER if role == DISPATCHER else Role.UNIT, names[label])
        for label, role in roles.items()
    }


def speaker_named(name: str, speakers: Iterable[Speaker] = ()) -> Speaker | None:
    """The speaker shown in the tables as ``name``.

    Args:
        name: a display name, as in ``Segment.speaker``.
        speakers: the speakers of the batch (``BatchSummary.speakers``).

    Returns:
        The first of ``speakers`` with that name; failing that, for the role names
        :func:`name_roles` gives (``Dispatcher``, ``Unit 2``), a speaker of that role;
        otherwise None (the role is unknown).
    """
    for speaker in speakers:
        if speaker.name == name:
            return speaker
    if name == DISPATCHER:
        return Speaker(name, Role.DISPATCHER, name)
    if name.startswith(f"{UNIT} ") and name != f"{UNIT} ":
        return Speaker(name, Role.UNIT, name)
    return None


# --- attribution ------------------------------------------------------------------------

_DISPATCH_WORDS = re.compile(
    r"\b(dispatch(?:er|ers)?|call[- ]?takers?|radio operators?|operators?|"
    r"telecommunicators?|communications)\b"
)
_UNIT_WORDS = re.compile(
    r"\b(officers?|deput(?:y|ies)|sergeants?|sgt|lieutenants?|lt|captains?|corporals?|"
    r"troopers?|patrol(?:man|men|lers?)?|cops?|detectives?|agents?|units?|beats?|"
    r"firefighters?|medics?|paramedics?|emts?|engines?|ladders?|trucks?|squads?|"
    r"battalion|chiefs?|crews?|responders?|rescuers?|constables?)\b"
)


def attribution_role(attributed_to: str) -> Role | None:
    """The radio role an article's attribution names.

    Args:
        attributed_to: the attribution text ("the dispatcher says", "one officer on scene").

    Returns:
        ``Role.DISPATCHER``, ``Role.UNIT`` (anyone in the field), or None when the text
        names no radio role (empty, a pronoun, "police said", a caller).
    """
    text = attributed_to.lower()
    if _DISPATCH_WORDS.search(text):
        return Role.DISPATCHER
    if _UNIT_WORDS.search(text):
        return Role.UNIT
    return None


def attribution_matches(attributed_to: str, speaker: Speaker | str | None) -> bool | None:
    """Does the article's attribution fit the speaker heard?

    Args:
        attributed_to: the attribution text from the article.
        speaker: the speaker heard, with its role; a display name alone is looked up
            with :func:`speaker_named` (no batch speakers: only role names are known).

    Returns:
        True when the attribution names the speaker's display name or role, False when
        it names the other role; None when it names no radio role or the speaker's
        role is unknown.
    """
    if isinstance(speaker, str):
        speaker = speaker_named(speaker) if speaker else None
    text = attributed_to.lower()
    name = speaker.name.lower() if speaker is not None else ""
    if name and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text):
        return True
    wanted = attribution_role(attributed_to)
    if wanted is None or speaker is None:
        return None
    return wanted == speaker.role
