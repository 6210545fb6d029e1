"""Task: health (can users log in? the path a user takes, through the hub's public name)."""

from __future__ import annotations

from invoke import task

from hubops.adapters.output import say
from hubops.cli.edge import (
    ENV_HELP,
    ENV_OPTIONAL,
    LOCK_HELP,
    checked_lock_timeout,
    conclude,
    environment,
    refused,
    task_edge,
)
from hubops.facts.health import DEFAULT_EXPIRY_DAYS


@task(
    help={
        "env": ENV_HELP,
        "journey": "also start a user's server and a Dask cluster (on by default where the "
        "environment's health_check output asks for it: production)",
        "quick": "only the quick checks, even where the environment asks for the journey",
        "expiry_days": f"a certificate ending within this many days is a finding "
        f"(default {DEFAULT_EXPIRY_DAYS})",
        "server_timeout": "the journey's bound on a user's server starting, and on a Dask "
        "cluster starting and getting its worker, each (seconds; default 600)",
        "lock_timeout": LOCK_HELP,
    },
    optional=ENV_OPTIONAL,
)
def health(
    c,
    env=None,
    journey=False,
    quick=False,
    expiry_days=None,
    server_timeout=None,
    lock_timeout="0s",
):
    """Check that users can log in to ENV, through its public name, on every address it has.

    Steps, one line each with its time: the name's addresses; on each, TLS (chain, name, days
    left), /hub/health, plain http sent on to https, HSTS, the login's redirect to the
    environment's Cognito with its client id and callback, Secure cookies. The journey (a user's
    server started and reached, a Dask cluster given a worker, both stopped whatever happens)
    follows where asked. Changes nothing else.

    Exit statuses: 0 healthy; 5 a step failed (users may not be able to log in); 1 the check
    could not run (a precondition, no health_check output in the state).
    """
    from hubops.adapters import github
    from hubops.cli import summaries
    from hubops.facts.outcome import Outcome
    from hubops.facts.settings import parse_number
    from hubops.flows.health import SERVER_BOUND, HealthRequest, check_state_health

    if journey and quick:
        raise refused("error: --journey or --quick, not both.")
    # A string, parsed here: invoke's own int() would end a malformed value in a traceback.
    given = str(DEFAULT_EXPIRY_DAYS if expiry_days is None else expiry_days).strip()
    if not given.isdigit():
        raise refused(
            f"error: --expiry-days {expiry_days} is not a whole number of days (0 or more)."
        )
    days = int(given)
    bound = parse_number(SERVER_BOUND if server_timeout is None else server_timeout)
    if bound is None:
        raise refused(
            f"error: --server-timeout {server_timeout} is not a number of seconds greater than 0."
        )
    lock_timeout = checked_lock_timeout(lock_timeout)
    root, environment_ = environment(env)
    request = HealthRequest(
        journey=True if journey else False if quick else None,
        expiry_days=days,
        server_bound=bound,
        dask_bound=bound,
    )
    with task_edge():
        result = check_state_health(root, environment_, request, say, lock_timeout=lock_timeout)
    if result is None:
        raise refused(
            f"error: the state of {env} has no health_check output, so there is nothing to "
            f"check against: apply the tree first (`invoke apply --env {env}`), which adds it."
        )
    github.add_to_summary(summaries.health(environment_, result))
    say(result.headline(env))
    conclude(Outcome.OK if result.healthy else Outcome.UNHEALTHY)


TASKS = [health]
