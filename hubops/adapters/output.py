"""What the operator reads, written so that a reader who goes away cannot stop the run.

A closed terminal (EIO), or `invoke apply ... | head` once `head` has exited (EPIPE), makes every
later write fail. A run that has started changing an environment must still reach its verdict and
its record, so a failed write silences that stream for the rest of the process (it now points at
/dev/null, which also spares the interpreter's final flush) instead of raising. Whatever is
written here has its control characters made visible first (`text.visible`).
"""

from __future__ import annotations

import os
import sys

from hubops.facts.text import visible

_silenced: set[int] = set()


def _write(stream, text: str) -> None:
    fd = stream.fileno() if hasattr(stream, "fileno") else None
    if fd in _silenced:
        return
    try:
        stream.write(visible(text))
        stream.flush()
    except (BrokenPipeError, OSError, ValueError):
        _silence(stream)


def _silence(stream) -> None:
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        return
    _silenced.add(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def say(text: str = "") -> None:
    """A line for the operator on stdout; never raises."""
    _write(sys.stdout, text + "\n")


def warn(text: str) -> None:
    """A line on stderr; never raises."""
    _write(sys.stderr, text + "\n")


def passthrough(stream, text: str) -> None:
    """The engine's own output, relayed as it comes; never raises."""
    _write(stream, text)
