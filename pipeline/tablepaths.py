"""Recording paths in the tables: relative to one root, recorded once in ``run.json``.

A run's tables (``segments.csv``, ``words.csv``, ``calls.csv``, ``quotes.csv``,
``quote_words.csv``) name each recording by its path relative to the run's root, so the
tables stay valid when the folder of recordings is moved or read on another machine.
The root is the current folder when every recording of the run is under it, else the
deepest folder that holds them all; its absolute path is written once, to ``run.json``
beside the tables. Two files with one name in different folders keep their folders in
the path, so they stay apart.

Inside a run (the workspace, the batch) a recording is named as ``batch.recording_name``
names it: relative to the folder the run was started in when under it, else absolute.
:class:`TablePaths` turns one into the other, both ways. Readers of the tables (the
review app, ``dispatch evidence`` and ``plot``) go back from a table's path to the
recording with :meth:`TablePaths.recording`; results written before ``run.json`` existed
hold the recordings' own names and read as they are.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from pipeline.files import atomic_path

RUN_FILE = "run.json"
"""The file beside the tables that records the root of their recording paths."""


@dataclass(frozen=True)
class TablePaths:
    """How one run's recordings are named in its tables."""

    root: str
    """Absolute folder the tables' recording paths start from."""
    cwd: str
    """Absolute folder the run was started in (where its relative recording names start)."""
    found_under: str | None = None
    """Where the tables' paths are looked for on disk, when not :attr:`root`: the root
    ``run.json`` gives now (edited after the recordings were moved)."""

    @classmethod
    def for_run(cls, recordings: Sequence[str], cwd: str | Path | None = None) -> TablePaths:
        """The root of a run's recordings: ``cwd`` (default: the current folder) when every
        recording is under it, else the deepest folder holding them all.

        >>> TablePaths.for_run(["/calls/north/a.wav", "/calls/south/a.wav"], "/home/me").root
        '/calls'
        >>> TablePaths.for_run(["calls/a.wav", "/home/me/b.wav"], "/home/me").root
        '/home/me'
        """
        cwd = os.path.abspath(cwd or os.getcwd())
        folders = [os.path.dirname(os.path.join(cwd, r)) for r in recordings]
        if all(_under(f, cwd) for f in folders):
            return cls(cwd, cwd)
        return cls(os.path.commonpath(folders), cwd)

    def table_path(self, recording: str) -> str:
        """A recording's path in the tables: relative to :attr:`root`, with ``/``.

        >>> TablePaths("/calls", "/home/me").table_path("/calls/north/a.wav")
        'north/a.wav'
        """
        absolute = os.path.normpath(os.path.join(self.cwd, recording))
        if not _under(absolute, self.root):
            return recording
        return PurePosixPath(*Path(os.path.relpath(absolute, self.root)).parts).as_posix()

    def absolute(self, table_path: str) -> Path:
        """Where a table's recording path points on disk: under the root ``run.json`` gives
        (:attr:`found_under`, else :attr:`root`), unless it is absolute."""
        return Path(self.found_under or self.root) / table_path

    def recording(self, table_path: str) -> str:
        """The run's own name of the recording a table's path names (the inverse of
        :meth:`table_path`).

        >>> TablePaths("/calls", "/home/me").recording("north/a.wav")
        '/calls/north/a.wav'
        >>> TablePaths("/home/me", "/home/me").recording("calls/a.wav")
        'calls/a.wav'
        """
        absolute = os.path.normpath(Path(self.root) / table_path)
        return os.path.relpath(absolute, self.cwd) if _under(absolute, self.cwd) else absolute

    def write(self, out_dir: str | Path) -> Path:
        """Record the root in ``out_dir/run.json`` (written whole, or not at all)."""
        path = Path(out_dir) / RUN_FILE
        with atomic_path(path) as tmp:
            Path(tmp).write_text(json.dumps({"root": self.root}, indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, out_dir: str | Path, cwd: str | Path | None = None) -> TablePaths | None:
        """The paths of the tables in ``out_dir``, or None where no ``run.json`` is (tables
        written before it was kept hold the recordings' own names).

        Args:
            out_dir: The results folder.
            cwd: The folder the run was started in (the workspace's ``Run.root``); default
                the current folder.
        """
        path = Path(out_dir) / RUN_FILE
        try:
            root = json.loads(path.read_text(encoding="utf-8"))["root"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return cls(str(root), os.path.abspath(cwd or os.getcwd()))


def _under(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or inside it (both absolute)."""
    return os.path.commonpath([path, folder]) == folder


def of_results(out_dir: str | Path) -> TablePaths | None:
    """The paths of the tables in a results folder, None where no ``run.json`` is.

    The tables' names are those of the workspace's last run (its recordings and the folder
    it was started in give the root it wrote them from), and they are found on disk under
    the root ``run.json`` gives now, so a folder of recordings moved after the run is found
    by writing its new place into ``run.json``.
    """
    from pipeline.workspace import FILENAME, Workspace

    written = TablePaths.read(out_dir)
    if written is None or not (Path(out_dir) / FILENAME).is_file():
        return written
    with Workspace(out_dir) as workspace:
        run = workspace.last_run()
        recordings = workspace.run_recordings(run.id) if run else []
    if not recordings:
        return written
    made = TablePaths.for_run(recordings, run.root)
    return replace(made, found_under=None if written.root == made.root else written.root)
