"""Task: destroy (cae-testing or cae-dev, with a typed confirmation; never cae)."""

from __future__ import annotations

import sys

from invoke import Exit, task

from hubops.cli.edge import ENV_HELP, environment, task_edge


@task(
    help={
        "env": ENV_HELP + "; cae is never destroyed",
        "confirm": "ENV's name again, to confirm (asked for on a terminal when left out)",
        "lock_timeout": "how long to wait for a state lock held by another run, e.g. 10m",
    }
)
def destroy(c, env, confirm=None, lock_timeout="0s"):
    """Destroy ENV completely (cluster, hub, data), after showing what will go. Never cae.

    Exit statuses: 0 destroyed (or nothing to destroy); 1 refused or failed.
    """
    from hubops.destroy import check_confirmation, plan_destroy, refuse_production

    with task_edge():
        refuse_production(env)
        if confirm is not None:
            check_confirmation(env, confirm, flag=True)
    if confirm is None and not sys.stdin.isatty():
        raise Exit(
            f"error: destroying {env} needs a confirmation, and no terminal is attached to ask "
            f"for it: pass --confirm {env}. Nothing was destroyed.",
            code=1,
        )
    root, environment_ = environment(env)
    with task_edge():
        tofu, summary = plan_destroy(root, environment_, lock_timeout=lock_timeout)
    if not summary.has_changes:
        print(f"Nothing to destroy: the state of {env} holds no resources.")
        return
    print(f"Destroying {env} will do this:\n{summary.render()}")
    if confirm is None:
        try:
            typed = input(f"Type {env} to destroy it, anything else to stop: ").strip()
        except EOFError:
            typed = ""
        with task_edge():
            check_confirmation(env, typed, flag=False)
    with task_edge():
        tofu.apply()
    print(f"{env} is destroyed. `invoke apply --env {env}` creates it again.")


TASKS = [destroy]
