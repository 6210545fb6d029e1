"""Shortening text for messages: cut at a word boundary, never inside a word."""

from __future__ import annotations

ELLIPSIS = "..."


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
