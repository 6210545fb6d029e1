"""The time as run records and routing snapshots keep it."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> str:
    """UTC, to the millisecond, ending in `Z`: sorts as text in time order."""
    return as_text(datetime.now(UTC))


def as_text(moment: datetime) -> str:
    """A moment (with its zone) as `now` writes one."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
