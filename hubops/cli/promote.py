"""Task: promote (what the environment before one last ran successfully, into its own files)."""

from __future__ import annotations

from invoke import task

from hubops.adapters.output import say
from hubops.cli.edge import conclude, environment, refused, task_edge


@task(
    help={
        "to": "the environment to promote into: cae-dev (from cae-testing) or cae (from cae-dev)",
        "check": "say whether it is behind, and what a promotion would change, writing nothing",
    },
    optional=["to"],
)
def promote(c, to=None, check=False):
    """Promote into TO what the environment before it last applied successfully, as a file.

    Writes environments/TO/promotion.tfvars: that environment's commit and shared tree, and the
    AMI release its nodes ran. Committed and pushed to main, it is TO's own change, so it rebuilds
    TO by the guide's rule, and TO's apply checks promotion parity against the same records.

    Refused, writing nothing, when that environment's newest apply failed or HEAD's shared tree
    (modules/, root files) is not the one it last ran. Exit statuses: 0 written, or (--check)
    up to date; 2 (--check) behind; 1 refused.
    """
    from hubops.flows.promote import check_promotion, write_promotion

    if not isinstance(to, str) or not to:
        raise refused("error: --to is needed: the environment to promote into, cae-dev or cae.")
    root, target = environment(to)
    with task_edge():
        found = check_promotion(root, target.name)
    promotion = found.promotion
    say(
        f"{promotion.source} last applied commit {promotion.commit[:12]} successfully at "
        f"{promotion.applied_at} (run record {promotion.record}); its nodes ran AMI release "
        f"{promotion.node_release}."
    )
    if not found.changes:
        say(f"{target.name} is up to date with {promotion.source}: nothing to promote.")
        return
    say(f"{target.name} is behind {promotion.source}:")
    for change in found.changes:
        say(f"  {change}")
    if check:
        say(f"`invoke promote --to {target.name}` writes it.")
        conclude(found.outcome)
        return
    with task_edge():
        path = write_promotion(found, target)
    relative = path.relative_to(root)
    say(
        f"Wrote {relative}. Review it, commit it and push it to main (`git add {relative} && git "
        f"commit -m 'Promote {promotion.source} to {target.name}'`): the change is "
        f"{target.name}'s own file, so its apply follows (`invoke changed` selects it)."
    )


TASKS = [promote]
