"""Promotion parity: production gets only a shared tree that its predecessor already ran.

The guide's promise is that every change to the shared tree (`modules/` and the root's files)
goes testing -> dev -> production. Every apply records the shared tree it applied (each file's
git blob id, so: by content); a supervised apply compares its own with the one of its
predecessor's last successful apply (cae-dev's, from cae-dev's run records) and refuses before
planning when they differ, naming the files production would get untested. What cannot be read
fails closed. An emergency may override it (`--untested-shared-tree`), and the record keeps that.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from hubops.adapters.engine_inputs import is_input
from hubops.adapters.git import tree_entries
from hubops.facts.environments import ENVIRONMENTS_DIR, Environment, predecessor
from hubops.facts.errors import PreflightError
from hubops.facts.run_history import History, last_successful_apply
from hubops.facts.run_record import ApplyRecord, ParityCheck

OVERRIDE_FLAG = "--untested-shared-tree"
_SHOWN = 10


def shared_tree(root: Path, commit: str) -> dict[str, str]:
    """{path: blob id} of every file of `commit` that all environments read."""
    return {
        entry.path: entry.object_id
        for entry in tree_entries(root, commit)
        if is_input(entry.path) and PurePosixPath(entry.path).parts[0] != ENVIRONMENTS_DIR
    }


def differences(tested: dict[str, str], applying: dict[str, str]) -> list[str]:
    def how(path: str) -> str:
        return "new" if path not in tested else "removed" if path not in applying else "changed"

    paths = sorted(set(tested) | set(applying))
    return [f"{path} ({how(path)})" for path in paths if tested.get(path) != applying.get(path)]


def check_parity(
    env: Environment, tree: dict[str, str], tested: History, *, override: bool
) -> ParityCheck:
    """What the record keeps of the check; PreflightError when `env` would get untested files.

    `tested` is the history of `env`'s predecessor
    (`hubops.adapters.record_lookups.predecessor_history`).
    """
    before = predecessor(env.name)
    if before is None:
        return ParityCheck()
    applies = [run for run in tested if isinstance(run, ApplyRecord)]
    recorded = [run for run in applies if run.shared_tree is not None]
    last = last_successful_apply([run for run in recorded if run.in_shared_store])
    if last is None:
        why = "; ".join(tested.problems) or (
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
