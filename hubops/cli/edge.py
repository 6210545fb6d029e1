"""Where domain exceptions become `invoke.Exit` messages: the one place tasks share."""

from __future__ import annotations

from contextlib import contextmanager

from invoke import Exit

from hubops.errors import HubopsError
from hubops.secrets import redact
from hubops.text import visible


@contextmanager
def task_edge():
    """Turn a `HubopsError` into `Exit(message, code=1)`; nothing else is caught."""
    try:
        yield
    except HubopsError as exc:
        raise Exit(f"error: {visible(redact(str(exc)))}", code=1) from None


def env_name(value) -> str:
    """A task's --env value, checked: left out, or given without a name, is said in our words.

    Tasks declare `env` optional with a default of None, so that invoke hands a missing value to
    the task (as None, or True for a bare `--env`) instead of printing its own parser's message.
    """
    if isinstance(value, str) and value:
        return value
    from hubops.environments import known_environments, project_root

    try:
        known = ", ".join(known_environments(project_root())) or "none"
    except HubopsError:
        known = "cae-testing, cae-dev, cae"
    what = "was given without a name" if value is True else "is needed"
    raise Exit(
        f"error: --env {what}: name the environment, one of {known} (e.g. `--env cae-testing`).",
        code=1,
    )


def environment(name):
    """(root, Environment) for a task's --env value; errors become Exit."""
    from hubops.environments import load_environment, project_root

    name = env_name(name)
    with task_edge():
        root = project_root()
        return root, load_environment(root, name)


# Each task's `env` is optional to invoke's parser (see env_name), and checked by the task.
ENV_OPTIONAL = ["env"]
ENV_HELP = "environment name: cae-testing, cae-dev or cae (folders under environments/)"
LOCK_HELP = "how long to wait for a state lock held by another run, e.g. 10m (default: 0s)"
