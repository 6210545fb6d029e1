"""Tasks: changed (which environments a range of commits rebuilds), hooks (install pre-push)."""

from __future__ import annotations

import os
import subprocess
import sys

from invoke import task

from hubops.adapters.output import say
from hubops.cli.edge import refused, task_edge

FORMATS = ("text", "json", "github")


@task(
    help={
        "base": "the commit before the changes (a push's `before`; all zeros for a new branch)",
        "head": "the last commit of the changes (default: HEAD)",
        "branch": "the branch pushed to (default: $GITHUB_REF_NAME, else the current branch)",
        "format": "text (default), json, or github (also appends a matrix to $GITHUB_OUTPUT)",
    }
)
def changed(c, base, head="HEAD", branch=None, format="text"):
    """Show which environments the commits from BASE to HEAD rebuild, in promotion order, and why.

    A change under environments/ENV/ rebuilds ENV; modules/ and every root file OpenTofu reads
    (*.tf, *.tofu, terraform.tfvars, *.auto.tfvars, the lock file) rebuild every environment but
    cae; cae is rebuilt only by its own files on main. A base this clone lacks (a force push) is
    replaced by the merge base with main; a symbolic link among OpenTofu's inputs is refused.
    """
    import json

    from hubops.adapters import github
    from hubops.adapters.environment_files import project_root
    from hubops.cli import summaries
    from hubops.flows.changes import current_branch, detect_changes

    if format not in FORMATS:
        raise refused(f"error: unknown --format {format!r}: use one of {', '.join(FORMATS)}.")
    if format == "github" and not os.environ.get("GITHUB_OUTPUT"):
        raise refused(
            "error: --format github appends to the file named by $GITHUB_OUTPUT, which is not "
            "set: use it in a GitHub Actions step, or pass --format text or json."
        )
    with task_edge():
        root = project_root()
        branch = branch or os.environ.get("GITHUB_REF_NAME") or current_branch(root)
        report = detect_changes(root, base, head, branch)
    if format == "json":
        say(json.dumps(report.to_json(), indent=2))
        return
    say(report.render())
    if format == "github":
        with task_edge():
            github.set_outputs(**report.github_outputs())
        github.add_to_summary(summaries.changes(report))


@task
def hooks(c):
    """Install the pre-push hooks (.pre-commit-config.yaml) into this clone's .git/hooks."""
    from hubops.adapters.environment_files import project_root

    with task_edge():
        root = project_root()
    try:
        import pre_commit  # noqa: F401 (only whether it is installed)
    except ImportError:
        raise refused(
            "error: pre-commit is not installed in this Python: `pip install -e '.[dev]'` "
            "(or `pip install pre-commit`), then run `invoke hooks` again."
        ) from None
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "install", "--hook-type", "pre-push"], cwd=root
    )
    if done.returncode != 0:
        raise refused(
            f"error: `pre-commit install` failed with exit status {done.returncode} (its message "
            "is above): fix that, then run `invoke hooks` again."
        )
    say(
        "Before each `git push`: `invoke validate` runs, then the environments the push rebuilds "
        "are shown. To skip once: `git push --no-verify`."
    )


TASKS = [changed, hooks]
