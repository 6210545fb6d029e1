"""Tasks: plan and apply (the supervised apply: preflight, baseline, plan, apply, verdict)."""

from __future__ import annotations

import json

from invoke import task

from hubops.adapters.output import say
from hubops.cli.edge import (
    ENV_HELP,
    ENV_OPTIONAL,
    EXIT_STATUS,
    LOCK_HELP,
    checked_lock_timeout,
    conclude,
    environment,
    refused,
    said,
    task_edge,
)


@task(
    help={
        "env": ENV_HELP,
        "out": "a plan for review: write it to this new file (refused if it exists), from a clean "
        "checkout only, with its origin (commit, shared tree, sha256) in FILE.json beside it "
        "(default: a new file under .hubops/plans/ENV/, a preview that cannot be applied)",
        "upload": "with --out: also keep the plan in ENV's state bucket "
        "(plans/ENV/COMMIT-SHA256.tfplan, encrypted with the state's KMS key), for "
        "`invoke apply --plan-s3`",
        "lock_timeout": LOCK_HELP,
        "detailed_exitcode": "exit 2 when the plan holds changes, 0 when none (as tofu's)",
        "json": "print one JSON document (summary, forecast, plan file and sha256); tofu's own "
        "output goes to stderr",
    },
    optional=ENV_OPTIONAL,
)
def plan(
    c, env=None, out=None, upload=False, lock_timeout="0s", detailed_exitcode=False, json_=False
):
    """Plan ENV to a saved plan file (readable by you only) and summarise it, with its sha256.

    In GitHub Actions it also sets the step outputs plan_file and plan_sha256 (and plan_s3 with
    --upload) and adds the summary to the job summary, so that a reviewed job can apply exactly
    this plan.
    """
    from dataclasses import asdict
    from pathlib import Path

    from hubops.adapters import github
    from hubops.adapters.saved_plan import new_plan_path
    from hubops.cli import summaries
    from hubops.facts.outcome import Outcome
    from hubops.flows.plan import make_plan
    from hubops.flows.reviewed_plan import sidecar

    if upload and not out:
        raise refused("error: --upload goes with --out FILE: only a plan for review is kept.")
    lock_timeout = checked_lock_timeout(lock_timeout)
    root, environment_ = environment(env)
    path = Path(out).absolute() if out else new_plan_path(root, env)
    for existing in (path, sidecar(path)) if out else ():
        if existing.exists() or existing.is_symlink():
            raise refused(
                f"error: {existing} already exists: give --out a new file name (a plan for "
                "review is never written over another file). Nothing was planned."
            )
    with task_edge():
        made = make_plan(
            root,
            environment_,
            path,
            for_review=bool(out),
            keep=upload,
            lock_timeout=lock_timeout,
            relay_to_stderr=json_,
        )
    saved, summary, routing_forecast = made.saved, made.summary, made.forecast
    if json_:
        document = {
            "environment": env,
            "changes": made.changes,
            "summary": asdict(summary),
            "forecast": asdict(routing_forecast),
            "plan_file": str(saved.path),
            "plan_sha256": saved.sha256,
        }
        if out:
            document["commit"] = made.commit
            document["origin_file"] = str(sidecar(path))
            document["plan_s3"] = made.kept_at
        say(json.dumps(document, indent=2))
    else:
        say(summary.render())
        say("\n".join(routing_forecast.lines(env, environment_.supervised)))
        say(f"Saved plan: {saved.path} (sha256 {saved.sha256})")
        if out:
            say(f"Made at commit {made.commit} for review; its origin: {sidecar(path)}")
            if made.kept_at:
                say(f"Kept at {made.kept_at} (encrypted with the state's KMS key)")
        else:
            say(
                "A preview: apply it with `invoke apply`, which plans anew (only `--out` makes a "
                "plan for review)."
            )
    with task_edge():
        if made.kept_at:
            github.set_outputs(plan_s3=made.kept_at)
        github.set_outputs(plan_file=str(saved.path), plan_sha256=saved.sha256)
    github.add_to_summary(summaries.plan(environment_, summary, saved.sha256, routing_forecast))
    if detailed_exitcode and made.changes:
        conclude(Outcome.CHANGES_PLANNED)


@task(
    help={
        "env": ENV_HELP,
        "yes": "apply without asking (CI: the reviewed GitHub environment is the human gate)",
        "lock_timeout": LOCK_HELP,
        "plan_file": "apply this saved plan (from `invoke plan --out`) instead of planning anew: "
        "only at the commit it was made at (FILE.json beside it says which)",
        "plan_s3": "apply the plan kept at this s3:// location (from `invoke plan --out FILE "
        "--upload`), fetched to a private file, as --plan-file",
        "plan_sha256": "with --plan-file or --plan-s3: the sha256 the plan had when it was "
        "reviewed; any other content is refused",
        "allow_destroy": "a protected resource (user directories, their keys, the user pool, "
        "the cluster, the hub's database) the plan may delete or replace; repeat for each; "
        "recorded",
        "rollback": "let a supervised apply go back to (or aside from) the last applied commit; "
        "recorded",
        "untested_shared_tree": "emergency: let a supervised apply take modules/ or root files "
        "its predecessor (cae-dev for cae) has not applied successfully; recorded",
    },
    iterable=["allow_destroy"],
    optional=ENV_OPTIONAL,
)
def apply(
    c,
    env=None,
    yes=False,
    lock_timeout="0s",
    plan_file=None,
    plan_sha256=None,
    allow_destroy=None,
    rollback=False,
    untested_shared_tree=False,
    plan_s3=None,  # last: the short flags given before it (-a for --allow-destroy) stay
):
    """Plan and apply ENV under the drift-safety checks; exit 3 if routing changed (supervised).

    Exit statuses: 0 success; 1 failure (including refusing to start); 3 the routing of a
    supervised environment changed or could not be verified: set the DNS record printed; 5 its
    routing holds but its health check failed (users may not be able to log in: the failed step
    is printed). In GitHub Actions it also writes the job summary: outcome, DNS record, verdict,
    health, plan, forecast and run record.
    """
    from pathlib import Path

    from hubops.adapters import github
    from hubops.cli import summaries
    from hubops.cli.confirmation import ask_for_name, require_terminal
    from hubops.facts.forecast import HIGH
    from hubops.facts.outcome import Outcome
    from hubops.flows.guarded_apply import ApplyRequest, guarded_apply

    refused = EXIT_STATUS[Outcome.FAILED]

    message = None
    if _without_address(allow_destroy):
        message = (
            "error: --allow-destroy needs the address of a protected resource the plan may delete "
            "or replace, as a refusal names it (e.g. --allow-destroy "
            "'module.user_directories[0].aws_efs_file_system.home'); repeat it for each. Nothing "
            "was applied."
        )
    elif plan_file and plan_s3:
        message = "error: --plan-file or --plan-s3, not both: name one reviewed plan."
    elif bool(plan_file or plan_s3) != bool(plan_sha256):
        message = (
            "error: --plan-file (or --plan-s3) and --plan-sha256 go together: the sha256 is the "
            "one printed by `invoke plan` when the plan was reviewed. Nothing was applied."
        )
    if message:
        github.add_to_summary(summaries.apply_not_started(str(env), message, refused))
        conclude(Outcome.FAILED, message)
    lock_timeout = checked_lock_timeout(lock_timeout)
    root, environment_ = environment(env)
    asks = not yes
    if asks:
        with task_edge(), summaries.refusals_summarised(env, refused):
            require_terminal(
                f"{env} is supervised and asks for confirmation, but no terminal is attached: run "
                "it from a terminal, or pass --yes where a reviewed GitHub environment is the gate."
                if environment_.supervised
                else f"applying {env} asks for confirmation, but no terminal is attached: pass "
                "--yes to apply without asking. Nothing was applied."
            )

    def confirm(summary, routing_forecast):
        if not asks:
            return
        if not environment_.supervised:  # as `tofu apply` asks
            expected = "yes"
            prompt = "Do you want to perform these actions? Only 'yes' will be accepted: "
        elif routing_forecast.risk == HIGH:  # typing it says: DNS access is at hand
            expected = f"{env} dns-ready"
            prompt = (
                f"This plan can move the hub's traffic. Type {expected!r} to apply it to {env} "
                "(supervised): "
            )
        else:
            expected = env
            prompt = f"Type {env!r} to apply this plan to {env} (supervised): "
        ask_for_name(expected, prompt, "nothing was applied")

    request = ApplyRequest(
        lock_timeout=lock_timeout,
        # absolute, not resolved: a symbolic link is refused, never followed
        plan_file=Path(plan_file).absolute() if plan_file else None,
        plan_s3=plan_s3,
        plan_sha256=plan_sha256,
        allow_destroy=tuple(allow_destroy or ()),
        rollback=rollback,
        untested_shared_tree=untested_shared_tree,
    )
    with task_edge(), summaries.refusals_summarised(env, refused):
        result = guarded_apply(root, environment_, confirm=confirm, say=say, request=request)
    github.add_to_summary(  # in GitHub Actions
        summaries.apply(environment_, result, EXIT_STATUS[result.outcome])
    )
    if result.record.verdict is not None:
        say("\n".join(result.record.verdict.lines(environment_)))
    for location in result.record_locations:
        say(f"Run record: {location}")
    messages = [f"error: {said(e)}" for e in result.errors]
    if result.outcome is Outcome.ROUTING_CHANGED:
        messages.append(f"error: the routing of {env} changed: update DNS by hand (above).")
    if result.outcome is Outcome.UNHEALTHY:
        failed = result.record.health
        messages.append(
            f"error: {failed.headline(env)} The failed steps are above; `invoke health --env "
            f"{env}` checks again once they are fixed."
        )
    conclude(result.outcome, *messages)


def _without_address(allow_destroy) -> bool:
    """`--allow-destroy` given empty, or bare: invoke hands a bare one (it takes a list) to the
    task as no flag at all, so the command line itself is looked at."""
    import sys

    if allow_destroy:
        return any(not address.strip() for address in allow_destroy)
    given = sys.argv[sys.argv.index("apply") + 1 :] if "apply" in sys.argv else []
    return any(arg in ("--allow-destroy", "-o") for arg in given)


TASKS = [plan, apply]
