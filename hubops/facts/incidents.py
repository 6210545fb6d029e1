"""Routing incidents: a supervised apply whose routing changed (it exited 3) stays open until the
routing is verified.

An incident is the run record of a supervised apply whose outcome is "routing changed" (DNS had to
be set by hand). It is closed by a later record that verified the routing: a `restore` record
(written by `invoke dns-check --wait` once the zone's authoritative servers point at the load
balancer), or a supervised apply whose baseline verified, which names the incident in
`closes_incident`. Routing verified at one moment closes every incident before it, so the open
incident is the newest such apply with no closing record after it. Records are named alike in both
stores, so a record's name (its file name) identifies it. An incident opens from a record in either
store (an alarm fails closed), but only a record the state bucket holds closes it: this machine's
folder is anyone's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # hubops.facts.run_record holds an Incident: imported only for the annotations
    from hubops.facts.run_record import RunRecord


@dataclass(frozen=True)
class Incident:
    name: str  # the failed apply's record name, the same in both stores
    started_at: str
    commit: str
    dns_record: str | None  # the record the apply said to set
    location: str

    @classmethod
    def of(cls, run: RunRecord) -> Incident:
        return cls(
            name=run.name,
            started_at=run.started_at,
            commit=run.commit,
            dns_record=run.verdict.dns_record if run.verdict else None,
            location=run.location or "?",
        )

    def describe(self) -> str:
        return f"the apply of {self.commit[:12]} at {self.started_at} exited 3 (record {self.name})"


def open_incident(runs: list[RunRecord]) -> Incident | None:
    """The open incident among `runs` (newest first), or None."""
    for run in runs:
        # An apply that closed an earlier incident (its baseline verified) can open its own.
        if run.opened_incident:  # an alarm counts from any store: failing closed
            return Incident.of(run)
        if run.verified_routing and run.in_shared_store:  # a closing needs the shared store
            return None
    return None


def closed_by(runs: list[RunRecord]) -> dict[str, str | None]:
    """Each incident's record name -> the name of the record that closed it (None: still open)."""
    closer = None
    found: dict[str, str | None] = {}
    for run in reversed(runs):  # oldest first: a closing record closes what came before it
        if run.verified_routing and run.in_shared_store:
            closer = run.name
            for name, closed in found.items():
                if closed is None:
                    found[name] = closer
        if run.opened_incident:
            found[run.name] = None
    return found


def find_open_incident(root, env):
    """(the open incident of `env` or None, the records read: a `History`, newest first).

    The newest records are read first, and all of them only when those do not decide; a store
    that cannot be read is named in the History's `problems`, never raised.
    """
    from hubops.facts.errors import HubopsError
    from hubops.adapters.records import History, history

    limit = 20
    while True:
        try:
            runs = history(root, env, limit=limit)
        except HubopsError as exc:
            return None, History([], [str(exc)])
        decided = any(run.opened_incident or run.verified_routing for run in runs)
        # Fewer than `limit` merged records: every store had fewer, so all were read.
        if decided or limit is None or len(runs) < limit:
            return open_incident(runs), runs
        limit = None
