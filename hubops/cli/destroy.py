"""Task: destroy (cae-testing or cae-dev, with a typed confirmation; never cae)."""

from __future__ import annotations

from invoke import task

from hubops.cli.edge import (
    ENV_HELP,
    ENV_OPTIONAL,
    LOCK_HELP,
    checked_lock_timeout,
    conclude,
    env_name,
    environment,
    said,
    task_edge,
)


@task(
    help={
        "env": ENV_HELP + "; cae is never destroyed",
        "confirm": "ENV's name again, to confirm (asked for on a terminal when left out)",
        "lock_timeout": LOCK_HELP,
    },
    optional=ENV_OPTIONAL,
)
def destroy(c, env=None, confirm=None, lock_timeout="0s"):
    """Destroy ENV completely (cluster, hub, data), after showing what will go. Never cae.

    Exit statuses: 0 destroyed (or nothing to destroy); 1 refused or failed.
    """
    from hubops.adapters.output import say
    from hubops.cli.confirmation import ask_for_name, require_name, require_terminal
    from hubops.flows.destroy import guarded_destroy, refuse_production

    env = env_name(env)
    lock_timeout = checked_lock_timeout(lock_timeout)
    with task_edge():
        refuse_production(env)
        if confirm is not None:
            require_name(
                env,
                confirm,
                f"pass --confirm {env} to destroy {env}. Nothing was destroyed",
                given_as="--confirm is",
            )
        else:
            require_terminal(
                f"destroying {env} needs a confirmation, and no terminal is attached to ask for "
                f"it: pass --confirm {env}. Nothing was destroyed."
            )
    root, environment_ = environment(env)

    def ask(summary):
        if confirm is None:
            ask_for_name(
                env, f"Type {env} to destroy it, anything else to stop: ", "nothing was destroyed"
            )

    with task_edge():
        result = guarded_destroy(
            root, environment_, confirm=ask, say=say, lock_timeout=lock_timeout
        )
    for location in result.record_locations:
        say(f"Run record: {location}")
    conclude(result.outcome, *(f"error: {said(e)}" for e in result.errors))


TASKS = [destroy]
