"""Readable summaries of verdicts for the terminal (text in, text out; nothing printed here)."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Sequence

from pipeline.records import QuoteCheck

VERDICT_ORDER = ("verbatim", "minor", "misquote", "unverifiable", "not_found")


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _where(c: QuoteCheck) -> str:
    if not c.recording:
        return "-"
    name = c.recording.rsplit("/", 1)[-1]
    return f"{name} {c.start_s:.1f}-{c.end_s:.1f}s"


def verdict_table(checks: Sequence[QuoteCheck], width: int | None = None) -> str:
    """A fixed-width table: one line per quote, then counts per verdict.

    Unverifiable quotes come with the span to replay; the most doubtful are listed
    first among them.
    """
    width = width or shutil.get_terminal_size((120, 20)).columns
    quote_w = max(20, width - 82)
    header = f"{'quote':<26} {'verdict':<12} {'conf':>4}  {'speaker':<12} {'where':<24} text"
    lines = [header, "-" * min(width, len(header) + quote_w)]
    for c in sorted(checks, key=_order):
        text = c.quote.text if not c.differences else c.differences[0]
        lines.append(
            f"{_clip(c.quote.quote_id, 26):<26} {c.verdict:<12} {c.confidence:>4.2f}  "
            f"{_clip(c.speaker or '-', 12):<12} {_clip(_where(c), 24):<24} {_clip(text, quote_w)}"
        )
    counts = Counter(c.verdict for c in checks)
    lines.append("")
    lines.append(", ".join(f"{counts[v]} {v}" for v in VERDICT_ORDER if counts[v]) or "no quotes")
    return "\n".join(lines)


def _order(c: QuoteCheck):
    return (c.quote.source, c.quote.start_char, c.quote.quote_id)
