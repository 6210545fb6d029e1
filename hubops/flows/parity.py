"""Promotion parity: production gets only a shared tree that its predecessor already ran.

The guide's promise is that every change to the shared tree (`modules/` and the root's files)
goes testing -> dev -> production. Every apply records the shared tree it applied (each file's
git blob id, so: by content); a supervised apply compares its own with the one of its
predecessor's last successful apply (cae-dev's, from cae-dev's run records) and refuses before
planning when they differ, naming the files production would get untested. What cannot be read
fails closed. An emergency may override it (`--untested-shared-tree`), and the record keeps that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from hubops.adapters.engine_inputs import is_input
from hubops.facts.environments import ENVIRONMENTS_DIR, PROMOTION_ORDER, Environment, load_environment
from hubops.facts.errors import HubopsError, PreflightError
from hubops.adapters.git import tree_entries

OVERRIDE_FLAG = "--untested-shared-tree"
_SHOWN = 10


@dataclass
class ParityCheck:
    """What a run's record keeps of the check."""

    # The predecessor's record compared with (None: no predecessor, or no such record).
    checked_against: str | None = None
    untested: list[str] = field(default_factory=list)  # files the predecessor has not run
    override: bool = False  # applied anyway (`--untested-shared-tree`)


def shared_tree(root: Path, commit: str) -> dict[str, str]:
    """{path: blob id} of every file of `commit` that all environments read."""
    return {
        entry.path: entry.object_id
        for entry in tree_entries(root, commit)
        if is_input(entry.path) and PurePosixPath(entry.path).parts[0] != ENVIRONMENTS_DIR
    }


def predecessor(env_name: str) -> str | None:
    """The environment that must have run a shared tree before `env_name` gets it."""
    if env_name in PROMOTION_ORDER[1:]:
        return PROMOTION_ORDER[PROMOTION_ORDER.index(env_name) - 1]
    return None


def differences(tested: dict[str, str], applying: dict[str, str]) -> list[str]:
    def how(path: str) -> str:
        return "new" if path not in tested else "removed" if path not in applying else "changed"

    paths = sorted(set(tested) | set(applying))
    return [f"{path} ({how(path)})" for path in paths if tested.get(path) != applying.get(path)]


def check_parity(
    root: Path, env: Environment, tree: dict[str, str], *, override: bool
) -> ParityCheck:
    """What the record keeps of the check; PreflightError when `env` would get untested files."""
    from hubops.adapters import records

    before = predecessor(env.name)
    if before is None:
        return ParityCheck()
    try:
        runs = records.history(root, load_environment(root, before))
    except HubopsError as exc:
        runs, problems = [], [str(exc)]
    else:
        problems = runs.problems
    recorded = [run for run in runs if run.shared_tree is not None]
    last = records.last_successful_apply([run for run in recorded if run.in_shared_store])
    if last is None:
        why = "; ".join(problems) or (
            f"no successful apply of {before} in its state bucket records its shared tree"
            + (" (records on this machine alone do not count)" if recorded else "")
        )
        untested = [f"all of it ({why})"]
    else:
        untested = differences(last.shared_tree, tree)
    note = ParityCheck(
        checked_against=last.location if last else None,
        untested=untested,
        override=bool(untested) and override,
    )
    if untested and not override:
        shown = "\n".join(f"  {item}" for item in untested[:_SHOWN])
        more = f"\n  ... and {len(untested) - _SHOWN} more" if len(untested) > _SHOWN else ""
        raise PreflightError(
            f"{env.name} would get a shared tree (modules/, root files) that {before} has not run "
            f"successfully:\n{shown}{more}\nApply this commit to {before} first and check it "
            f"there; in an emergency, {OVERRIDE_FLAG} applies it anyway (recorded). Nothing was "
            "changed."
        )
    return note
