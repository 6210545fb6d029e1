"""Tasks for the CAE JupyterHub: `invoke --list` shows them, `invoke --help TASK` their flags.

A table of contents only: each task lives in `hubops.cli`, its logic in the `hubops` package.
"""

from invoke import Collection

from hubops.cli import (
    account,
    changes,
    destroy,
    drift,
    health,
    history,
    image,
    plan_apply,
    promote,
    routing,
    tree,
)

ns = Collection()
for module in (
    plan_apply,
    routing,
    health,
    history,
    drift,
    destroy,
    promote,
    changes,
    account,
    image,
    tree,
):
    for task in module.TASKS:
        ns.add_task(task)
