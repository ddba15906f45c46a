"""Quote confidence as a measured rate: how often a verdict of that strength was right.

Judging gives each verdict a *strength*, how clearly the audio decided (from the judging
model's score margins; a fixed figure for a verdict a rule gives). Strength orders verdicts
but is no probability. The confidence a user reads is the share of verdicts of the same
kind, at the same or a similar strength, that were right on the development sets of
``bench/bench_verify.py``, as fitted by ``bench/calibrate.py`` into
``pipeline/data/calibration.csv``:

- ``misquote``: the quote was in fact edited;
- ``not_found``: the line was in fact not said in the recordings searched;
- ``verbatim`` and ``minor`` (one kind, *confirmed*): the quote was said as published.

``unverifiable`` decides nothing, so it has no confidence. The fit is isotonic (a higher
strength is never less right), and each rate is counted with one right and one wrong
verdict added (so that three right of three reads 0.8, not 1.0): on a few dozen verdicts
per kind, a rate is a rough figure, and the held-out sets say how well it carries over.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline.records import Verdict

CALIBRATION_FILE = Path(__file__).parent / "data" / "calibration.csv"

KIND = {Verdict.MISQUOTE: "misquote", Verdict.NOT_FOUND: "not_found",
        Verdict.VERBATIM: "confirmed", Verdict.MINOR: "confirmed"}
"""The kind of verdict each calibrated verdict is counted as."""

COLUMNS = ["kind", "strength_from", "right", "n", "confidence"]


@dataclass(frozen=True)
class Bin:
    """Verdicts of one kind from one strength up to the next bin's: how many were right."""

    kind: str
    strength_from: float
    right: int
    n: int

    @property
    def rate(self) -> float:
        """The share right, with one right and one wrong verdict added."""
        return (self.right + 1) / (self.n + 2)


@dataclass(frozen=True)
class Calibration:
    """Bins of every calibrated kind, each kind's in rising strength."""

    bins: tuple[Bin, ...]

    def confidence(self, verdict: Verdict, strength: float) -> float | None:
        """How often a verdict of this kind at this strength was right (below the weakest
        strength fitted, the weakest bin's rate); None where the kind is not calibrated
        (``unverifiable``) or the table has no bin for it.

        >>> table = Calibration((Bin("misquote", 0.0, 3, 6), Bin("misquote", 0.9, 19, 20)))
        >>> table.confidence(Verdict.MISQUOTE, 0.95), table.confidence(Verdict.MISQUOTE, 0.5)
        (0.909, 0.5)
        >>> table.confidence(Verdict.UNVERIFIABLE, 0.5) is None
        True
        """
        bins = [b for b in self.bins if b.kind == KIND.get(verdict)]
        if not bins:
            return None
        below = [b for b in bins if b.strength_from <= strength + 1e-9] or bins[:1]
        return round(max(below, key=lambda b: b.strength_from).rate, 3)

    def rows(self) -> list[dict]:
        return [{"kind": b.kind, "strength_from": b.strength_from, "right": b.right, "n": b.n,
                 "confidence": round(b.rate, 3)} for b in self.bins]

    def write(self, path: str | Path = CALIBRATION_FILE, header: str = "") -> None:
        """Write the table as CSV, ``header`` as ``#`` comment lines above it."""
        with open(path, "w", newline="", encoding="utf-8") as f:
            for line in header.splitlines():
                f.write(f"# {line}\n".replace("#  ", "# ") if line else "#\n")
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(self.rows())

    @classmethod
    def read(cls, path: str | Path = CALIBRATION_FILE) -> Calibration:
        with open(path, encoding="utf-8") as f:
            rows = csv.DictReader(line for line in f if not line.startswith("#"))
            return cls(tuple(Bin(r["kind"], float(r["strength_from"]), int(r["right"]), int(r["n"]))
                             for r in rows))

    @classmethod
    def fit(cls, verdicts: Iterable[tuple[Verdict, float, bool]]) -> Calibration:
        """Fit from (verdict, strength, right) triples: per kind, the pool-adjacent-violators
        blocks of the share right over rising strength (the isotonic fit), each block one bin.

        >>> rows = [(Verdict.MISQUOTE, s, r) for s, r in [(0.5, False), (0.6, True), (0.7, False),
        ...                                               (0.9, True), (0.95, True)]]
        >>> [(b.strength_from, b.right, b.n) for b in Calibration.fit(rows).bins]
        [(0.5, 0, 1), (0.6, 1, 2), (0.9, 2, 2)]
        """
        by_kind: dict[str, list[tuple[float, bool]]] = {}
        for verdict, strength, right in verdicts:
            if verdict in KIND:
                by_kind.setdefault(KIND[verdict], []).append((strength, right))
        bins = []
        for kind in sorted(by_kind):
            bins += [Bin(kind, *block) for block in _blocks(sorted(by_kind[kind]))]
        return cls(tuple(bins))


def _blocks(points: list[tuple[float, bool]]) -> list[tuple[float, int, int]]:
    """Pool adjacent violators over points sorted by strength: (from strength, right, n) per
    block, the counted shares (:attr:`Bin.rate`) rising. Equal strengths are pooled first."""
    blocks: list[list] = []
    for strength, right in points:
        if blocks and blocks[-1][0] == strength:
            blocks[-1][1] += int(right)
            blocks[-1][2] += 1
        else:
            blocks.append([strength, int(right), 1])
    merged: list[list] = []
    for block in blocks:
        merged.append(block)
        while len(merged) > 1 and _rate(merged[-2]) >= _rate(merged[-1]):
            last = merged.pop()
            merged[-1][1] += last[1]
            merged[-1][2] += last[2]
    return [(round(s, 4), r, n) for s, r, n in merged]


def _rate(block: list) -> float:
    return (block[1] + 1) / (block[2] + 2)


@lru_cache(maxsize=1)
def shipped() -> Calibration:
    """The table shipped with the package (empty where there is none)."""
    return Calibration.read() if CALIBRATION_FILE.is_file() else Calibration(())
