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


def verdict_table(checks: Sequence[QuoteCheck], width: int | None = None,
                  review: int = 10) -> str:
    """A fixed-width table: one line per quote, then counts per verdict, then the
    ``review`` unverifiable quotes to replay first (most doubtful first), with their spans.
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
    lines += _review_lines(checks, review, width)
    return "\n".join(lines)


def _review_lines(checks: Sequence[QuoteCheck], n: int, width: int) -> list[str]:
    """The first ``n`` unverifiable quotes by ``review_rank``: what to replay, and where."""
    ranked = sorted((c for c in checks if c.review_rank), key=lambda c: c.review_rank)
    if not ranked or n <= 0:
        return []
    lines = ["", f"listen first ({min(n, len(ranked))} of {len(ranked)} unverifiable, most doubtful first):"]
    for c in ranked[:n]:
        where = _listen(c)
        why = c.differences[0] if c.differences else (c.reasons[0] if c.reasons else "")
        head = f"{c.review_rank:>3}. {_clip(c.quote.quote_id, 26):<26} {_clip(where, 24):<24} "
        lines.append(head + _clip(why, max(20, width - len(head))))
    return lines


def _listen(c: QuoteCheck) -> str:
    if not c.recording or c.listen_start_s is None:
        return _where(c)
    name = c.recording.rsplit("/", 1)[-1]
    return f"{name} {c.listen_start_s:.1f}-{c.listen_end_s:.1f}s"


def _order(c: QuoteCheck):
    return (c.quote.source, c.quote.start_char, c.quote.quote_id)
