"""Where domain exceptions become `invoke.Exit` messages: the one place tasks share."""

from __future__ import annotations

from contextlib import contextmanager

from invoke import Exit

from hubops.errors import HubopsError
from hubops.secrets import redact


@contextmanager
def task_edge():
    """Turn a `HubopsError` into `Exit(message, code=1)`; nothing else is caught."""
    try:
        yield
    except HubopsError as exc:
        raise Exit(f"error: {redact(str(exc))}", code=1) from None


def environment(name: str):
    """(root, Environment) for a task's --env value; errors become Exit."""
    from hubops.environments import load_environment, project_root

    with task_edge():
        root = project_root()
        return root, load_environment(root, name)


ENV_HELP = "environment name: cae-testing, cae-dev or cae (folders under environments/)"
LOCK_HELP = "how long to wait for a state lock held by another run, e.g. 10m (default: 0s)"
