"""Preconditions of every run that changes a cluster, checked before anything is changed.

Order: tools, AWS identity, state backend, then the git checks, so the cheapest and most
fundamental problem is the one reported.
"""

from __future__ import annotations

import hashlib
import os
import stat
from fnmatch import fnmatchcase
from pathlib import Path

from hubops.adapters.git import git, tree_entries
from hubops.facts.environments import ENVIRONMENTS_DIR, Environment
from hubops.facts.errors import GitError, PreflightError

# What OpenTofu reads from the root module's folder (the working directory of every run): its
# configuration, variable files it loads by itself, and the provider lock file.
ENGINE_ROOT_FILES = (
    "*.tf",
    "*.tf.json",
    "*.tofu",
    "*.tofu.json",
    "*.tfvars",
    "*.tfvars.json",
    ".terraform.lock.hcl",
)
# Folders it reads whole: the shared modules (and whatever files they load); the environment's
# own folder is added per run.
ENGINE_DIRS = ("modules",)
_SHOWN = 5
# git's display settings that could hide a change from `git status`, overridden for our call.
_STATUS_SETTINGS = (
    "-c",
    "status.showUntrackedFiles=all",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "diff.ignoreSubmodules=none",
)


def preflight(root: Path, env: Environment, *, deploying: bool = True) -> str | None:
    """Check every precondition; return the commit being deployed.

    A plan only (`deploying=False`) may run on uncommitted changes: previewing them is its point.
    """
    from hubops.adapters.engine_config import operator_installation
    from hubops.adapters.identity import verify_identity
    from hubops.adapters.tools import RUN_TOOLS, require_tools
    from hubops.bootstrap.backend import check_backend

    require_tools(root, RUN_TOOLS)
    if env.supervised:  # its engine gets the provider installation of a readable configuration
        operator_installation(env.name)
    verify_identity(env)
    check_backend(env)
    return deployed_commit(root, env.name) if deploying else None


def deployed_commit(root: Path, environment: str | None = None) -> str:
    """HEAD, provided what OpenTofu reads is exactly HEAD and HEAD is the commit CI deploys.

    Two checks: `git status` over the whole tree (with the settings that hide untracked files
    overridden), then, independently of anything git displays, every file the engine reads for
    `environment` hashed from disk and compared with HEAD's tree (`.git/info/exclude`,
    skip-worktree and assume-unchanged hide files from `git status`, not from the engine).
    `environment` None checks every environment's folder.
    """
    try:
        commit = git(root, "rev-parse", "HEAD").strip()
        dirty = _status_paths(root)
    except GitError as exc:
        raise PreflightError(
            f"{exc}: deploy from a clone of the infrastructure repository that has a commit."
        ) from None
    if dirty:
        raise PreflightError(
            f"The working tree has uncommitted changes ({_shown(dirty)}): commit or stash them "
            "first, so that what is applied is exactly a commit."
        )
    _check_engine_inputs(root, commit, environment)
    expected = os.environ.get("GITHUB_SHA")
    if expected and expected != commit:
        raise PreflightError(
            f"HEAD is {commit[:12]}, but this workflow run deploys {expected[:12]} (GITHUB_SHA): "
            "check out that commit."
        )
    return commit


def engine_input_differences(
    root: Path, commit: str, environment: str | None = None
) -> tuple[list[str], list[str]]:
    """(differences, links) between what the engine reads on disk and `commit`'s tree.

    `differences` are "PATH (changed)", "PATH (not committed)" and "PATH (deleted)", sorted by
    path; `links` are the symbolic links (or other non-regular files) among the engine's inputs,
    on disk or in the commit. Paths are relative to `root`, with `/`.
    """
    env_dirs = [f"{ENVIRONMENTS_DIR}/{environment}"] if environment else [ENVIRONMENTS_DIR]
    dirs = (*ENGINE_DIRS, *env_dirs)
    on_disk, links = _walk_engine_inputs(root, dirs)
    committed, committed_links = _committed_engine_inputs(root, commit, dirs)
    links = sorted({*links, *committed_links})
    digest = hashlib.sha256 if len(commit) == 64 else hashlib.sha1
    differences = []
    for path in sorted(on_disk.keys() | committed.keys()):
        if path in links:
            continue
        if path not in committed:
            differences.append(f"{path} (not committed)")
        elif path not in on_disk:
            differences.append(f"{path} (deleted)")
        elif _blob_id(digest, on_disk[path]) != committed[path]:
            differences.append(f"{path} (changed)")
    return differences, links


def _check_engine_inputs(root: Path, commit: str, environment: str | None) -> None:
    differences, links = engine_input_differences(root, commit, environment)
    if links:
        raise PreflightError(
            f"OpenTofu would read symbolic links or other non-regular files ({_shown(links)}), "
            "whose content no commit pins: replace them with the files themselves, commit, and "
            "try again."
        )
    if differences:
        whose = f"for {environment} " if environment else ""
        raise PreflightError(
            f"Files OpenTofu reads {whose}differ from HEAD {commit[:12]} ({_shown(differences)}), "
            "though `git status` may not list them (.git/info/exclude, skip-worktree, "
            "assume-unchanged): commit them, or remove the ones not meant to be applied and "
            "restore the deleted ones, so that what is applied is exactly a commit."
        )


def _status_paths(root: Path) -> list[str]:
    """The paths `git status` reports as changed or untracked, whatever git is set to show."""
    out = git(
        root,
        *_STATUS_SETTINGS,
        "status",
        "--porcelain",
        "-z",
        "--untracked-files=all",
        "--ignore-submodules=none",
    )
    fields = out.split("\0")
    paths = []
    i = 0
    while i < len(fields) and fields[i]:
        entry = fields[i]
        paths.append(entry[3:])
        # A rename or copy is followed by its source path.
        i += 2 if entry[0] in "RC" or entry[1] in "RC" else 1
    return paths


def _walk_engine_inputs(root: Path, dirs: tuple[str, ...]) -> tuple[dict[str, bytes], list[str]]:
    """The engine's input files on disk, found by walking the folders (not asking git)."""
    files: dict[str, bytes] = {}
    links: list[str] = []

    def take(path: Path, rel: str) -> None:
        mode = path.lstat().st_mode
        if stat.S_ISREG(mode):
            files[rel] = path.read_bytes()
        else:
            links.append(rel)

    with os.scandir(root) as entries:
        for entry in entries:
            if any(fnmatchcase(entry.name, p) for p in ENGINE_ROOT_FILES) and not entry.is_dir(
                follow_symlinks=False
            ):
                take(Path(entry.path), entry.name)
    for rel_dir in dirs:
        # A linked folder on the way (environments/, environments/ENV) is refused as well.
        parts = rel_dir.split("/")
        linked = [
            "/".join(parts[: n + 1])
            for n in range(len(parts))
            if (root.joinpath(*parts[: n + 1])).is_symlink()
        ]
        if linked:
            links.append(linked[0])
            continue
        top = root / rel_dir
        if not top.is_dir():
            continue
        for folder, subdirs, names in os.walk(top, followlinks=False):
            here = Path(folder)
            rel_here = here.relative_to(root).as_posix()
            for name in list(subdirs):
                if (here / name).is_symlink():
                    links.append(f"{rel_here}/{name}")
                    subdirs.remove(name)
            for name in names:
                take(here / name, f"{rel_here}/{name}")
    return files, links


def _committed_engine_inputs(
    root: Path, commit: str, dirs: tuple[str, ...]
) -> tuple[dict[str, str], list[str]]:
    """The engine's input files in `commit` (path to blob id), and the links among them."""
    blobs: dict[str, str] = {}
    links: list[str] = []
    for entry in tree_entries(root, commit):
        if not _is_engine_input(entry.path, dirs):
            continue
        if entry.is_plain_file:
            blobs[entry.path] = entry.object_id
        else:  # a symbolic link, or a submodule: refused
            links.append(entry.path)
    return blobs, links


def _is_engine_input(path: str, dirs: tuple[str, ...]) -> bool:
    if "/" not in path:
        return any(fnmatchcase(path, p) for p in ENGINE_ROOT_FILES)
    return any(path.startswith(f"{folder}/") for folder in dirs)


def _blob_id(digest, content: bytes) -> str:
    """git's object id for a file with `content`, as `git hash-object --no-filters` computes it."""
    return digest(b"blob %d\0" % len(content) + content).hexdigest()


def _shown(items: list[str]) -> str:
    return ", ".join(items[:_SHOWN]) + (" ..." if len(items) > _SHOWN else "")
