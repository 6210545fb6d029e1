"""Typed confirmations: the operator types the environment's name, exactly, on a terminal."""

from __future__ import annotations

import select
import sys

from hubops.facts.errors import ConfirmationError

_WAIT_SLICE_SECONDS = 0.2


def require_terminal(refusal: str) -> None:
    """Refuse at once, with `refusal`, when no terminal is attached to ask on."""
    if not sys.stdin.isatty():
        raise ConfirmationError(refusal)


def require_name(name: str, typed: str, consequence: str, *, given_as: str = "You typed") -> None:
    """`typed` must be exactly `name`; `given_as` says where it came from (a prompt, a flag)."""
    if typed != name:
        raise ConfirmationError(f"{given_as} {typed!r}, not {name!r}: {consequence}.")


def ask_for_name(name: str, prompt: str, consequence: str) -> None:
    """Ask for `name` on the terminal; anything else raises ConfirmationError(consequence)."""
    require_name(name, _typed_line(prompt).strip(), consequence)


def _typed_line(prompt: str) -> str:
    """The line typed after `prompt` ("" at the end of input).

    A stop signal must end the wait at once. Python acts on a signal between steps of its own
    code, so one that lands after the prompt is shown but before a blocking read begins (as with
    `input()`) would wait for the operator to press Enter: the read waits in short slices.
    """
    sys.stdout.write(prompt)
    sys.stdout.flush()
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        return sys.stdin.readline()  # not a file: reading it cannot block
    while not select.select([fd], [], [], _WAIT_SLICE_SECONDS)[0]:
        pass  # the end of each slice lets a pending signal's handler run
    return sys.stdin.readline()
