"""What OpenTofu reads, in one place: change detection, the pre-push export and the validator ask
here (preflight's byte-for-byte check keeps a wider net of its own: any root `*.tfvars`).

OpenTofu runs in the repository root (the root module). It reads there every configuration file
(`*.tf`, `*.tf.json`, `*.tofu`, `*.tofu.json`), the variable files it loads by itself
(`terraform.tfvars`, `*.auto.tfvars` and their `.json` forms) and the provider lock file; the
modules under `modules/`; and, per environment, the variable files of `environments/ENV/`
(passed with `-var-file`) and its `backend.hcl`. Nothing else is the tree.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

from hubops.adapters.git import git, tree_entries
from hubops.facts.engine_files import CONFIG_SUFFIXES, LOCK_FILE
from hubops.facts.environments import ENVIRONMENTS_DIR
from hubops.facts.errors import EnvironmentFileError, GitError

# The variable files OpenTofu loads by itself from the folder it runs in.
AUTO_VARS_FILES = (
    "terraform.tfvars",
    "terraform.tfvars.json",
    "*.auto.tfvars",
    "*.auto.tfvars.json",
)
ROOT_FILES = (*(f"*{suffix}" for suffix in CONFIG_SUFFIXES), *AUTO_VARS_FILES, LOCK_FILE)
# Folders shared by every environment, read whole.
SHARED_DIRS = ("modules",)
_SHOWN = 5


def is_root_file(name: str) -> bool:
    """Whether OpenTofu reads a file of this name in the root folder."""
    return any(fnmatchcase(name, pattern) for pattern in ROOT_FILES)


def is_auto_vars_file(name: str) -> bool:
    return any(fnmatchcase(name, pattern) for pattern in AUTO_VARS_FILES)


def is_input(path: str) -> bool:
    """Whether a repository path (with `/`) is something OpenTofu reads in some environment."""
    parts = PurePosixPath(path).parts
    if len(parts) == 1:
        return is_root_file(path)
    return parts[0] in (*SHARED_DIRS, ENVIRONMENTS_DIR)


def committed_inputs(root: Path, commit: str) -> tuple[list[str], dict[str, str]]:
    """(files, links) among the inputs in `commit`: paths, and each symbolic link's target."""
    files: list[str] = []
    links: dict[str, str] = {}
    for entry in tree_entries(root, commit):
        if not is_input(entry.path) or entry.kind == "commit":  # a submodule holds nothing
            continue
        if entry.is_plain_file:
            files.append(entry.path)
        else:
            links[entry.path] = git(root, "cat-file", "blob", entry.object_id)
    return files, links


def refuse_links(links: dict[str, str], commit: str) -> None:
    """A symbolic link among OpenTofu's inputs is an error: its target's changes are invisible.

    Change detection would attribute a change of the target to no environment (or the wrong one),
    and an apply refuses links anyway (preflight).
    """
    if not links:
        return
    shown = ", ".join(f"{path} -> {target}" for path, target in sorted(links.items())[:_SHOWN])
    more = " ..." if len(links) > _SHOWN else ""
    raise EnvironmentFileError(
        f"OpenTofu would read symbolic links at {commit[:12]} ({shown}{more}): a change behind a "
        "link rebuilds no environment, and an apply refuses them. Replace each with the file "
        "itself and commit."
    )


def export_commit(root: Path, commit: str, folder: Path) -> int:
    """Write `commit`'s OpenTofu tree (what OpenTofu reads, nothing else) into `folder`.

    Returns the number of files written; 0 when the commit holds no OpenTofu files.
    """
    sha = git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{commit}^{{commit}}",
              check=False).strip()  # fmt: skip
    if not sha:
        raise GitError(
            f"{commit} is not a commit in this repository: push (or name) a commit that exists."
        )
    files, links = committed_inputs(root, sha)
    refuse_links(links, sha)
    if not files:
        return 0
    done = subprocess.run(
        ["git", "--literal-pathspecs", "archive", "--format=tar", sha, "--", *files],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise GitError(
            f"`git archive {sha[:12]}` failed in {root}: "
            f"{done.stderr.decode(errors='replace').strip()}"
        )
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        archive.extractall(folder, filter="data")
    return len(files)
