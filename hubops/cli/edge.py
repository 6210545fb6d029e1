"""Where a task's result or exception becomes `invoke.Exit`: the one place tasks share.

The domain says how a run ended as an `Outcome`; here alone it becomes an exit status (the README
and each task's help name them), and every message leaving a task is redacted and made safe for
a terminal on its way out.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

from invoke import Exit

from hubops.adapters.secrets import redact
from hubops.facts.errors import HubopsError
from hubops.facts.outcome import Outcome
from hubops.facts.text import visible

# Each outcome's exit status, the one mapping (a test holds it whole): 2 is tofu's "changes" for
# a plan and drift's alike, which no task can give both of.
EXIT_STATUS = {
    Outcome.OK: 0,
    Outcome.FAILED: 1,
    Outcome.CHANGES_PLANNED: 2,
    Outcome.DRIFTED: 2,
    Outcome.ROUTING_CHANGED: 3,
    Outcome.COULD_NOT_LOOK: 4,
    Outcome.UNHEALTHY: 5,
}


def conclude(outcome: Outcome, *messages: str | None) -> None:
    """End the task with `outcome`: return for ok, else `Exit` with its status and the messages
    given (one a line, redacted), or none."""
    status = EXIT_STATUS[outcome]
    if status:
        text = "\n".join(message for message in messages if message)
        raise Exit(_shown(text) if text else None, code=status)


def said(error: HubopsError) -> str:
    """An error as the terminal shows it: without what it already showed as it came (the
    engine's stderr, relayed live), which its record keeps."""
    return getattr(error, "brief", None) or str(error)


def refused(message: str) -> Exit:
    """The `Exit` of a task refused before it ran (bad input), to raise: failed, `message` said."""
    return Exit(_shown(message), code=EXIT_STATUS[Outcome.FAILED])


def _shown(message: str) -> str:
    return visible(redact(message))


@contextmanager
def task_edge():
    """Turn a `HubopsError` into `Exit` with its message and its outcome's status (failed unless
    it carries one); nothing else is caught."""
    try:
        yield
    except HubopsError as exc:
        status = EXIT_STATUS[getattr(exc, "outcome", Outcome.FAILED)]
        raise Exit(_shown(f"error: {said(exc)}"), code=status) from None


def env_name(value) -> str:
    """A task's --env value, checked: left out, or given without a name, is said in our words.

    Tasks declare `env` optional with a default of None, so that invoke hands a missing value to
    the task (as None, or True for a bare `--env`) instead of printing its own parser's message.
    """
    if isinstance(value, str) and value:
        return value
    from hubops.adapters.environment_files import known_environments, project_root

    try:
        known = ", ".join(known_environments(project_root())) or "none"
    except HubopsError:
        known = "cae-testing, cae-dev, cae"
    what = "was given without a name" if value is True else "is needed"
    raise refused(
        f"error: --env {what}: name the environment, one of {known} (e.g. `--env cae-testing`)."
    )


def environment(name):
    """(root, Environment) for a task's --env value; errors become Exit."""
    from hubops.adapters.environment_files import load_environment, project_root

    name = env_name(name)
    with task_edge():
        root = project_root()
        return root, load_environment(root, name)


# Go's time.ParseDuration, which the engine's -lock-timeout takes: `10s`, `5m`, `1h30m`, or 0.
_DURATION = re.compile(r"(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+|0")


def checked_lock_timeout(value) -> str:
    """A task's --lock-timeout, checked before anything runs: the engine would refuse a bare
    number only once it had started (and say so twice, in its own words)."""
    if isinstance(value, str) and _DURATION.fullmatch(value.strip()):
        return value.strip()
    raise refused(
        f"error: --lock-timeout {value} is not a duration: give its unit, e.g. 10s or 5m "
        "(0s: do not wait)."
    )


# Each task's `env` is optional to invoke's parser (see env_name), and checked by the task.
ENV_OPTIONAL = ["env"]
ENV_HELP = "environment name: cae-testing, cae-dev or cae (folders under environments/)"
LOCK_HELP = "how long to wait for a state lock held by another run, e.g. 10m (default: 0s)"
