"""Promotion parity: production gets only a shared tree that its predecessor already ran.

The guide's promise is that every change to the shared tree (`modules/` and the root's files)
goes testing -> dev -> production. Every apply records the shared tree it applied (each file's
git blob id, so: by content); a supervised apply compares its own with the one of its
predecessor's last successful apply (cae-dev's, from cae-dev's run records) and refuses before
planning when they differ, naming the files production would get untested. What cannot be read
fails closed. Where the predecessor pins its nodes' AMI release, production's pinned release must
be the one the predecessor ran at that apply (`invoke promote` writes it so). An emergency may
override it (`--untested-shared-tree`), and the record keeps that.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from hubops.adapters.engine_inputs import is_input
from hubops.adapters.git import tree_entries
from hubops.facts.environments import ENVIRONMENTS_DIR, Environment, predecessor
from hubops.facts.errors import EnvironmentFileError, PreflightError, UnknownEnvironment
from hubops.facts.run_history import History, last_successful_apply
from hubops.facts.run_record import ApplyRecord, ParityCheck

OVERRIDE_FLAG = "--untested-shared-tree"
NODE_RELEASE_VARIABLE = "node_release_version"
_SHOWN = 10


def shared_tree(root: Path, commit: str) -> dict[str, str]:
    """{path: blob id} of every file of `commit` that all environments read."""
    return {
        entry.path: entry.object_id
        for entry in tree_entries(root, commit)
        if is_input(entry.path) and PurePosixPath(entry.path).parts[0] != ENVIRONMENTS_DIR
    }


def listed(items: list[str]) -> str:
    """Items one a line, indented, the first few only (and how many more)."""
    shown = "\n".join(f"  {item}" for item in items[:_SHOWN])
    more = f"\n  ... and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return shown + more


def differences(tested: dict[str, str], applying: dict[str, str]) -> list[str]:
    def how(path: str) -> str:
        return "new" if path not in tested else "removed" if path not in applying else "changed"

    paths = sorted(set(tested) | set(applying))
    return [f"{path} ({how(path)})" for path in paths if tested.get(path) != applying.get(path)]


def pinned_release(root: Path, env_name: str, commit: str) -> str | None:
    """The AMI release `env_name`'s files pin at `commit` (None: they follow AWS's)."""
    import tempfile

    from hubops.adapters.engine_inputs import export_commit
    from hubops.adapters.environment_files import load_environment

    with tempfile.TemporaryDirectory(prefix="hubops-pinned-") as folder:
        export_commit(root, commit, Path(folder))
        try:
            variables = load_environment(Path(folder), env_name).variables
        except (EnvironmentFileError, UnknownEnvironment):  # none then: it pinned nothing
            return None
    pinned = variables.get(NODE_RELEASE_VARIABLE)
    return pinned if isinstance(pinned, str) and pinned else None


def check_parity(
    env: Environment,
    tree: dict[str, str],
    tested: History,
    *,
    override: bool,
    root: Path,
) -> ParityCheck:
    """What the record keeps of the check; PreflightError when `env` would get untested files
    (of the repository at `root`), or nodes on an AMI release its predecessor did not run.

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
        untested += _untested_release(root, env, before, last)
    note = ParityCheck(
        checked_against=last.location if last else None,
        untested=untested,
        override=bool(untested) and override,
    )
    if untested and not override:
        raise PreflightError(
            f"{env.name} would get a shared tree (modules/, root files) that {before} has not run "
            f"successfully:\n{listed(untested)}\nApply this commit to {before} first and check it "
            f"there; in an emergency, {OVERRIDE_FLAG} applies it anyway (recorded). Nothing was "
            "changed."
        )
    return note


def _untested_release(root: Path, env: Environment, before: str, last: ApplyRecord) -> list[str]:
    """The node release `env` pins, where its predecessor pinned another at its last good apply
    (a predecessor that follows AWS's release has nothing to compare)."""
    ran = pinned_release(root, before, last.commit)
    mine = env.variables.get(NODE_RELEASE_VARIABLE)
    if ran is None or mine == ran:
        return []
    return [
        f"{NODE_RELEASE_VARIABLE} {mine or 'not set'}, not the {ran} {before} ran "
        f"(`invoke promote --to {env.name}` pins that)"
    ]
