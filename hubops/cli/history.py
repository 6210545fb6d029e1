"""Task: history (each recorded run of an environment, and its open routing incident)."""

from __future__ import annotations

import json

from invoke import task

from hubops.adapters.output import say, warn
from hubops.adapters.secrets import redact
from hubops.cli.edge import (
    ENV_HELP,
    ENV_OPTIONAL,
    EXIT_STATUS,
    environment,
    refused,
    task_edge,
)


@task(
    help={
        "env": ENV_HELP,
        "limit": "show at most this many runs (default: 20)",
        "json": "print the records as a JSON list",
    },
    optional=ENV_OPTIONAL,
)
def history(c, env=None, limit="20", json_=False):
    """List ENV's recorded runs, newest first."""
    from hubops.adapters.records import history as read_history

    if not str(limit).isdigit() or int(limit) < 1:
        raise refused(f"error: --limit takes a whole number of runs, 1 or more, not {limit!r}.")
    from hubops.adapters.record_lookups import find_open_incident
    from hubops.facts.incidents import closed_by

    root, environment_ = environment(env)
    with task_edge():
        runs = read_history(root, environment_, limit=int(limit))
    for problem in runs.problems:  # a store or a record that could not be read
        warn(f"warning: {problem}")
    if not runs and runs.problems:  # "no recorded runs" would be a guess
        raise refused(
            f"error: the run records of {env} could not all be read (above), and none that "
            f"could shows a run: whether {env} has runs is not known. Fix the access (`invoke "
            f"whoami --env {env}`), then run history again."
        )
    # All the records it takes (--limit aside): the incident may be older than the runs shown.
    incident, _ = find_open_incident(root, environment_)
    incidents = closed_by(runs)

    def incident_state(run) -> str | None:
        if run.name not in incidents:
            return None
        return "open" if incident and incident.name == run.name else "closed"

    def listed(run) -> dict:
        shown = run.listed()
        if state := incident_state(run):
            shown["incident_state"] = state
        return shown

    if json_:  # records written before a credential was known to hubops are redacted here too
        say(redact(json.dumps([listed(run) for run in runs], indent=2, sort_keys=True)))
        return
    if incident:
        say(incident_text(environment_, incident))
    if not runs:
        say(f"No recorded runs for {env}.")
        return
    say(f"Runs of {env}, newest first (plan +/~/-/±: resources added/changed/destroyed/replaced):")
    for run in runs:
        say(run_line(run, incident_state(run)))


def incident_text(env, incident) -> str:
    """An open routing incident, and what closes it."""
    to_set = f"; the record to set: {incident.dns_record}" if incident.dns_record else ""
    return (
        f"Open routing incident: {incident.describe()}{to_set}\n"
        f"  Once DNS points at the load balancer, `invoke dns-check --env {env.name} --wait` "
        "closes it."
    )


def _forecast_word(run) -> str:
    """The run's forecast beside its outcome: history then shows how often a risk came true."""
    from hubops.facts.run_record import ApplyRecord

    return (
        f"forecast {run.forecast.risk}, " if isinstance(run, ApplyRecord) and run.forecast else ""
    )


def _restore_line(run) -> str:
    return (
        f"{run.started_at}  exit {_exit(run)}  {run.commit[:12]}  {run.operator}  "
        "restore: routing restored at the authoritative servers"
        + (f" (TTL {run.ttl} s)" if run.ttl is not None else "")
        + (f", closes incident {run.closes_incident}" if run.closes_incident else "")
        + _where(run)
    )


def _exit(run) -> str:
    return "?" if run.outcome is None else str(EXIT_STATUS[run.outcome])


def run_line(run, incident_state: str | None = None) -> str:
    """One run of `history` (and `status`'s last run)."""
    from hubops.facts.plan_summary import PlanSummary
    from hubops.facts.run_record import RESTORE, ApplyRecord

    if run.operation == RESTORE:
        return _restore_line(run)
    if not isinstance(run, ApplyRecord) or run.verdict is None:  # a destroy judges no routing
        outcome = "routing not checked"
    else:
        outcome = "routing changed" if run.verdict.changed else "routing unchanged"
    plan = run.plan or PlanSummary()
    counts = "/".join(str(len(c)) for c in (plan.add, plan.change, plan.destroy, plan.replace))
    return (
        f"{run.started_at}  exit {_exit(run)}  {run.commit[:12]}  {run.operator}  "
        f"{run.operation}  plan +/~/-/± {counts}  {_forecast_word(run)}{outcome}"
        + ("  (interrupted)" if run.interrupted else "")
        + (f"  (overrides: {', '.join(_overrides(run))})" if _overrides(run) else "")
        + (f"  (incident {incident_state})" if incident_state else "")
        + ("  (closes an incident)" if run.verified_routing else "")
        + _health(run)
        + _where(run)
    )


def _health(run) -> str:
    """An apply's health check, where it ran: failed steps named."""
    health = getattr(run, "health", None)
    if health is None:
        return ""
    if health.healthy:
        return "  (health ok)"
    return f"  (HEALTH FAILED: {health.failed})"


def _where(run) -> str:
    """Where the record was read, after why its time is suspect where it is."""
    suspect = f"  (time suspect: {run.time_suspect})" if run.time_suspect else ""
    return f"{suspect}  [{run.source}]"


def _overrides(run) -> list[str]:
    """The guard's checks this run was told to let pass (each recorded), as the flags said it."""
    from hubops.facts.protected import ALLOW_FLAG
    from hubops.facts.run_record import ApplyRecord
    from hubops.flows.lineage import ROLLBACK_FLAG
    from hubops.flows.parity import OVERRIDE_FLAG

    if not isinstance(run, ApplyRecord):  # only an apply is given overrides
        return []
    given = [ROLLBACK_FLAG] if run.rollback else []
    if run.parity is not None and run.parity.override:
        given.append(OVERRIDE_FLAG)
    return given + [f"{ALLOW_FLAG} '{address}'" for address in run.acknowledged_destroys or []]


TASKS = [history]
