"""Typed confirmations: the operator types the environment's name, exactly, on a terminal."""

from __future__ import annotations

import sys

from hubops.facts.errors import ConfirmationError


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
    try:
        typed = input(prompt).strip()
    except EOFError:
        typed = ""
    require_name(name, typed, consequence)
