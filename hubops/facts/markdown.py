"""Values in GitHub job summaries (Markdown with HTML): shown as they are, never read as markup.

Resource addresses keep what `for_each` keys hold (a backtick, a `|`, a `<`), and DNS answers are
whatever a zone says: interpolated raw, one could add table cells, an image or a bold "all clear"
beside a destroy in the summary production's reviewers read.
"""

from __future__ import annotations

import re

_BACKTICKS = re.compile(r"`+")
# Markdown's punctuation that opens emphasis, code, links, images or table cells, and a `_` that
# is not inside a word (GitHub never reads an intraword `_` as emphasis).
_MARKUP = re.compile(r"[\\`*\[\]|!~#]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def code(text: str) -> str:
    """An inline code span that no run of backticks in `text` can close."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def fenced(text: str) -> str:
    """A code block whose fence no run of backticks in `text` can close."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"


def cell(text: str) -> str:
    """`text` as code in a table cell: a `|` would end the cell even inside code."""
    return code(text).replace("|", "\\|")


def words(text: str) -> str:
    """`text` as plain words: HTML as entities, Markdown's punctuation backslash-escaped."""
    text = re.sub(r"[&<>]", lambda match: _HTML[match.group()], text)
    return _MARKUP.sub(lambda match: "\\" + match.group(), text)
