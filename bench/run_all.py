"""Run every benchmark in one go and record what each printed in ``bench/results/``.

Each benchmark prints its own side-by-side ratios; this script runs them one after
another (so they do not compete for the two cores), and writes each one's output to
``bench/results/<name>.txt`` under a header with the command, the date and the
machine. ``bench/RESULTS.md`` summarises them.

Usage:
    .venv/bin/python bench/run_all.py [--quick] [name ...]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"

RUNS = {  # name: (full arguments, quick arguments)
    "segment": (["--minutes", "30"], ["--minutes", "3"]),
    "engines": (["--repeat", "2"], ["--quick"]),
    "locate": (["--hours", "100", "--quotes", "1000"], ["--hours", "10", "--quotes", "200"]),
    "speakers": ([], []),
    "verify": ([], ["--quick"]),
    "verify_calls": ([], ["--calls", "10", "--quotes", "25", "--held-back", "3"]),
    "throughput": (["--minutes", "30", "--calls", "200"], ["--minutes", "5", "--calls", "20"]),
    "jobs": (["--repeat", "1"], ["--repeat", "1", "--minutes", "5"]),
    "faults": ([], ["--files", "200"]),
    "review": ([], []),
    "calls": (["--calls", "1000"], ["--calls", "60"]),
    "units": (["--calls", "1000"], ["--calls", "200"]),
}


def header(command: list[str]) -> str:
    """Command, date and machine, for the top of a results file."""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"$ {' '.join(command)}\n# {datetime.datetime.now().isoformat(timespec='seconds')}, "
            f"{platform.node()}, {os.cpu_count()} cores, load average {load}, "
            f"Python {platform.python_version()}\n\n")


def run(name: str, quick: bool) -> int:
    """Run one benchmark, echo its output, and record it."""
    script = BENCH / f"bench_{name}.py"
    command = [sys.executable, str(script.relative_to(BENCH.parent)), *RUNS[name][quick]]
    print(f"== {name}: {' '.join(command[1:])}", flush=True)
    top = header(["python", *command[1:]])
    proc = subprocess.run(command, cwd=BENCH.parent, capture_output=True, text=True)
    print(proc.stdout, end="")
    if proc.returncode:
        print(proc.stderr[-3000:], file=sys.stderr)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.txt").write_text(top + proc.stdout, encoding="utf-8")
    return proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs (minutes, not an hour)")
    parser.add_argument("names", nargs="*", help=f"benchmarks to run: {', '.join(RUNS)} (all)")
    args = parser.parse_args()
    unknown = set(args.names) - set(RUNS)
    if unknown:
        parser.error(f"unknown benchmark: {', '.join(sorted(unknown))}")
    failed = [n for n in (args.names or RUNS) if run(n, args.quick)]
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
