"""``dispatch`` with the fake engine, in a process of its own, for tests and benchmarks that
kill it (``kill -9``) or run two at once. Plumbing only: the words are the fake engine's.

Usage::

    python tests/fake_dispatch.py [--delay SECONDS] transcribe calls/ --out out --no-speakers

``--delay`` makes every window take that long, so a kill lands mid-batch.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conftest import FakeEngine  # noqa: E402


class SlowEngine(FakeEngine):
    """The fake engine, taking ``delay`` seconds per window."""

    def __init__(self, delay: float):
        super().__init__()
        self.delay = delay

    def transcribe(self, audio, options, clips=None):
        time.sleep(self.delay)
        return super().transcribe(audio, options, clips)


def main(argv: list[str]) -> None:
    import pipeline.engines
    from pipeline.cli import cli

    delay = 0.0
    if argv[:1] == ["--delay"]:
        delay, argv = float(argv[1]), argv[2:]
    pipeline.engines.load_engine = lambda *a, **k: SlowEngine(delay)
    cli.main(argv, prog_name="dispatch")


if __name__ == "__main__":
    main(sys.argv[1:])
