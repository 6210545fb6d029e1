"""What is applied is exactly a commit, and production only moves forward along main.

Real git repositories in temporary folders (and a real bare `origin`); every test asserts the
message the operator reads.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hubops.facts.errors import PreflightError
from hubops.flows.lineage import check_production_lineage
from hubops.flows.preflight import deployed_commit
from tests.support.git_repo import GitRepo, init_origin

VARS = "environments/cae/terraform.tfvars"
HIDDEN = (
    "though `git status` may not list them (.git/info/exclude, skip-worktree, assume-unchanged)"
)
ADVICE = (
    "commit them, or remove the ones not meant to be applied and restore the deleted ones, so "
    "that what is applied is exactly a commit."
)


def refused(root: Path, environment: str | None = "cae") -> str:
    with pytest.raises(PreflightError) as raised:
        deployed_commit(root, environment)
    return str(raised.value)


def differs(repo: GitRepo, shown: str, environment: str | None = "cae") -> str:
    whose = f"for {environment} " if environment else ""
    head = repo.head()[:12]
    return f"Files OpenTofu reads {whose}differ from HEAD {head} ({shown}), {HIDDEN}: {ADVICE}"


def append(repo: GitRepo, relpath: str, text: str = "# an edit nobody committed\n") -> None:
    path = repo.path / relpath
    path.write_text(path.read_text() + text)


# --- deployed_commit: the engine's inputs are exactly HEAD ---------------------------------------


def test_a_clean_checkout_deploys_its_head(project_repo):
    (project_repo.path / ".hubops" / "plans").mkdir(parents=True)
    (project_repo.path / ".hubops" / "plans" / "cae.tfplan").write_bytes(b"ignored by git")

    assert deployed_commit(project_repo.path, "cae") == project_repo.head()
    assert deployed_commit(project_repo.path) == project_repo.head()


def test_an_edit_git_status_shows_is_refused_as_before(project_repo):
    append(project_repo, VARS)

    assert refused(project_repo.path) == (
        f"The working tree has uncommitted changes ({VARS}): commit or stash them first, so that "
        "what is applied is exactly a commit."
    )


def test_an_edit_hidden_by_skip_worktree_is_refused(project_repo):
    project_repo.git("update-index", "--skip-worktree", VARS)
    append(project_repo, VARS)
    assert project_repo.git("status", "--porcelain") == ""

    assert refused(project_repo.path) == differs(project_repo, f"{VARS} (changed)")


def test_an_edit_hidden_by_assume_unchanged_is_refused(project_repo):
    project_repo.git("update-index", "--assume-unchanged", "modules/hub/main.tf")
    append(project_repo, "modules/hub/main.tf")
    assert project_repo.git("status", "--porcelain") == ""

    assert refused(project_repo.path) == differs(project_repo, "modules/hub/main.tf (changed)")


def test_a_deletion_hidden_by_skip_worktree_is_refused(project_repo):
    project_repo.git("update-index", "--skip-worktree", "modules/hub/outputs.tf")
    (project_repo.path / "modules/hub/outputs.tf").unlink()
    assert project_repo.git("status", "--porcelain") == ""

    assert refused(project_repo.path) == differs(project_repo, "modules/hub/outputs.tf (deleted)")


def test_a_file_hidden_by_info_exclude_is_refused(project_repo):
    (project_repo.path / ".git" / "info" / "exclude").write_text("override.tf\n*.auto.tfvars\n")
    project_repo.write("modules/hub/override.tf", "# changes the hub, unseen\n")
    project_repo.write("environments/cae/extra.auto.tfvars", 'domain = "elsewhere.example.org"\n')
    project_repo.write("override.tf", "# root override\n")
    assert project_repo.git("status", "--porcelain") == ""

    assert refused(project_repo.path) == differs(
        project_repo,
        "environments/cae/extra.auto.tfvars (not committed), modules/hub/override.tf (not "
        "committed), override.tf (not committed)",
    )


def test_a_file_the_projects_gitignore_hides_is_refused(project_repo):
    project_repo.write("environments/cae/.terraform/terraform.tfstate", "{}\n")
    project_repo.write("cae.tfplan", "a plan at the root is not read by the engine\n")

    assert refused(project_repo.path) == differs(
        project_repo, "environments/cae/.terraform/terraform.tfstate (not committed)"
    )


def test_untracked_files_hidden_by_show_untracked_files_no_are_refused(project_repo):
    project_repo.git("config", "status.showUntrackedFiles", "no")
    project_repo.write("modules/hub/extra.tf", "# new, uncommitted\n")
    project_repo.write("docs/notes/draft.md", "not an engine input, still not a commit\n")
    assert project_repo.git("status", "--porcelain") == ""

    assert refused(project_repo.path) == (
        "The working tree has uncommitted changes (docs/notes/draft.md, modules/hub/extra.tf): "
        "commit or stash them first, so that what is applied is exactly a commit."
    )


def test_another_environments_hidden_files_do_not_matter_to_this_one(project_repo):
    (project_repo.path / ".git" / "info" / "exclude").write_text("*.auto.tfvars\n")
    project_repo.write("environments/cae-dev/local.auto.tfvars", "# cae-dev only\n")

    assert deployed_commit(project_repo.path, "cae") == project_repo.head()
    # Without an environment, every environment's folder counts.
    assert refused(project_repo.path, None) == differs(
        project_repo, "environments/cae-dev/local.auto.tfvars (not committed)", None
    )


def test_more_than_five_differences_are_cut_short(project_repo):
    (project_repo.path / ".git" / "info" / "exclude").write_text("*.auto.tfvars\n")
    for n in range(7):
        project_repo.write(f"environments/cae/{n}.auto.tfvars", f"# {n}\n")

    shown = ", ".join(f"environments/cae/{n}.auto.tfvars (not committed)" for n in range(5))
    assert refused(project_repo.path) == differs(project_repo, f"{shown} ...")


def test_a_symbolic_link_among_the_engines_inputs_is_refused(project_repo):
    (project_repo.path / ".git" / "info" / "exclude").write_text("values.yaml\n")
    (project_repo.path / "modules/hub/values.yaml").symlink_to("/etc/hostname")

    assert refused(project_repo.path) == (
        "OpenTofu would read symbolic links or other non-regular files (modules/hub/values.yaml), "
        "whose content no commit pins: replace them with the files themselves, commit, and try "
        "again."
    )


def test_a_committed_symbolic_link_to_an_environment_folder_is_refused(project_repo):
    os.symlink("cae-dev", project_repo.path / "environments" / "cae-staging")
    project_repo.commit("cae-staging shares cae-dev's settings")

    assert deployed_commit(project_repo.path, "cae") == project_repo.head()
    assert refused(project_repo.path, "cae-staging") == (
        "OpenTofu would read symbolic links or other non-regular files "
        "(environments/cae-staging), whose content no commit pins: replace them with the files "
        "themselves, commit, and try again."
    )


def test_ci_still_deploys_only_the_commit_it_was_asked_for(project_repo, monkeypatch):
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")

    assert refused(project_repo.path) == (
        f"HEAD is {project_repo.head()[:12]}, but this workflow run deploys 0123456789ab "
        "(GITHUB_SHA): check out that commit."
    )


# --- check_production_lineage: on main's history, forward from the last apply ------------------


@pytest.fixture
def pushed(git_repo, tmp_path):
    """A repository with two commits on main, both pushed to a real bare origin."""
    init_origin(git_repo, tmp_path / "origin.git")
    git_repo.write("environments/cae/terraform.tfvars", 'region = "us-west-2"\n')
    git_repo.commit("first")
    git_repo.write("environments/cae/terraform.tfvars", 'region = "us-east-1"\n')
    git_repo.commit("second")
    git_repo.push()
    return git_repo


def lineage_refused(repo: GitRepo, commit: str, last: str | None, **flags) -> str:
    with pytest.raises(PreflightError) as raised:
        check_production_lineage(repo.path, commit, last, **flags)
    return str(raised.value)


def test_a_commit_on_origin_main_past_the_last_apply_goes_ahead(pushed):
    first = pushed.git("rev-parse", "HEAD~1")

    assert check_production_lineage(pushed.path, pushed.head(), first, rollback=False) is None
    assert check_production_lineage(pushed.path, pushed.head(), pushed.head()) is None
    assert check_production_lineage(pushed.path, pushed.head(), None) is None


def test_an_unpushed_branch_commit_is_refused(pushed):
    last = pushed.head()
    pushed.git("checkout", "-q", "-b", "try-bigger-nodes")
    pushed.write("environments/cae/terraform.tfvars", 'region = "eu-west-1"\n')
    commit = pushed.commit("try bigger nodes")

    assert lineage_refused(pushed, commit, last) == (
        f"{commit[:12]} is not on main's history (origin/main is {last[:12]}), and production is "
        "applied only from main: push it and merge it to main first; if it is merged already, "
        "`git fetch origin` and try again."
    )


def test_a_local_main_commit_not_yet_pushed_is_refused(pushed):
    last = pushed.head()
    commit = pushed.commit("not pushed yet")

    assert lineage_refused(pushed, commit, last).startswith(
        f"{commit[:12]} is not on main's history (origin/main is {last[:12]})"
    )
    pushed.push()
    assert check_production_lineage(pushed.path, commit, last) is None


def test_a_branch_commit_merged_to_origin_main_goes_ahead(pushed):
    last = pushed.head()
    pushed.git("checkout", "-q", "-b", "feature")
    commit = pushed.commit("feature work")
    pushed.checkout("main")
    pushed.merge("feature")
    pushed.push()

    assert check_production_lineage(pushed.path, commit, last) is None


def test_a_clone_without_origin_main_is_refused(git_repo):
    commit = git_repo.commit("only local")

    assert lineage_refused(git_repo, commit, None) == (
        f"This clone has no origin/main (refs/remotes/origin/main), so it cannot tell whether "
        f"{commit[:12]} is on main's history, the only one production is applied from: add the "
        "remote (`git remote add origin URL`), `git fetch origin`, and try again."
    )


def test_an_ancestor_of_the_last_apply_is_refused_as_a_silent_rollback(pushed):
    first, last = pushed.git("rev-parse", "HEAD~1"), pushed.head()

    assert lineage_refused(pushed, first, last) == (
        f"{first[:12]} is an ancestor of {last[:12]}, the commit of production's last successful "
        "apply: applying it would silently roll production back. Apply main's tip (`git pull`), "
        "or pass --rollback to roll back on purpose."
    )


def test_a_rollback_asked_for_goes_ahead_and_is_noted(pushed):
    first, last = pushed.git("rev-parse", "HEAD~1"), pushed.head()

    note = check_production_lineage(pushed.path, first, last, rollback=True)

    assert note == f"rollback from {last} to {first}"


def test_a_commit_beside_the_last_apply_is_refused(pushed, tmp_path):
    # main was rewritten after the last apply: the new tip does not contain what was applied.
    last = pushed.head()
    pushed.git("reset", "-q", "--hard", "HEAD~1")
    commit = pushed.commit("rewritten second")
    pushed.git("push", "-q", "--force", "origin", "main:main")

    assert lineage_refused(pushed, commit, last) == (
        f"{commit[:12]} does not descend from {last[:12]}, the commit of production's last "
        "successful apply: applying it would undo what was applied since. Apply main's tip "
        "(`git pull`), or pass --rollback to replace it on purpose."
    )
    assert (
        check_production_lineage(pushed.path, commit, last, rollback=True)
        == f"rollback from {last} to {commit}"
    )


def test_a_last_applied_commit_this_clone_lacks_is_refused_with_fetch_advice(pushed):
    unknown = "0123456789abcdef0123456789abcdef01234567"

    assert lineage_refused(pushed, pushed.head(), unknown) == (
        f"Production was last applied from 0123456789ab, which this clone does not have, so "
        f"whether {pushed.head()[:12]} descends from it cannot be checked: `git fetch origin` "
        f"and try again (if that commit is gone for good, --rollback applies "
        f"{pushed.head()[:12]} anyway)."
    )
    assert check_production_lineage(pushed.path, pushed.head(), unknown, rollback=True) == (
        f"rollback from {unknown} (not in this clone, so not checked) to {pushed.head()}"
    )


def test_a_shallow_clone_is_told_to_unshallow(pushed, tmp_path):
    first = pushed.git("rev-parse", "HEAD~1")
    clone = GitRepo(tmp_path / "shallow")
    pushed.git("clone", "-q", "--depth", "1", f"file://{tmp_path / 'origin.git'}", str(clone.path))

    message = lineage_refused(clone, clone.head(), first)

    assert "cannot be checked: `git fetch --unshallow origin` and try again" in message


def test_in_ci_only_a_run_for_main_may_apply_production(pushed, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_REF", "refs/heads/try-bigger-nodes")

    assert lineage_refused(pushed, pushed.head(), None) == (
        "This workflow run is for refs/heads/try-bigger-nodes, but production is applied only "
        "from refs/heads/main: merge the change to main and let its workflow run apply it."
    )
    monkeypatch.setenv("GITHUB_REF", "refs/heads/main")
    pushed.git("remote", "remove", "origin")  # CI trusts GITHUB_REF, not a remote-tracking ref
    assert check_production_lineage(pushed.path, pushed.head(), None) is None
