"""Fixture plugin: real git repositories in temporary folders.

`git_repo` is an empty repository on `main`; `project_repo` holds a copy of this project's OpenTofu
tree (environments/, root *.tf files, modules/) committed on `main`, for tests that run tasks with
`HUBOPS_ROOT` pointing at it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hubops.adapters.environment_files import parse_hcl_file
from hubops.facts.environments import BACKEND_FILE, ENVIRONMENTS_DIR, VARS_FILE
from tests.support.moto_server import MOTO_ACCOUNT_ID
from tests.support.tree_copy import copy_tree_files


def git_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """An environment for git that ignores the user's and the machine's git configuration."""
    env = dict(os.environ if base is None else base)
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Hub Tester",
        GIT_AUTHOR_EMAIL="tester@example.org",
        GIT_COMMITTER_NAME="Hub Tester",
        GIT_COMMITTER_EMAIL="tester@example.org",
    )
    return env


class GitRepo:
    """A git repository in a folder; every method runs real git and fails loudly if git does."""

    def __init__(self, path: Path):
        self.path = path

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=self.path, env=git_env(), capture_output=True, text=True
        )
        if done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def write(self, relpath: str, text: str) -> Path:
        target = self.path / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def rm(self, relpath: str) -> None:
        self.git("rm", "-q", "-r", "--", relpath)

    def mv(self, old: str, new: str) -> None:
        (self.path / new).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", "--", old, new)

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def branch(self, name: str) -> None:
        """Create branch `name` at the current commit (without switching to it)."""
        self.git("branch", name)

    def checkout(self, name: str) -> None:
        self.git("checkout", "-q", name)

    def merge(self, name: str) -> str:
        """Merge `name` into the current branch with a merge commit; returns its sha."""
        self.git("merge", "-q", "--no-ff", "-m", f"Merge {name}", name)
        return self.head()

    def push(self, branch: str = "main") -> None:
        """Push `branch` to `origin`, which updates this clone's `origin/<branch>` too."""
        self.git("push", "-q", "origin", f"{branch}:{branch}")


def init_repo(path: Path) -> GitRepo:
    path.mkdir(parents=True, exist_ok=True)
    repo = GitRepo(path)
    repo.git("init", "-q", "--initial-branch=main")
    repo.git("config", "commit.gpgsign", "false")
    # Also in the repository's config, for tests that run git in it without `git_env()`.
    repo.git("config", "user.name", "Hub Tester")
    repo.git("config", "user.email", "tester@example.org")
    return repo


def init_origin(repo: GitRepo, path: Path) -> GitRepo:
    """A bare repository at `path`, added to `repo` as its `origin` remote."""
    path.mkdir(parents=True, exist_ok=True)
    origin = GitRepo(path)
    origin.git("init", "-q", "--bare", "--initial-branch=main")
    repo.git("remote", "add", "origin", str(path))
    return origin


def use_moto_account(root: Path) -> None:
    """Test-only rewrite: each environment's account id becomes moto's, so identity checks pass.

    The id also appears inside bucket names and KMS ARNs in backend.hcl, so every occurrence of the
    environment's own id is replaced in both of its files.
    """
    for env_dir in sorted((root / ENVIRONMENTS_DIR).iterdir()):
        vars_file = env_dir / VARS_FILE
        if not vars_file.is_file():
            continue
        account_id = str(parse_hcl_file(vars_file).get("aws_account_id", ""))
        if not account_id:
            continue
        for path in (vars_file, env_dir / BACKEND_FILE):
            if path.is_file():
                path.write_text(path.read_text().replace(account_id, MOTO_ACCOUNT_ID))


# Their tests start a part of the world (tests/support/tiers.py).
FIXTURE_MARKS = {"git_repo": "world", "project_repo": "world"}


@pytest.fixture
def git_repo(tmp_path: Path) -> GitRepo:
    """An empty git repository on branch `main` with a test identity."""
    return init_repo(tmp_path / "repo")


@pytest.fixture(scope="session")
def _project_repo_template(tmp_path_factory) -> Path:
    """The project's tree committed and pushed once per session (per worker): tests get copies."""
    base = tmp_path_factory.mktemp("project-template")
    repo = init_repo(base / "project")
    copy_tree_files(Path(__file__).resolve().parents[2], repo.path)
    use_moto_account(repo.path)
    repo.commit("The project's OpenTofu tree")
    origin = init_origin(repo, base / "origin.git")
    repo.push()
    for copied in (repo, origin):  # every test copies both: a few files each, not hundreds
        copied.git("gc", "--quiet")  # one pack instead of a file per object
        git_dir = copied.path / copied.git("rev-parse", "--git-dir")
        for sample in git_dir.glob("hooks/*.sample"):
            sample.unlink()
    return base


@pytest.fixture
def project_repo(_project_repo_template: Path, tmp_path: Path) -> GitRepo:
    """A clean clone holding a copy of this project's OpenTofu tree, on moto's account, its main
    pushed to a bare `origin` (production is applied only from main's history)."""
    for name in ("project", "origin.git"):
        shutil.copytree(_project_repo_template / name, tmp_path / name, symlinks=True)
    repo = GitRepo(tmp_path / "project")
    repo.git("remote", "set-url", "origin", str(tmp_path / "origin.git"))
    return repo
