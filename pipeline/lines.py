"""Versions of one line: quotes from any source that land on the same stretch of audio.

They share a ``line_id``. Where their words differ, the versions are scored against each
other on that audio with only their differing words apart (typos and glossary forms left
out), and one the audio disfavours at a deciding word is a ``misquote``; a disfavoured
version is never left ``verbatim``. The thresholds are ``VerifyOptions`` fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from pipeline import spoken
from pipeline import text as textmod
from pipeline.adjudicate import compare_versions, cut_window
from pipeline.records import QuoteCheck, Verdict
from pipeline.scoring import TextScorer

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.verify import VerifyOptions

__all__ = ["assign_lines", "compare_line_versions"]


def assign_lines(checks: Sequence[QuoteCheck], min_overlap: float = 0.5) -> None:
    """Give quotes that land on the same stretch of audio the same ``line_id``.

    Two located quotes share a line when their spans in one recording overlap by at
    least ``min_overlap`` of the shorter one. Ids are ``L1``, ``L2``... in time order.
    """
    located = sorted((c for c in checks if c.recording), key=lambda c: (c.recording, c.start_s))
    lines: list[list[QuoteCheck]] = []
    for c in located:
        for line in lines:
            if any(_overlap_share(c, other) >= min_overlap for other in line):
                line.append(c)
                break
        else:
            lines.append([c])
    for n, line in enumerate(lines, 1):
        for c in line:
            c.line_id = f"L{n}"


def _overlap_share(a: QuoteCheck, b: QuoteCheck) -> float:
    if a.recording != b.recording:
        return 0.0
    overlap = min(a.end_s, b.end_s) - max(a.start_s, b.start_s)
    shorter = min(a.end_s - a.start_s, b.end_s - b.start_s)
    return overlap / shorter if shorter > 0 else 0.0


def compare_line_versions(checks: Sequence[QuoteCheck], samples_for: Callable[[str], np.ndarray],
                          scorer: TextScorer, options: VerifyOptions) -> None:
    """Where quotes of one line differ in words, let the audio decide between the versions.

    Each version is scored on the line's audio by mean log-probability per token. Where
    the versions differ in words (not only in form), one the audio disfavours against the
    favoured one by ``decide_nats`` or more is a ``misquote`` (the words that differ decide
    it, whatever stays doubtful elsewhere), and the favoured one is not: a ``misquote``
    there becomes ``unverifiable``. A version behind by less than that but more than
    ``version_margin`` cannot stay ``verbatim`` or ``minor``. Every version's reasons say
    how it fared.
    """
    for line in _lines(checks).values():
        versions = _distinct_versions(line)
        if len(versions) < 2:
            continue
        start = min(c.start_s for c in line)
        end = max(c.end_s for c in line)
        window, _ = cut_window(samples_for(line[0].recording), start, end, options.adjudicate)
        texts = list(versions)
        scores = compare_versions([_plain(t) for t in texts], window, scorer)
        best = texts[int(np.argmax(scores))]
        _decide_versions(versions, best, window, scorer, options)


def _decide_versions(versions: dict[str, list[QuoteCheck]], best: str, window: np.ndarray,
                     scorer: TextScorer, options: VerifyOptions) -> None:
    """Each other version against the one the audio favours, on the words that differ
    only: the favoured text with just the other's differing words put in (its typos and
    abbreviations left out), both scored on the line's audio."""
    others = [t for t in versions if t != best]
    differs = {t: _word_differences(t, best) for t in others}
    paired = {t: _with_differences(best, t) for t in others}
    scores = compare_versions([_plain(best)] + [_plain(paired[t]) for t in others], window, scorer)
    rivals = []
    for t, score in zip(others, scores[1:]):
        behind = scores[0] - score
        related = _same_line(t, best, options)
        rivals.append((behind, differs[t] if related else []))
        for c in versions[t]:
            _apply_version_score(c, behind, differs[t], len(versions), options, related)
    for c in versions[best]:
        _apply_favoured(c, rivals, len(versions), options)


def _same_line(text: str, other: str, options: VerifyOptions) -> bool:
    """Whether two texts on one stretch of audio are versions of one line (they share
    most words), not two lines that landed on the same audio."""
    a = [t.text for t in textmod.normalize(text)]
    b = [t.text for t in textmod.normalize(other)]
    import difflib

    shared = sum(m.size for m in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_matching_blocks())
    return shared >= options.version_shared_share * max(len(a), len(b))


def _with_differences(base: str, other: str) -> str:
    """``base`` with only the stretches where ``other`` differs in words put in."""
    out: list[str] = []
    for op, mine, theirs in _aligned(base, other):
        out += theirs if op != "equal" and _differ_in_words(mine, theirs) else mine
    return " ".join(out)


def _differ_in_words(a: list[str], b: list[str]) -> bool:
    """Whether two stretches differ in words, not only in form (fillers, typos, glossary
    forms, numbers written otherwise, homophones)."""
    if a and b and (textmod.same_form(a, b) or spoken.same_digits(a, b) or spoken.same_sound(a, b)):
        return False
    return bool([w for w in a + b if not textmod.is_filler(w)])


def _lines(checks: Iterable[QuoteCheck]) -> dict[str, list[QuoteCheck]]:
    out: dict[str, list[QuoteCheck]] = {}
    for c in checks:
        if c.line_id and len(c.quote.parts or [c.quote.text]) == 1 and not c.quote.too_short:
            out.setdefault(c.line_id, []).append(c)
    return out


def _distinct_versions(line: list[QuoteCheck]) -> dict[str, list[QuoteCheck]]:
    """Versions of a line that differ in words (not only in form), text -> checks. A quote
    that is an excerpt of another ("Ten four, eight thirty-three." of "Ten four, eight
    thirty-three. Let me know when you're out.") is no rival version: it is left out."""
    versions: dict[str, list[QuoteCheck]] = {}
    for c in line:
        key = " ".join(t.text for t in textmod.normalize(c.quote.text))
        versions.setdefault(key, []).append(c)
    rivals = {k: v for k, v in versions.items()
              if not any(k != other and f" {k} " in f" {other} " for other in versions)}
    return {checks[0].quote.text: checks for checks in rivals.values()}


def _plain(text: str) -> str:
    """A version in the plain casing and punctuation shared by all compared versions."""
    return " ".join(textmod.split_words(text)).lower()


def _word_differences(text: str, other: str) -> list[tuple[str, str]]:
    """Where two versions of a line differ in words, not only in form: (this version's
    words, the other's) per differing stretch."""
    return [(" ".join(x), " ".join(y)) for op, x, y in _aligned(text, other)
            if op != "equal" and _differ_in_words(x, y)]


def _aligned(text: str, other: str) -> list[tuple[str, list[str], list[str]]]:
    """Two texts' words aligned by their normalised forms: (opcode, words, other's words)."""
    import difflib

    a, b = textmod.split_words(text), textmod.split_words(other)
    na = [" ".join(t.text for t in textmod.normalize(w)) for w in a]
    nb = [" ".join(t.text for t in textmod.normalize(w)) for w in b]
    ops = difflib.SequenceMatcher(a=na, b=nb, autojunk=False).get_opcodes()
    return [(op, a[i1:i2], b[j1:j2]) for op, i1, i2, j1, j2 in ops]


def _apply_favoured(c: QuoteCheck, rivals: list[tuple[float, list]], n: int,
                    options: VerifyOptions) -> None:
    """The version the audio favours: said so; not a ``misquote`` where it beats another
    version that differs in words by ``decide_nats``."""
    c.reasons.append(f"of {n} versions of this line, the audio favours this one")
    decided = [(lead, d) for lead, d in rivals if d and lead >= options.decide_nats]
    if decided and c.verdict is Verdict.MISQUOTE:
        lead, differs = min(decided, key=lambda x: x[0])
        c.verdict = Verdict.UNVERIFIABLE
        c.strength = options.adjudicate.unverifiable_confidence
        c.doubt = max(c.doubt, 1.0)
        c.reasons.append(f"the audio favours this version over another by {lead:.2f} nats per "
                         f"token where they differ ({_said(differs)}): not called a misquote")


def _said(differs: list[tuple[str, str]]) -> str:
    """The differing stretches, this version's words first ("—" for none)."""
    return "; ".join(f'"{a or "—"}" against "{b or "—"}"' for a, b in differs)


def _apply_version_score(c: QuoteCheck, behind: float, differs: list[tuple[str, str]], n: int,
                         options: VerifyOptions, related: bool = True) -> None:
    """Say how a version fared among the ``n`` of its line (``behind`` the best, in nats per
    token): a ``misquote`` where it differs from the favoured one in words and loses by
    ``decide_nats``; no longer confirmed where it loses by ``version_margin``."""
    c.reasons.append(f"of {n} versions of this line, the audio favours another "
                     f"(by {behind:.2f} nats per token)")
    if not differs:
        c.reasons.append("the versions differ only in form")
        return
    if not related:
        c.reasons.append("the other text shares too few words to be a version of this line")
        return
    if behind >= options.decide_nats:
        if c.verdict is not Verdict.MISQUOTE:
            c.verdict = Verdict.MISQUOTE
            c.strength = options.decided_confidence
            c.doubt = 0.0
            c.review_rank = None
        c.reasons.append(f"the audio decides between the versions where they differ "
                         f"({_said(differs)}): it favours the other")
        return
    if behind > options.version_margin and c.verdict.confirms:
        c.verdict = Verdict.UNVERIFIABLE
        c.strength = round(min(c.strength, options.version_loss_confidence), 3)
        c.doubt = max(c.doubt, 1.0 + behind)
        c.reasons.append("a version the audio favours differs: not confirmed as verbatim")
