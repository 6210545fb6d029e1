"""Production moves forward along main: the commit applied to it must be on main's history and
descend from the commit of its last successful apply, unless a rollback is asked for by name.

Pure functions over git (no AWS, no records): the caller passes the last applied commit.
"""

from __future__ import annotations

import os
from pathlib import Path

from hubops.facts.errors import PreflightError
from hubops.adapters.git import is_ancestor, is_shallow, resolve_commit

MAIN_BRANCH = "main"
MAIN_REF = f"refs/heads/{MAIN_BRANCH}"
ORIGIN_MAIN_REF = f"refs/remotes/origin/{MAIN_BRANCH}"
# The apply flag that asks for a rollback on purpose, as the messages name it.
ROLLBACK_FLAG = "--rollback"


def check_production_lineage(
    root: Path, commit: str, last_applied: str | None, *, rollback: bool = False
) -> str | None:
    """Refuse (PreflightError) a production apply that would go sideways or backwards.

    `commit` must be on main's history: in GitHub Actions (GITHUB_ACTIONS=true) the run's
    GITHUB_REF must be refs/heads/main; elsewhere the commit must be contained in this clone's
    origin/main. It must also be `last_applied` (production's last successfully applied commit,
    None when there is none) or descend from it, unless `rollback`: then the apply may go
    backwards or sideways, and the note to record ("rollback from X to Y") is returned.
    Returns None when there is nothing to note.
    """
    full = resolve_commit(root, commit)
    if full is None:
        raise PreflightError(
            f"{commit} is not a commit in this clone: deploy from a clone that has it."
        )
    _check_on_main(root, full)
    if last_applied is None:
        return None
    last = resolve_commit(root, last_applied)
    if last is None:
        if rollback:
            return f"rollback from {last_applied} (not in this clone, so not checked) to {full}"
        fetch = "`git fetch --unshallow origin`" if is_shallow(root) else "`git fetch origin`"
        raise PreflightError(
            f"Production was last applied from {last_applied[:12]}, which this clone does not "
            f"have, so whether {full[:12]} descends from it cannot be checked: {fetch} and try "
            f"again (if that commit is gone for good, {ROLLBACK_FLAG} applies {full[:12]} "
            "anyway)."
        )
    if last == full or is_ancestor(root, last, full):
        return None
    if rollback:
        return f"rollback from {last} to {full}"
    if is_ancestor(root, full, last):
        raise PreflightError(
            f"{full[:12]} is an ancestor of {last[:12]}, the commit of production's last "
            "successful apply: applying it would silently roll production back. Apply main's "
            f"tip (`git pull`), or pass {ROLLBACK_FLAG} to roll back on purpose."
        )
    raise PreflightError(
        f"{full[:12]} does not descend from {last[:12]}, the commit of production's last "
        "successful apply: applying it would undo what was applied since. Apply main's tip "
        f"(`git pull`), or pass {ROLLBACK_FLAG} to replace it on purpose."
    )


def _check_on_main(root: Path, commit: str) -> None:
    if os.environ.get("GITHUB_ACTIONS") == "true":
        ref = os.environ.get("GITHUB_REF", "")
        if ref != MAIN_REF:
            raise PreflightError(
                f"This workflow run is for {ref or 'no ref (GITHUB_REF is not set)'}, but "
                f"production is applied only from {MAIN_REF}: merge the change to "
                f"{MAIN_BRANCH} and let its workflow run apply it."
            )
        return
    origin_main = resolve_commit(root, ORIGIN_MAIN_REF)
    if origin_main is None:
        raise PreflightError(
            f"This clone has no origin/{MAIN_BRANCH} ({ORIGIN_MAIN_REF}), so it cannot tell "
            f"whether {commit[:12]} is on {MAIN_BRANCH}'s history, the only one production is "
            f"applied from: add the remote (`git remote add origin URL`), `git fetch origin`, "
            "and try again."
        )
    if not is_ancestor(root, commit, origin_main):
        raise PreflightError(
            f"{commit[:12]} is not on {MAIN_BRANCH}'s history (origin/{MAIN_BRANCH} is "
            f"{origin_main[:12]}), and production is applied only from {MAIN_BRANCH}: push it "
            f"and merge it to {MAIN_BRANCH} first; if it is merged already, `git fetch origin` "
            "and try again."
        )
