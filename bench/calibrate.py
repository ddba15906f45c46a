"""Fit the table that turns a verdict's strength into its confidence, on development sets only.

Reads the end-to-end verdicts ``bench_verify.py --rows`` wrote (``set, truth, verdict,
strength``), fits :meth:`pipeline.calibration.Calibration.fit` on the rows of development
sets (a set whose name says ``held-out`` is refused), writes ``pipeline/data/calibration.csv``
and prints, for every set in the files given with ``--check`` (held-out ones included),
how often each verdict at confidence ≥ c was right with the new table.

    python bench/bench_verify.py --search-only --sets a2g-dev,hard-dev,phone --rows dev.csv
    python bench/calibrate.py dev.csv --check held-out.csv
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))

from bench_verify import RIGHT  # noqa: E402

from pipeline.calibration import CALIBRATION_FILE, Calibration  # noqa: E402
from pipeline.records import Verdict  # noqa: E402


def right(verdict: str, truth: str) -> bool:
    """Whether a decisive verdict is right for a quote of this label (``bench_verify.RIGHT``)."""
    return RIGHT["verbatim/minor" if verdict in ("verbatim", "minor") else verdict](truth)


def triples(rows: pd.DataFrame):
    return [(Verdict(v), float(s), right(v, t))
            for v, s, t in zip(rows.verdict, rows.strength, rows.truth) if v != "unverifiable"]


def reliability(rows: pd.DataFrame, table: Calibration, levels=(0.5, 0.7, 0.8, 0.9)) -> list[str]:
    """Per verdict kind: the mean confidence stated beside the share right, then, of the
    verdicts at confidence at least c, the share right (n)."""
    out = []
    judged = [(Verdict(v), t, table.confidence(Verdict(v), float(s)))
              for v, s, t in zip(rows.verdict, rows.strength, rows.truth)]
    for kind, verdicts in [("misquote", {Verdict.MISQUOTE}), ("not_found", {Verdict.NOT_FOUND}),
                           ("confirmed", {Verdict.VERBATIM, Verdict.MINOR})]:
        mine = [(right(v.value, t), c or 0.0) for v, t, c in judged if v in verdicts]
        if not mine:
            out.append(f"  {kind:<10} none")
            continue
        cells = [f"stated {sum(c for _, c in mine) / len(mine):.2f}, "
                 f"right {sum(r for r, _ in mine) / len(mine):.2f} ({len(mine)})"]
        for level in levels:
            at = [r for r, c in mine if c >= level]
            cells.append(f">={level:g}: {sum(at) / len(at):.2f} ({len(at)})" if at else f">={level:g}: - (0)")
        out.append(f"  {kind:<10} " + "; ".join(cells[:1]) + " | " + ", ".join(cells[1:]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("rows", nargs="+", type=Path, help="CSVs of development verdicts")
    parser.add_argument("--check", nargs="*", type=Path, default=[],
                        help="CSVs of verdicts to report reliability on (held-out sets too)")
    parser.add_argument("--out", type=Path, default=CALIBRATION_FILE)
    args = parser.parse_args()
    dev = pd.concat([pd.read_csv(p) for p in args.rows], ignore_index=True)
    held = sorted({s for s in dev["set"] if "held-out" in s})
    if held:
        sys.exit(f"calibrate: refusing to fit on held-out sets: {', '.join(held)}")
    table = Calibration.fit(triples(dev))
    sets = ", ".join(sorted(set(dev["set"])))
    kinds = dev[dev.verdict != "unverifiable"].groupby("verdict").size().to_dict()
    header = (f"Quote confidence by verdict kind and strength: fitted by bench/calibrate.py on\n"
              f"{datetime.date.today().isoformat()} from {len(dev)} end-to-end verdicts of the "
              f"development sets {sets}\n(bench/bench_verify.py --search-only --rows); "
              f"decisive verdicts: {kinds}.\nconfidence = (right + 1) / (n + 2) of the verdicts "
              "of that kind from strength_from up to the next row's.")
    table.write(args.out, header)
    print(f"wrote {args.out} ({len(table.bins)} rows) from {sets}")
    for row in table.rows():
        print(f"  {row['kind']:<10} strength >= {row['strength_from']:<6g} {row['right']:>3}/{row['n']:<3} "
              f"-> {row['confidence']:.3f}")
    for rows in [pd.read_csv(p) for p in args.check] + [dev]:
        for name, group in rows.groupby("set"):
            label = "held out" if "held-out" in name else "development: fitted on"
            print(f"{name} ({label}): mean confidence stated and share right (n) | share right "
                  "at confidence >= c (n)")
            print("\n".join(reliability(group, table)))


if __name__ == "__main__":
    main()
