"""Writing into the output folder safely: whole files or none, and failures as messages.

A table is written under a temporary name in its own folder and renamed into place
when it is complete (:func:`atomic_path`), so a run stopped by a full disk, a kill or
Ctrl-C leaves the previous table or none, never a half-written one that looks whole.
:func:`output_errors` turns the operating system's and SQLite's errors about the
output folder (read-only, full, locked, not a workspace) into an :class:`OutputError`
whose one line says what happened and what to do.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from pipeline.errors import DispatchError

__all__ = ["OutputError", "atomic_path", "output_errors"]

log = logging.getLogger(__name__)

_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_READ_ONLY = frozenset({errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EEXIST})


class OutputError(DispatchError):
    """The output folder cannot be written: read-only, full, locked or not a workspace."""


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path``, renamed onto it when the block ends without error.

    Write the file to the path this yields; when the block completes the file is
    flushed to disk and renamed over ``path`` in one step. On any error (or Ctrl-C)
    the temporary file is removed and ``path`` is left as it was.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> with atomic_path(folder / "t.csv") as tmp:
        ...     _ = tmp.write_text("a,b\\n")
        >>> sorted(p.name for p in folder.iterdir())
        ['t.csv']

    Args:
        path: The file to write.

    Yields:
        The temporary path to write to (same folder, so the rename is atomic).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@contextlib.contextmanager
def output_errors(folder: str | Path) -> Iterator[None]:
    """Turn failures to write into ``folder`` into :class:`OutputError` with advice.

    A disk-full error is translated wherever it happened; other operating-system
    errors only when they concern a file in ``folder`` (an unreadable recording
    elsewhere is not the output folder's fault); SQLite's errors always (only the
    workspace uses SQLite).

    Args:
        folder: The output folder.

    Raises:
        OutputError: What happened to the folder and what to do.
    """
    try:
        yield
    except OutputError:
        raise
    except sqlite3.Error as e:
        raise OutputError(_sqlite_message(folder, e)) from e
    except OSError as e:
        message = _os_message(folder, e)
        if message is None:
            raise
        raise OutputError(message) from e


def _shown(folder: str | Path) -> str:
    return str(folder).rstrip("/") + "/"


def _full(folder) -> str:
    return (f"no space left on the disk holding {_shown(folder)}: free some space (or give "
            "another --out) and run the same command again; finished recordings are kept")


def _read_only(folder, why: str) -> str:
    return f"cannot write to {_shown(folder)} ({why}): give a folder you can write to with --out"


def _os_message(folder, e: OSError) -> str | None:
    if e.errno in _FULL:
        return _full(folder)
    if e.errno in _READ_ONLY and _inside(e.filename, folder):
        return _read_only(folder, e.strerror or str(e))
    return None


def _sqlite_message(folder, e: sqlite3.Error) -> str:
    text = str(e)
    if "full" in text:
        return _full(folder)
    if "readonly" in text or "unable to open" in text:
        return _read_only(folder, text)
    if "locked" in text or "busy" in text:
        return (f"the workspace in {_shown(folder)} is busy (another process is writing it): "
                "wait for it to finish, or give another --out")
    if "not a database" in text or "malformed" in text:
        return (f"{_shown(folder)}workspace.sqlite is damaged or not a dispatch workspace ({text}): "
                "move it away and run again (recordings are transcribed again), or give another --out")
    return f"the workspace in {_shown(folder)} failed ({text}): check the folder, or give another --out"


def _inside(filename, folder) -> bool:
    """Whether an error's file is in ``folder`` (or the error names no file)."""
    if filename is None:
        return True
    target = Path(os.path.abspath(os.fsdecode(filename)))
    base = Path(os.path.abspath(folder))
    return target == base or base in target.parents or target in base.parents
