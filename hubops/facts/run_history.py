"""A history of runs, and what it says: the last successful apply, whether a hub was ever built.

Pure functions over records already read (`hubops.adapters.records` reads them from the stores): a
`History` is the records, newest first, with one sentence per store or record that could not be
read, so that whoever decides from it knows when it is incomplete.
"""

from __future__ import annotations

from hubops.facts.outcome import Outcome
from hubops.facts.run_record import APPLY, DESTROY, RunRecord


class History(list[RunRecord]):
    """Records, newest first, and `problems`: one sentence per store that could not be read or
    record that was skipped, for the caller to print."""

    def __init__(self, records=(), problems=()):
        super().__init__(records)
        self.problems: list[str] = list(problems)


def last_successful_apply(runs: list[RunRecord]) -> RunRecord | None:
    """The newest (first) record of an apply that was carried out: ok, or applied with its
    routing changed."""
    carried_out = (Outcome.OK, Outcome.ROUTING_CHANGED)
    applied = (run for run in runs if run.operation == APPLY and run.applied)
    return next((run for run in applied if run.outcome in carried_out), None)


def never_built(runs: History) -> bool:
    """Whether the records show no hub to route to: no apply carried out since the environment
    was created or last destroyed. False when a store could not be read: absence is then
    unknown."""
    if runs.problems:
        return False
    for run in runs:  # newest first
        if run.operation == DESTROY and run.outcome is Outcome.OK:
            return True
        if run.operation == APPLY and (run.applied or run.outcome is Outcome.OK):
            return False  # a successful apply with nothing to change found a hub all the same
    return True
