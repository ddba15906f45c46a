"""The library's exceptions: one base class the command line turns into a one-line message."""

from __future__ import annotations


class DispatchError(Exception):
    """A failure a person can act on: the message says what happened and what to do."""
