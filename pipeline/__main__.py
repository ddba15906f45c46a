"""``python -m pipeline`` is the ``dispatch`` command."""

from pipeline.cli import main

main()
