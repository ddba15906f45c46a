"""Readable summaries of verdicts for the terminal (text in, text out; nothing printed here)."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Sequence

from pipeline.records import QuoteCheck, Verdict


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _cut(line: str, width: int) -> str:
    """A line cut to ``width``, its spacing kept."""
    return line if len(line) <= width else line[: max(width - 1, 0)] + "…"


def _clip_id(quote_id: str, width: int = 26) -> str:
    """A quote id cut in the middle, so its number (``article:12``) stays readable."""
    if len(quote_id) <= width:
        return quote_id
    tail = min(10, width // 2)
    return quote_id[:width - tail - 1] + "…" + quote_id[-tail:]


def _where(c: QuoteCheck) -> str:
    """Where the quote was located: recording name and span."""
    return _place(c.recording, c.start_s, c.end_s) if c.recording else "-"


def _place(recording: str, start: float, end: float) -> str:
    return f"{recording.rsplit('/', 1)[-1]} {start:.1f}-{end:.1f}s"


CONFIDENCE_NOTE = (
    "conf: how often a verdict of this kind and strength was right on the project's "
    "development recordings (real and synthetic radio; see bench/RESULTS.md); none for "
    "unverifiable, which decides nothing. On unfamiliar radio, replay before you publish."
)
"""What the ``conf`` column means."""
NARROW = 110
"""Below this many columns a quote takes two lines: its verdict, then its place and text."""


def verdict_table(checks: Sequence[QuoteCheck], width: int | None = None,
                  review: int = 10, legend: bool = True) -> str:
    """A fixed-width table: one line per quote (two on a terminal narrower than
    ``NARROW``), then counts per verdict, a legend of the verdicts shown and of ``conf``,
    then the ``review`` unverifiable quotes to replay first (most doubtful first), with
    their spans. Verdicts are counted in :class:`~pipeline.records.Verdict`'s order.
    The place columns are as wide as their longest entry (up to 60 characters), so a
    file's times are never cut off; the quoted text takes what is left.
    """
    width = width or shutil.get_terminal_size((120, 20)).columns
    where_w = _column_width([_where(c) for c in checks], "where")
    narrow = width < NARROW and width < 58 + where_w + 30
    lines = _narrow_rows(checks, width) if narrow else _wide_rows(checks, width, where_w)
    counts = Counter(c.verdict for c in checks)
    lines.append("")
    lines.append(", ".join(f"{counts[v]} {v.value}" for v in Verdict if counts[v]) or "no quotes")
    if legend and checks:
        lines += _legend(checks, width)
    lines += _review_lines(checks, review, width, narrow)
    return "\n".join(lines)


def _wide_rows(checks: Sequence[QuoteCheck], width: int, where_w: int) -> list[str]:
    quote_w = max(20, width - 58 - where_w)
    header = f"{'quote':<26} {'verdict':<12} {'conf':>4}  {'speaker':<12} {'where':<{where_w}} text"
    lines = [header, "-" * min(width, len(header) + quote_w)]
    for c in sorted(checks, key=_order):
        lines.append(
            f"{_head(c)} {_clip(_where(c), where_w):<{where_w}} {_clip(_shown_text(c), quote_w)}"
        )
    return lines


def _narrow_rows(checks: Sequence[QuoteCheck], width: int) -> list[str]:
    """Two lines a quote: id, verdict, conf, speaker; then, indented, place and text."""
    header = f"{'quote':<26} {'verdict':<12} {'conf':>4}  speaker"
    lines = [header, "    where, text", "-" * min(width, 70)]
    for c in sorted(checks, key=_order):
        lines.append(_clip(_head(c).rstrip(), width))
        place = _where(c)
        lines.append(f"    {place}  " + _clip(_shown_text(c), max(20, width - len(place) - 6)))
    return lines


def _head(c: QuoteCheck) -> str:
    conf = "-" if c.confidence is None else f"{c.confidence:.2f}"
    return (f"{_clip_id(c.quote.quote_id):<26} {c.verdict.value:<12} {conf:>4}  "
            f"{_clip(c.speaker or '-', 12):<12}")


def _shown_text(c: QuoteCheck) -> str:
    return c.quote.text if not c.differences else c.differences[0]


def _legend(checks: Sequence[QuoteCheck], width: int) -> list[str]:
    """One line per verdict shown, with its meaning, and what ``conf`` means."""
    shown = {c.verdict for c in checks}
    lines = [""] + [_cut(f"  {v.value:<12} {v.meaning}", width) for v in Verdict if v in shown]
    return lines + _wrap(CONFIDENCE_NOTE, width)


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=max(width - 2, 20), initial_indent="  ", subsequent_indent="  ")


def _column_width(cells: Sequence[str], title: str, most: int = 60) -> int:
    return min(most, max([len(title)] + [len(c) for c in cells]))


def _review_lines(checks: Sequence[QuoteCheck], n: int, width: int, narrow: bool = False) -> list[str]:
    """The first ``n`` unverifiable quotes by ``review_rank``: where to replay, which quote, why."""
    ranked = sorted((c for c in checks if c.review_rank), key=lambda c: c.review_rank)[:max(n, 0)]
    if not ranked:
        return []
    total = sum(1 for c in checks if c.review_rank)
    where_w = _column_width([_listen(c) for c in ranked], "replay")
    lines = ["", f"listen first ({len(ranked)} of {total} unverifiable, most doubtful first):"]
    for c in ranked:
        why = c.differences[0] if c.differences else (c.reasons[0] if c.reasons else "")
        place = _clip(_listen(c), where_w)
        head = f"{c.review_rank:>3}. {place:<{where_w}} {_clip_id(c.quote.quote_id):<26} "
        if narrow:  # the place alone, then the quote and why
            lines += [f"{c.review_rank:>3}. {place}",
                      "     " + _clip(f"{_clip_id(c.quote.quote_id)}: {why}", max(20, width - 5))]
        else:
            lines.append(head + _clip(why, max(20, width - len(head))))
    return lines


def _listen(c: QuoteCheck) -> str:
    """Where to replay: the doubtful span when there is one, else the located span."""
    if not c.recording or c.listen_start_s is None:
        return _where(c)
    return _place(c.recording, c.listen_start_s, c.listen_end_s)


def _order(c: QuoteCheck):
    return (c.quote.source, c.quote.start_char, c.quote.quote_id)
