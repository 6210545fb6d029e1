"""Numbers from settings and flags, parsed one way everywhere.

`nan` and `inf` parse as floats, but a timeout of `nan` never ends and a bound of `inf` waits for
ever: only finite numbers in range are settings. Each caller says in its own words what the
setting is for when one is refused.
"""

from __future__ import annotations

import math


def parse_number(raw, *, kind: type = float, zero_ok: bool = False) -> float | None:
    """`raw` as a finite `kind` above 0 (or 0 too with `zero_ok`); None when it is not one."""
    try:
        value = kind(str(raw).strip())
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
        return None
    return value
