"""How a run or a check ended, as the domain says it: the CLI alone turns it into an exit status
(`hubops.cli.edge`), and a run record stores it as one (`hubops.facts.run_record`)."""

from __future__ import annotations

from enum import Enum


class Outcome(Enum):
    OK = "ok"
    # An error, a refusal, a bug, an interrupted run: whatever ended the work before its end.
    FAILED = "failed"
    # A plan holds changes (`plan --detailed-exitcode`, as tofu's own).
    CHANGES_PLANNED = "changes planned"
    # The real objects differ from the state (drift).
    DRIFTED = "drifted"
    # The hub's routing changed or could not be verified: DNS must be set by hand.
    ROUTING_CHANGED = "routing changed"
    # AWS (or every authoritative server) could not be asked: nothing is known about the routing,
    # which a monitor must not take for routing found wrong.
    COULD_NOT_LOOK = "could not look"
    # The routing holds, but the health check failed: users may not be able to log in.
    UNHEALTHY = "unhealthy"
