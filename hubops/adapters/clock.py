"""The time as run records and routing snapshots keep it."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> str:
    """UTC, to the millisecond, ending in `Z`: sorts as text in time order."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
