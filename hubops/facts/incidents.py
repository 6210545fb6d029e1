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

Pure functions over records already read; `hubops.adapters.record_lookups` reads as many as they
need.
"""

from __future__ import annotations

from hubops.facts.run_record import Incident, RunRecord


def decides(runs: list[RunRecord]) -> bool:
    """Whether `runs` (newest first) hold a record that opens or closes an incident, so that
    older records cannot change which incident is open."""
    return any(run.opened_incident or run.verified_routing for run in runs)


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
