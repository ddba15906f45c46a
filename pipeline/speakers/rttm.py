"""RTTM (NIST Rich Transcription Time Marked): speaker turns as text other tools score."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.speakers.turns import Turn


def to_rttm(turns: Iterable[Turn], recording_id: str, names: dict[str, str] | None = None) -> str:
    """Turns as RTTM text (NIST Rich Transcription Time Marked), one SPEAKER line each.

    Spaces in recording ids and names become underscores (RTTM is space-separated).

    Args:
        turns: turns of one recording.
        recording_id: the file id written in column 2.
        names: label -> display name; labels are used as they are when missing.

    Returns:
        The lines, each ending in a newline.
    """
    names = names or {}
    rec = re.sub(r"\s+", "_", recording_id) or "recording"
    lines = []
    for t in sorted(turns, key=lambda t: t.start):
        who = re.sub(r"\s+", "_", names.get(t.speaker, t.speaker)) or "unknown"
        lines.append(
            f"SPEAKER {rec} 1 {t.start:.3f} {t.duration:.3f} <NA> <NA> {who} <NA> <NA>\n"
        )
    return "".join(lines)
