"""The one way this library asks git something: a subprocess with an argument list."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from hubops.facts.errors import GitError


def _run(root: Path, args: tuple[str, ...]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise GitError("No `git` on PATH: install git (apt-get install git).") from None


def _failed(root: Path, args: tuple[str, ...], done: subprocess.CompletedProcess) -> GitError:
    return GitError(f"`git {' '.join(args)}` failed in {root}: {done.stderr.strip()}")


def git(root: Path, *args: str, check: bool = True) -> str:
    """git's stdout; a failure raises GitError (or, with check=False, gives "")."""
    done = _run(root, args)
    if check and done.returncode != 0:
        raise _failed(root, args, done)
    return done.stdout if done.returncode == 0 else ""


def resolve_commit(root: Path, ref: str) -> str | None:
    """The full sha of the commit `ref` names, or None when this clone has no such commit."""
    out = git(
        root,
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        f"{ref}^{{commit}}",
        check=False,
    )
    return out.strip() or None


def is_ancestor(root: Path, ancestor: str, descendant: str) -> bool:
    """Whether `ancestor` is `descendant` or in its history; both must be commits in this clone."""
    args = ("merge-base", "--is-ancestor", ancestor, descendant)
    done = _run(root, args)
    if done.returncode not in (0, 1):
        raise _failed(root, args, done)
    return done.returncode == 0


def is_shallow(root: Path) -> bool:
    """Whether this clone's history is cut short (`git clone --depth`, actions/checkout)."""
    return git(root, "rev-parse", "--is-shallow-repository", check=False).strip() == "true"


@dataclass(frozen=True)
class TreeEntry:
    """One file of a commit, as `git ls-tree` gives it."""

    path: str  # relative to the root asked about, with `/`
    mode: str  # "100644", "100755", "120000" (a symbolic link), "160000" (a submodule)
    kind: str  # "blob", or "commit" for a submodule
    object_id: str

    @property
    def is_plain_file(self) -> bool:
        return self.kind == "blob" and self.mode != "120000"


def tree_entries(root: Path, commit: str) -> list[TreeEntry]:
    """Every file of `commit` below `root`, folders walked (raises GitError)."""
    entries = []
    for line in git(root, "ls-tree", "-r", "-z", commit).split("\0"):
        if line:
            meta, path = line.split("\t", 1)
            mode, kind, object_id = meta.split()
            entries.append(TreeEntry(path, mode, kind, object_id))
    return entries
