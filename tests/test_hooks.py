"""The pre-push hooks, installed by `invoke hooks`, run by real `git push`es to a real remote."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.git_repo import GitRepo, git_env

PROJECT = Path(__file__).resolve().parents[1]
HOOK_FILES = (".pre-commit-config.yaml", "scripts/pre-push", "tasks.py", ".gitignore")
BANNER = "!! PRODUCTION: THIS REBUILDS CAE."


@pytest.fixture
def pushing(project_repo: GitRepo, tmp_path: Path):
    """A clone with the hooks installed by `invoke hooks`, its `origin` a bare repository."""
    for name in HOOK_FILES:
        target = project_repo.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT / name, target)
    project_repo.commit("hooks")
    project_repo.push()  # to the bare `origin` the project_repo fixture gives it

    environ = git_env()
    environ.pop("HUBOPS_ROOT", None)
    environ.pop("GITHUB_REF_NAME", None)
    environ.update(VIRTUAL_ENV=sys.prefix, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    installed = subprocess.run(
        [sys.executable, "-m", "invoke", "hooks"],
        cwd=project_repo.path,
        env=environ,
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stderr
    assert installed.stdout.endswith(
        "Before each `git push`: `invoke validate` runs, then the environments the push "
        "rebuilds are shown. To skip once: `git push --no-verify`.\n"
    )

    def push(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["git", "push", "origin", *args],
            cwd=project_repo.path,
            env=environ,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return project_repo, push


def remote_sha(repo: GitRepo, branch: str) -> str:
    out = repo.git("ls-remote", "origin", f"refs/heads/{branch}")
    return out.split()[0] if out else ""


def test_invoke_hooks_installs_a_pre_push_hook(pushing):
    repo, _ = pushing

    hook = repo.path / ".git" / "hooks" / "pre-push"

    assert hook.is_file()
    assert os.access(hook, os.X_OK)
    assert "pre-commit" in hook.read_text()


def test_a_push_of_a_branch_says_which_environments_it_rebuilds(pushing):
    repo, push = pushing
    repo.git("checkout", "-q", "-b", "try-dev")
    with (repo.path / "environments/cae-dev/terraform.tfvars").open("a") as f:
        f.write("# trying something\n")
    head = repo.commit("try something in dev")

    result = push("try-dev")

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "invoke validate (the pushed OpenTofu tree, offline)" in output
    assert "on branch try-dev rebuild: cae-dev" in output
    assert "    - environments/cae-dev/terraform.tfvars changed" in output
    assert BANNER not in output
    assert remote_sha(repo, "try-dev") == head


def test_a_push_of_cae_files_to_a_branch_says_cae_is_not_rebuilt(pushing):
    repo, push = pushing
    repo.git("checkout", "-q", "-b", "tune-prod")
    with (repo.path / "environments/cae/terraform.tfvars").open("a") as f:
        f.write("# tuning\n")
    repo.commit("tune production")

    result = push("tune-prod")

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "rebuild no environment." in output
    assert "but the branch is tune-prod, not main: cae is rebuilt only by a push to main." in output
    assert BANNER not in output


def test_a_push_to_main_that_rebuilds_cae_is_announced_loudly(pushing):
    repo, push = pushing
    before = repo.head()
    with (repo.path / "environments/cae/terraform.tfvars").open("a") as f:
        f.write("# tuning\n")
    head = repo.commit("tune production")

    result = push("main")

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert BANNER in output
    assert f"Changes {before[:12]}..{head[:12]} on branch main rebuild: cae" in output
    assert remote_sha(repo, "main") == head


def test_a_push_whose_tree_does_not_validate_is_stopped(pushing):
    repo, push = pushing
    before = remote_sha(repo, "main")
    (repo.path / "environments/cae-dev/terraform.tfvars").write_text("environment = \n")
    repo.commit("broken")

    result = push("main")

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "environments/cae-dev/terraform.tfvars:" in output
    assert remote_sha(repo, "main") == before


def test_the_pushed_commit_is_validated_not_the_working_tree(pushing):
    repo, push = pushing
    with (repo.path / "environments/cae-testing/terraform.tfvars").open("a") as f:
        f.write("# fine\n")
    head = repo.commit("fine")
    # An uncommitted mistake is not part of the push, and must not stop it.
    (repo.path / "environments/cae-testing/terraform.tfvars").write_text("environment = \n")

    result = push("main")

    assert result.returncode == 0, result.stdout + result.stderr
    assert remote_sha(repo, "main") == head


def test_a_push_whose_root_tofu_file_does_not_parse_is_stopped(pushing):
    repo, push = pushing
    before = remote_sha(repo, "main")
    (repo.path / "extra.tofu").write_text('locals {\n  a = "unclosed\n}\n')
    repo.commit("a broken .tofu file")

    result = push("main")

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "extra.tofu:2: HCL syntax error" in output
    assert remote_sha(repo, "main") == before


def run_pre_push(repo: GitRepo, *args: str, **extra: str) -> subprocess.CompletedProcess:
    environ = git_env()
    environ.pop("HUBOPS_ROOT", None)
    environ.update(VIRTUAL_ENV=sys.prefix, **extra)
    return subprocess.run(
        ["bash", "scripts/pre-push", *args],
        cwd=repo.path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_pre_push_validate_fails_when_git_cannot_read_the_pushed_commit(project_repo):
    for name in HOOK_FILES:
        target = project_repo.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT / name, target)
    missing = "ef" * 20

    result = run_pre_push(project_repo, "validate", PRE_COMMIT_TO_REF=missing)

    assert result.returncode == 1
    assert result.stderr == (
        f"error: {missing} is not a commit in this repository: push (or name) a commit that "
        "exists.\n"
    )


def test_pre_push_validate_checks_the_pushed_commit_with_its_tofu_files(project_repo):
    for name in HOOK_FILES:
        target = project_repo.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT / name, target)
    (project_repo.path / "extra.tofu").write_text('locals {\n  note = "fine"\n}\n')
    head = project_repo.commit("a .tofu file")

    result = run_pre_push(project_repo, "validate", PRE_COMMIT_TO_REF=head)

    assert result.returncode == 0, result.stdout + result.stderr
    skipped, summary = result.stdout.splitlines()
    # Offline: the engine (if installed) is left to `nox -s validate` and CI, so a push is quick.
    assert skipped == (
        "skipped: tofu fmt and tofu validate (--offline: `nox -s validate` and CI run them)"
    )
    assert summary.startswith("validate: OK (")
    assert summary.endswith(f"(the tree of {head})")
