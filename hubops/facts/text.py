"""Text for messages: shortened at a word boundary, and made safe for a terminal."""

from __future__ import annotations

import re

ELLIPSIS = "..."
# What the engine relays (a provisioner's output, a diagnostic, a for_each key) is anyone's text:
# control characters in it could move the cursor over earlier lines, retitle the terminal or write
# the clipboard (OSC 52). Only colour codes (SGR: ESC [ digits m) are let through, as drawn.
_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """`text` with every C0/C1 control character but tab, newline and colour codes shown as an
    escape (`\\x1b`), so it cannot act on the terminal that displays it."""
    pieces = _COLOUR.split(text)
    colours = _COLOUR.findall(text)
    shown = [_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", piece) for piece in pieces]
    return "".join(part for pair in zip(shown, [*colours, ""], strict=True) for part in pair)


def shorten(text: str, limit: int, *, keep_end: bool = False) -> str:
    """`text` on one line (runs of whitespace become one space), at most `limit` characters.

    A longer text keeps its start (or, with `keep_end`, its end: where a tool's last words are)
    and loses whole words, marked with `...`. Only a single word longer than the limit is cut
    inside itself, as there is no boundary to cut it at.
    """
    one_line = " ".join(text.split())
    if len(one_line) <= limit:
        return one_line
    room = max(limit - len(ELLIPSIS) - 1, 1)  # the ellipsis and the space beside it
    if keep_end:
        part = one_line[-room:]
        if one_line[-room - 1] != " ":  # it starts inside a word: drop the rest of that word
            _, space, rest = part.partition(" ")
            part = rest if space else part
        return f"{ELLIPSIS} {part}"
    part = one_line[:room]
    if one_line[room] != " ":  # it ends inside a word: drop the start of that word
        head, space, _ = part.rpartition(" ")
        part = head if space else part
    return f"{part} {ELLIPSIS}"
