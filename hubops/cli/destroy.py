"""Task: destroy (cae-testing or cae-dev, with a typed confirmation; never cae)."""

from __future__ import annotations

from invoke import task

from hubops.cli.edge import ENV_HELP, LOCK_HELP, environment, task_edge


@task(
    help={
        "env": ENV_HELP + "; cae is never destroyed",
        "confirm": "ENV's name again, to confirm (asked for on a terminal when left out)",
        "lock_timeout": LOCK_HELP,
    }
)
def destroy(c, env, confirm=None, lock_timeout="0s"):
    """Destroy ENV completely (cluster, hub, data), after showing what will go. Never cae.

    Exit statuses: 0 destroyed (or nothing to destroy); 1 refused or failed.
    """
    from hubops.confirmation import ask_for_name, require_terminal
    from hubops.destroy import check_confirmation, plan_destroy, refuse_production

    with task_edge():
        refuse_production(env)
        if confirm is not None:
            check_confirmation(env, confirm)
        else:
            require_terminal(
                f"destroying {env} needs a confirmation, and no terminal is attached to ask for "
                f"it: pass --confirm {env}. Nothing was destroyed."
            )
    root, environment_ = environment(env)
    with task_edge():
        tofu, summary = plan_destroy(root, environment_, lock_timeout=lock_timeout)
    if not summary.has_changes:
        print(f"Nothing to destroy: the state of {env} holds no resources.")
        return
    print(f"Destroying {env} will do this:\n{summary.render()}")
    if confirm is None:
        with task_edge():
            ask_for_name(
                env, f"Type {env} to destroy it, anything else to stop: ", "nothing was destroyed"
            )
    with task_edge():
        tofu.apply()
    print(f"{env} is destroyed. `invoke apply --env {env}` creates it again.")


TASKS = [destroy]
