"""Preconditions of every run that changes a cluster, checked before anything is changed.

Order: tools, AWS identity, state backend, then the git checks, so the cheapest and most
fundamental problem is the one reported.
"""

from __future__ import annotations

import os
from pathlib import Path

from hubops.environments import Environment
from hubops.errors import GitError, PreflightError
from hubops.git import git


def preflight(root: Path, env: Environment, *, deploying: bool = True) -> str | None:
    """Check every precondition; return the commit being deployed.

    A plan only (`deploying=False`) may run on uncommitted changes: previewing them is its point.
    """
    from hubops.backend import check_backend
    from hubops.identity import verify_identity
    from hubops.tools import RUN_TOOLS, require_tools

    require_tools(root, RUN_TOOLS)
    verify_identity(env)
    check_backend(env)
    return deployed_commit(root) if deploying else None


def deployed_commit(root: Path) -> str:
    """HEAD, provided the working tree is clean and HEAD is the commit CI was asked to deploy."""
    try:
        commit = git(root, "rev-parse", "HEAD").strip()
        dirty = git(root, "status", "--porcelain").splitlines()
    except GitError as exc:
        raise PreflightError(
            f"{exc}: deploy from a clone of the infrastructure repository that has a commit."
        ) from None
    if dirty:
        shown = ", ".join(line[3:] for line in dirty[:5]) + (" ..." if len(dirty) > 5 else "")
        raise PreflightError(
            f"The working tree has uncommitted changes ({shown}): commit or stash them first, so "
            "that what is applied is exactly a commit."
        )
    expected = os.environ.get("GITHUB_SHA")
    if expected and expected != commit:
        raise PreflightError(
            f"HEAD is {commit[:12]}, but this workflow run deploys {expected[:12]} (GITHUB_SHA): "
            "check out that commit."
        )
    return commit
