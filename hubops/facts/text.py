"""Text for messages: shortened at a word boundary, and made safe for a terminal."""

from __future__ import annotations

import re
import unicodedata

ELLIPSIS = "..."
# What the engine relays (a provisioner's output, a diagnostic, a for_each key) is anyone's text:
# control characters in it could move the cursor over earlier lines, retitle the terminal or write
# the clipboard (OSC 52), and Unicode's format characters (bidi overrides, zero-width ones) could
# show text in another order than it is. Only the colours the engine itself draws with are let
# through (SGR: ESC [ params m, with the engine's own params: reset, bold, dim, underline, and the
# red to cyan foregrounds); any other (conceal, black, backgrounds) is shown as an escape, so that
# nothing relayed can hide what follows it.
_COLOUR = re.compile(r"\x1b\[([0-9;]*)m")
_ENGINE_COLOURS = frozenset({"", "0", "1", "2", "4", "22", "24", "39", *map(str, range(31, 37))})
_RESET = "\x1b[0m"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _is_engine_colour(params: str) -> bool:
    return all(param in _ENGINE_COLOURS for param in params.split(";"))


def _escaped(piece: str) -> str:
    def escape(match: re.Match) -> str:
        char = match.group()
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"

    shown = _CONTROL.sub(escape, piece)
    return "".join(
        f"\\u{ord(char):04x}" if unicodedata.category(char) == "Cf" else char for char in shown
    )


def visible(text: str) -> str:
    """`text` with every C0/C1 control character but tab and newline, every Unicode format
    character (category Cf: bidi overrides, zero-width marks) and every colour code but the
    engine's own shown as an escape (`\\x1b`, `\\u202e`), so it cannot act on the terminal that
    displays it; where its colours leave the terminal coloured, a reset ends it."""
    out, coloured, last = [], False, 0
    for match in _COLOUR.finditer(text):
        out.append(_escaped(text[last : match.start()]))
        if _is_engine_colour(match.group(1)):
            out.append(match.group())
            coloured = match.group(1).split(";")[-1] not in ("", "0")
        else:
            out.append(_escaped(match.group()))
        last = match.end()
    out.append(_escaped(text[last:]))
    shown = "".join(out)
    if coloured:  # before a final newline, as the engine itself resets
        body, newline = (shown[:-1], "\n") if shown.endswith("\n") else (shown, "")
        shown = body + _RESET + newline
    return shown


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
