"""Reading the records a decision needs, for the pure functions that decide from them.

The open incident (`hubops.facts.incidents`) needs the newest records first, and all of them only
when those do not decide; promotion parity (`hubops.flows.parity`) needs the history of the
environment before this one. A store that cannot be read is named in the History's `problems`, never
raised: the deciding functions fail closed on what is missing.
"""

from __future__ import annotations

from pathlib import Path

from hubops.adapters.environment_files import load_environment
from hubops.adapters.records import history
from hubops.facts.environments import Environment, predecessor
from hubops.facts.errors import HubopsError
from hubops.facts.incidents import decides, open_incident
from hubops.facts.run_history import History
from hubops.facts.run_record import Incident

# The newest records read first: enough to decide the open incident in almost every history.
_FIRST_READ = 20


def find_open_incident(root: Path, env: Environment) -> tuple[Incident | None, History]:
    """(the open incident of `env` or None, the records read: a `History`, newest first)."""
    limit = _FIRST_READ
    while True:
        try:
            runs = history(root, env, limit=limit)
        except HubopsError as exc:
            return None, History([], [str(exc)])
        # Fewer than `limit` merged records: every store had fewer, so all were read.
        if decides(runs) or limit is None or len(runs) < limit:
            return open_incident(runs), runs
        limit = None


def predecessor_history(root: Path, env: Environment) -> History:
    """The records of the environment that must run a shared tree before `env` gets it (none
    when `env` has no predecessor)."""
    before = predecessor(env.name)
    if before is None:
        return History()
    try:
        return history(root, load_environment(root, before))
    except HubopsError as exc:
        return History([], [str(exc)])
