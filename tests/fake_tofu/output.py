"""Output helpers: lines on stdout, colour, diagnostic boxes, Go's formats, fake ids."""

from __future__ import annotations

import json
import textwrap
import zlib
from datetime import datetime

from tests.fake_tofu.texts import COLUMNS


def out(text: str = "") -> None:
    print(text, flush=True)


# The engine colours its human output wherever it writes, a pipe included, unless `-no-color`.
COLOUR = True


def bold(text: str) -> str:
    """`[reset][bold]TEXT[reset]` as the engine's colorstring writes it."""
    return f"\x1b[0m\x1b[1m{text}\x1b[0m" if COLOUR else text


def diagnostic(
    summary: str, detail: str = "", address: str | None = None, severity: str = "Error"
) -> str:
    """A diagnostic box as internal/command/format/diagnostic.go draws it, without colours."""
    body = [f"{severity}: {summary}", ""]
    if address:
        body.append(f"  with {address},")
    for line in detail.split("\n") if detail else []:
        if line.startswith(" "):
            body.append(line)
        else:  # paragraphs wrap at the width less the left rule, as go-wordwrap does
            body.extend(
                textwrap.wrap(line, COLUMNS - 3, break_long_words=False, break_on_hyphens=False)
                or [""]
            )
    lines = ["╷", *(f"│ {line}" if line else "│" for line in body), "╵"]
    return "\n".join(lines) + "\n"


def go_time(moment: datetime) -> str:
    """Go's time.Time.String(), which LockInfo uses for Created."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f000 +0000 UTC")


def value_type(value):
    """The cty type OpenTofu reports for a JSON value in `output -json`."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return ["tuple", [value_type(v) for v in value]]
    if isinstance(value, dict):
        return ["object", {k: value_type(v) for k, v in value.items()}]
    return "dynamic"


def hcl_value(value) -> str:
    return json.dumps(value)


def fake_id(address: str, generation: int = 0) -> str:
    return f"fake-{zlib.crc32(f'{address}#{generation}'.encode()):08x}"
