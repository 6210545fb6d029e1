"""`invoke changed`: the guide's promotion rules, checked against real git history."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from hubops.facts.errors import GitError
from hubops.flows.changes import detect_changes
from tests.support.git_repo import GitRepo, git_env
from tests.support.invoking import run_invoke

ZERO = "0" * 40
SHARED_NOTE = "(shared by every environment but cae)"


def lay_out_tree(repo: GitRepo) -> str:
    """A minimal infrastructure tree on main; returns its commit."""
    for env in ("cae-testing", "cae-dev", "cae"):
        repo.write(f"environments/{env}/terraform.tfvars", f'environment = "{env}"\n')
        repo.write(f"environments/{env}/backend.hcl", f'key = "{env}/terraform.tfstate"\n')
    repo.write("modules/hub/main.tf", "# the hub\n")
    repo.write("main.tf", "# root\n")
    repo.write("README.md", "# readme\n")
    return repo.commit("tree")


@pytest.fixture
def tree(git_repo: GitRepo) -> GitRepo:
    lay_out_tree(git_repo)
    return git_repo


def run_changed(repo_path: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    environ = git_env()
    for name in ("GITHUB_REF_NAME", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "HUBOPS_ROOT"):
        environ.pop(name, None)
    environ.update(extra_env)
    return run_invoke("changed", *args, cwd=repo_path, env=environ)


def test_a_change_under_an_environment_folder_rebuilds_only_that_environment(tree):
    base = tree.head()
    tree.write("environments/cae-dev/terraform.tfvars", 'environment = "cae-dev" # new\n')
    head = tree.commit("dev only")

    report = detect_changes(tree.path, base, head, "main")

    assert report.environments == ["cae-dev"]
    assert report.reasons == {"cae-dev": ["environments/cae-dev/terraform.tfvars changed"]}
    assert report.held_back == {}


def test_a_module_change_rebuilds_testing_and_dev_but_never_cae_even_on_main(tree):
    base = tree.head()
    tree.write("modules/hub/main.tf", "# the hub, changed\n")
    head = tree.commit("module")

    report = detect_changes(tree.path, base, head, "main")

    assert report.environments == ["cae-testing", "cae-dev"]
    reason = f"modules/hub/main.tf changed {SHARED_NOTE}"
    assert report.reasons == {"cae-testing": [reason], "cae-dev": [reason]}
    assert report.held_back == {}


@pytest.mark.parametrize(
    "path",
    [
        "main.tf",
        "outputs.tf.json",
        ".terraform.lock.hcl",
        "extra.tofu",
        "extra.tofu.json",
        "terraform.tfvars",
        "terraform.tfvars.json",
        "sizes.auto.tfvars",
        "sizes.auto.tfvars.json",
    ],
)
def test_root_tree_files_rebuild_testing_and_dev(tree, path):
    base = tree.head()
    tree.write(path, "# changed\n")
    head = tree.commit("root file")

    report = detect_changes(tree.path, base, head, "main")

    assert report.environments == ["cae-testing", "cae-dev"]


def test_cae_files_pushed_to_main_rebuild_cae(tree):
    base = tree.head()
    tree.write("environments/cae/terraform.tfvars", 'environment = "cae" # new\n')
    head = tree.commit("production")

    report = detect_changes(tree.path, base, head, "main")

    assert report.environments == ["cae"]
    assert report.reasons == {"cae": ["environments/cae/terraform.tfvars changed"]}


def test_cae_files_pushed_to_another_branch_rebuild_nothing_and_say_why(tree):
    base = tree.head()
    tree.branch("tune-prod")
    tree.checkout("tune-prod")
    tree.write("environments/cae/terraform.tfvars", 'environment = "cae" # new\n')
    head = tree.commit("production, on a branch")

    result = run_changed(tree.path, "--base", base, "--head", head)

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"Changes {base[:12]}..{head[:12]} on branch tune-prod rebuild no environment.\n"
        "cae is not rebuilt: its files changed (environments/cae/terraform.tfvars changed), but "
        "the branch is tune-prod, not main: cae is rebuilt only by a push to main.\n"
    )


def test_a_detached_head_never_rebuilds_cae(tree):
    base = tree.head()
    tree.write("environments/cae/backend.hcl", 'key = "cae/other.tfstate"\n')
    head = tree.commit("production")
    tree.checkout(head)  # detaches HEAD

    report = detect_changes(tree.path, base, head, None)

    assert report.environments == []
    assert "but HEAD is not on a branch, not main" in report.held_back["cae"]


@pytest.mark.parametrize(
    "path",
    [
        "README.md",
        "docs/ci-and-promotion.md",
        "tests/test_something.py",
        "hubops/flows/changes.py",
        "tasks.py",
        "docker/Dockerfile",  # the image is rebuilt, no environment (below)
        "environments/README.md",
        ".github/workflows/apply.yml",
        "template.tfvars",  # not loaded by OpenTofu unless named with -var-file
        "modules.md",
    ],
)
def test_docs_tests_python_and_docker_rebuild_no_environment(tree, path):
    base = tree.head()
    tree.write(path, "changed\n")
    head = tree.commit("not infrastructure")

    report = detect_changes(tree.path, base, head, "main")

    assert report.environments == []
    assert report.held_back == {}


def test_a_file_renamed_out_of_an_environment_rebuilds_that_environment(tree):
    base = tree.head()
    tree.mv("environments/cae-testing/backend.hcl", "docs/old-backend.hcl")
    head = tree.commit("move out")

    report = detect_changes(tree.path, base, head, "main")

    assert report.environments == ["cae-testing"]
    assert report.reasons == {
        "cae-testing": ["environments/cae-testing/backend.hcl renamed to docs/old-backend.hcl"]
    }


def test_a_file_renamed_from_one_environment_to_another_rebuilds_both(tree):
    base = tree.head()
    tree.write("environments/cae-dev/extra.auto.tfvars", "replicas = 2\n")
    base = tree.commit("extra for dev")
    tree.mv("environments/cae-dev/extra.auto.tfvars", "environments/cae-testing/extra.auto.tfvars")
    head = tree.commit("move to testing")

    report = detect_changes(tree.path, base, head, "main")

    assert report.environments == ["cae-testing", "cae-dev"]
    assert report.reasons["cae-dev"] == [
        "environments/cae-dev/extra.auto.tfvars renamed to "
        "environments/cae-testing/extra.auto.tfvars"
    ]
    assert report.reasons["cae-testing"] == [
        "environments/cae-testing/extra.auto.tfvars renamed from "
        "environments/cae-dev/extra.auto.tfvars"
    ]


def test_a_file_renamed_into_cae_on_main_rebuilds_cae_for_the_new_path(tree):
    tree.write("docs/cae-extra.tfvars", "replicas = 2\n")
    base = tree.commit("draft")
    tree.mv("docs/cae-extra.tfvars", "environments/cae/extra.auto.tfvars")
    head = tree.commit("move in")

    report = detect_changes(tree.path, base, head, "main")

    assert report.environments == ["cae"]
    assert report.reasons["cae"] == [
        "environments/cae/extra.auto.tfvars renamed from docs/cae-extra.tfvars"
    ]


def test_a_deleted_environment_file_rebuilds_that_environment(tree):
    base = tree.head()
    tree.rm("environments/cae-dev/backend.hcl")
    head = tree.commit("delete")

    report = detect_changes(tree.path, base, head, "main")

    assert report.environments == ["cae-dev"]
    assert report.reasons == {"cae-dev": ["environments/cae-dev/backend.hcl deleted"]}


def test_merging_a_branch_into_main_rebuilds_what_the_branch_changed_cae_included(tree):
    tree.branch("feature")
    tree.checkout("feature")
    tree.write("modules/hub/main.tf", "# new hub\n")
    tree.commit("module")
    tree.write("environments/cae/terraform.tfvars", 'environment = "cae" # new\n')
    tree.commit("production")
    tree.checkout("main")
    tree.write("docs/notes.md", "notes\n")
    before = tree.commit("docs on main meanwhile")
    merge = tree.merge("feature")

    report = detect_changes(tree.path, before, merge, "main")

    assert report.environments == ["cae-testing", "cae-dev", "cae"]
    assert report.reasons["cae"] == ["environments/cae/terraform.tfvars changed"]
    assert report.includes_production


def test_a_new_branch_first_push_compares_with_its_merge_base_with_main(tree):
    fork_point = tree.head()
    tree.branch("feature")
    tree.write("environments/cae-testing/terraform.tfvars", "# main moved on\n")
    tree.commit("testing change on main, not on the branch")
    tree.checkout("feature")
    tree.write("environments/cae-dev/terraform.tfvars", "# the branch's change\n")
    head = tree.commit("dev change")

    result = run_changed(tree.path, "--base", ZERO)

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"New branch (all-zero base): compared with its merge base with main, {fork_point[:12]}.\n"
        f"Changes {fork_point[:12]}..{head[:12]} on branch feature rebuild: cae-dev\n"
        "  cae-dev:\n"
        "    - environments/cae-dev/terraform.tfvars changed\n"
    )


def test_a_new_branch_first_push_prefers_the_remote_main(tree, tmp_path):
    clone = GitRepo(tmp_path / "clone")
    subprocess.run(
        ["git", "clone", "-q", str(tree.path), str(clone.path)], env=git_env(), check=True
    )
    clone.git("checkout", "-q", "-b", "feature")
    clone.git("branch", "-D", "main")
    clone.write("modules/hub/main.tf", "# new\n")
    clone.commit("module")

    report = detect_changes(clone.path, ZERO, "HEAD", "feature")

    assert report.base_note == (
        f"New branch (all-zero base): compared with its merge base with origin/main, "
        f"{tree.head()[:12]}."
    )
    assert report.environments == ["cae-testing", "cae-dev"]


def test_an_all_zero_base_without_any_main_fails_saying_what_to_fetch(git_repo):
    git_repo.git("checkout", "-q", "-b", "lonely")
    lay_out_tree(git_repo)

    with pytest.raises(GitError) as raised:
        detect_changes(git_repo.path, ZERO, "HEAD", "lonely")

    assert str(raised.value) == (
        "The base is all zeros (a new branch's first push), but there is no main or origin/main "
        "to compare with: `git fetch origin main`, or pass --base COMMIT."
    )


def test_an_unknown_base_fails_with_a_clear_error(tree):
    result = run_changed(tree.path, "--base", "no-such-branch")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "error: --base no-such-branch is not a commit in this repository: pass a commit, branch "
        "or tag that exists (`git log --oneline` lists commits).\n"
    )


def test_an_unknown_head_fails_with_a_clear_error(tree):
    result = run_changed(tree.path, "--base", "main", "--head", "--all")

    assert result.returncode == 1
    assert result.stderr == (
        "error: --head --all is not a commit in this repository: pass a commit, branch or tag "
        "that exists (`git log --oneline` lists commits).\n"
    )


def test_a_shallow_clone_without_the_base_commit_fails_saying_to_fetch_history(tree, tmp_path):
    first = tree.head()
    tree.write("environments/cae-dev/terraform.tfvars", "# later\n")
    tree.commit("later")
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{tree.path}", str(shallow)],
        env=git_env(),
        check=True,
    )

    result = run_changed(shallow, "--base", first)

    assert result.returncode == 1
    assert result.stderr == (
        f"error: --base {first} is not in this clone, which is shallow: fetch the history "
        "(`git fetch --unshallow`, or actions/checkout with fetch-depth: 0) and try again.\n"
    )


def test_a_folder_that_is_not_a_git_repository_fails_with_a_clear_error(tmp_path):
    folder = tmp_path / "plain"
    (folder / "environments" / "cae-dev").mkdir(parents=True)

    result = run_changed(
        folder, "--base", "main", HUBOPS_ROOT=str(folder), GIT_CEILING_DIRECTORIES=str(tmp_path)
    )

    assert result.returncode == 1
    assert result.stderr == (
        f"error: {folder} is not in a git repository: run this from a clone of the "
        "infrastructure repository (git clone ...), or set HUBOPS_ROOT to one.\n"
    )


def test_json_format_lists_environments_in_promotion_order_with_reasons(tree):
    base = tree.head()
    tree.write("environments/cae/terraform.tfvars", "# prod\n")
    tree.write("environments/cae-testing/terraform.tfvars", "# testing\n")
    tree.write("main.tf", "# root changed\n")
    head = tree.commit("everything")

    result = run_changed(tree.path, "--base", base, "--format", "json", "--branch", "main")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "environments": ["cae-testing", "cae-dev", "cae"],
        "reasons": {
            "cae-testing": [
                "environments/cae-testing/terraform.tfvars changed",
                f"main.tf changed {SHARED_NOTE}",
            ],
            "cae-dev": [f"main.tf changed {SHARED_NOTE}"],
            "cae": ["environments/cae/terraform.tfvars changed"],
        },
        "held_back": {},
        "image": {"rebuild": False, "reasons": []},
        "base": base,
        "head": head,
        "branch": "main",
    }


def test_github_format_appends_a_matrix_to_github_output(tree, tmp_path):
    base = tree.head()
    tree.write("modules/hub/main.tf", "# new\n")
    tree.commit("module")
    output = tmp_path / "github_output"
    output.write_text("earlier=kept\n")
    summary = tmp_path / "summary.md"

    result = run_changed(
        tree.path,
        "--base",
        base,
        "--format",
        "github",
        GITHUB_OUTPUT=str(output),
        GITHUB_STEP_SUMMARY=str(summary),
        GITHUB_REF_NAME="main",
    )

    assert result.returncode == 0, result.stderr
    assert output.read_text() == (
        "earlier=kept\n"
        'environments=["cae-testing","cae-dev"]\n'
        'matrix={"environment":["cae-testing","cae-dev"]}\n'
        "image=false\n"
    )
    assert "on branch main rebuild: cae-testing, cae-dev" in result.stdout
    assert summary.read_text().startswith("### Environments to rebuild\n")


def test_github_format_with_an_unwritable_summary_warns_and_still_sets_the_outputs(tree, tmp_path):
    base = tree.head()
    tree.write("modules/hub/main.tf", "# new\n")
    tree.commit("module")
    output, summary = tmp_path / "github_output", tmp_path / "summary.md"
    summary.mkdir()  # a folder: appending to it fails as an unwritable file does

    result = run_changed(
        tree.path, "--base", base, "--format", "github", GITHUB_OUTPUT=str(output),
        GITHUB_STEP_SUMMARY=str(summary), GITHUB_REF_NAME="main",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stderr == "warning: the job summary could not be written (Is a directory).\n"
    assert 'matrix={"environment":["cae-testing","cae-dev"]}\n' in output.read_text()


def test_github_format_refuses_plainly_when_its_outputs_cannot_be_written(tree, tmp_path):
    base = tree.head()
    output = tmp_path / "github_output"
    output.mkdir()

    result = run_changed(
        tree.path, "--base", base, "--format", "github", GITHUB_OUTPUT=str(output),
        GITHUB_REF_NAME="main",
    )  # fmt: skip

    assert result.returncode == 1
    assert result.stderr == (
        "error: the step outputs (environments, matrix, image) could not be written to "
        "$GITHUB_OUTPUT (Is a directory).\n"
    )


def test_github_format_without_github_output_fails_before_looking_at_git(tmp_path):
    result = run_changed(tmp_path, "--base", "main", "--format", "github")

    assert result.returncode == 1
    assert result.stderr == (
        "error: --format github appends to the file named by $GITHUB_OUTPUT, which is not set: "
        "use it in a GitHub Actions step, or pass --format text or json.\n"
    )


def test_an_unknown_format_fails_naming_the_choices(tree):
    result = run_changed(tree.path, "--base", "main", "--format", "yaml")

    assert result.returncode == 1
    assert result.stderr == "error: unknown --format 'yaml': use one of text, json, github.\n"


def test_the_branch_comes_from_github_ref_name_before_the_checked_out_one(tree):
    base = tree.head()
    tree.branch("elsewhere")
    tree.checkout("elsewhere")
    tree.write("environments/cae/terraform.tfvars", "# prod\n")
    tree.commit("prod")

    from_checkout = run_changed(tree.path, "--base", base, "--format", "json")
    from_github = run_changed(tree.path, "--base", base, "--format", "json", GITHUB_REF_NAME="main")
    from_flag = run_changed(
        tree.path, "--base", base, "--format", "json", "--branch", "x", GITHUB_REF_NAME="main"
    )

    assert json.loads(from_checkout.stdout)["branch"] == "elsewhere"
    assert json.loads(from_checkout.stdout)["environments"] == []
    assert json.loads(from_github.stdout)["environments"] == ["cae"]
    assert json.loads(from_flag.stdout)["branch"] == "x"


def test_a_range_that_rebuilds_cae_is_announced_with_a_loud_banner(tree):
    base = tree.head()
    tree.write("environments/cae/terraform.tfvars", "# prod\n")
    tree.commit("prod")

    result = run_changed(tree.path, "--base", base)

    lines = result.stdout.splitlines()
    assert lines[0] == lines[4] == "!" * 78
    assert lines[1] == f"!! {'PRODUCTION: THIS REBUILDS CAE.':<72} !!"
    assert lines[-5:] == lines[:5]
    assert "rebuild: cae" in result.stdout


def test_the_same_base_and_head_rebuild_nothing(tree):
    report = detect_changes(tree.path, "HEAD", "HEAD", "main")

    assert report.environments == []
    assert report.render() == (
        f"Changes {tree.head()[:12]}..{tree.head()[:12]} on branch main rebuild no environment."
    )


def test_a_removed_environment_folder_rebuilds_nothing_and_says_why(tree):
    tree.write("environments/cae-old/terraform.tfvars", 'environment = "cae-old"\n')
    base = tree.commit("an old environment")
    tree.rm("environments/cae-old/terraform.tfvars")
    head = tree.commit("remove it")

    report = detect_changes(tree.path, base, head, "main")

    assert report.environments == []
    assert report.held_back == {
        "cae-old": f"its folder is gone at {head[:12]} (environments/cae-old/terraform.tfvars "
        "deleted): there is nothing to apply. If it still runs, destroy it with `invoke destroy "
        "--env cae-old` from a commit that has it."
    }


def test_a_docker_change_rebuilds_the_image_and_no_environment_with_its_reason(tree):
    base = tree.head()
    tree.write("docker/environment.yml", "dependencies: []\n")
    tree.write("docker/Dockerfile", "FROM scratch\n")
    head = tree.commit("image")

    report = detect_changes(tree.path, base, head, "main")

    assert report.environments == []
    assert report.rebuilds_image
    assert report.image == ["docker/Dockerfile added", "docker/environment.yml added"]
    assert report.render().splitlines() == [
        f"Changes {base[:12]}..{head[:12]} on branch main rebuild no environment.",
        "The user image is rebuilt (before any environment; pushed as :COMMIT-SHA and made "
        "latest, so every environment, cae included, runs it from its next server start):",
        "    - docker/Dockerfile added",
        "    - docker/environment.yml added",
    ]


def test_off_main_the_image_is_only_built_and_smoke_tested(tree):
    base = tree.head()
    tree.write("docker/Dockerfile", "FROM scratch\n")
    tree.write("modules/hub/main.tf", "# the hub, changed\n")
    head = tree.commit("image and module")

    report = detect_changes(tree.path, base, head, "feature")

    assert report.environments == ["cae-testing", "cae-dev"]
    assert report.render().splitlines()[-2:] == [
        "The user image is rebuilt (built and smoke-tested only; pushed and made latest on main "
        "only):",
        "    - docker/Dockerfile added",
    ]


def test_github_format_says_image_true_when_docker_changed(tree, tmp_path):
    base = tree.head()
    tree.write("docker/environment.yml", "dependencies: []\n")
    tree.commit("image")
    output = tmp_path / "github_output"

    result = run_changed(
        tree.path, "--base", base, "--format", "github", GITHUB_OUTPUT=str(output),
        GITHUB_REF_NAME="main",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert output.read_text() == 'environments=[]\nmatrix={"environment":[]}\nimage=true\n'


def test_json_format_names_the_image_and_its_reasons(tree):
    base = tree.head()
    tree.write("docker/environment.yml", "dependencies: []\n")
    tree.commit("image")

    result = run_changed(tree.path, "--base", base, "--format", "json", "--branch", "main")

    assert json.loads(result.stdout)["image"] == {
        "rebuild": True,
        "reasons": ["docker/environment.yml added"],
    }


def test_a_symbolic_link_under_an_environment_folder_is_refused_naming_it(tree):
    base = tree.head()
    tree.write("shared.auto.tfvars.txt", "replicas = 2\n")
    (tree.path / "environments/cae-dev/extra.auto.tfvars").symlink_to(
        "../../shared.auto.tfvars.txt"
    )
    head = tree.commit("a linked tfvars")

    result = run_changed(tree.path, "--base", base)

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: OpenTofu would read symbolic links at {head[:12]} "
        "(environments/cae-dev/extra.auto.tfvars -> ../../shared.auto.tfvars.txt): a change "
        "behind a link rebuilds no environment, and an apply refuses them. Replace each with the "
        "file itself and commit.\n"
    )


def test_a_force_pushed_branch_whose_old_tip_is_gone_compares_with_its_merge_base(tree):
    fork_point = tree.head()
    tree.branch("feature")
    tree.checkout("feature")
    tree.write("environments/cae-dev/terraform.tfvars", "# first try\n")
    tree.commit("first try")
    tree.git("reset", "-q", "--hard", fork_point)  # the force push rewrote the branch
    tree.write("modules/hub/main.tf", "# second try\n")
    head = tree.commit("second try")
    gone = "ab" * 20  # the `before` of the force push: no longer in any clone

    result = run_changed(tree.path, "--base", gone)

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"The base {gone[:12]} is not in this clone (a force push replaced it?): compared with "
        f"the merge base with main, {fork_point[:12]}.\n"
        f"Changes {fork_point[:12]}..{head[:12]} on branch feature rebuild: cae-testing, cae-dev\n"
        "  cae-testing:\n"
        f"    - modules/hub/main.tf changed {SHARED_NOTE}\n"
        "  cae-dev:\n"
        f"    - modules/hub/main.tf changed {SHARED_NOTE}\n"
    )


def test_a_force_push_to_main_whose_old_tip_is_gone_fails_asking_for_a_base(tree):
    gone = "cd" * 20

    result = run_changed(tree.path, "--base", gone)

    assert result.returncode == 1
    assert result.stderr == (
        f"error: --base {gone[:12]} is not in this clone (a force push replaced it?), and "
        f"{tree.head()[:12]} is on main's history, so no merge base tells what changed: pass "
        "--base with the last commit applied (`invoke history --env ENV` shows it).\n"
    )


def test_a_local_chart_changed_without_a_new_version_is_refused(tree):
    chart = "modules/hub/charts/binding"
    tree.write(f"{chart}/Chart.yaml", "apiVersion: v2\nname: binding\nversion: 1.0.0\n")
    tree.write(f"{chart}/templates/binding.yaml", "kind: TargetGroupBinding\n")
    base = tree.commit("a chart of the hub module")
    tree.write(f"{chart}/templates/binding.yaml", "kind: TargetGroupBinding\n# edited\n")
    unbumped = tree.commit("a template edited, the version left")

    refused = run_changed(tree.path, "--base", base, "--head", unbumped, "--branch", "main")
    tree.write(f"{chart}/Chart.yaml", "apiVersion: v2\nname: binding\nversion: 1.0.1\n")
    bumped = tree.commit("the version bumped")
    accepted = detect_changes(tree.path, base, bumped, "main")

    assert refused.returncode == 1
    assert refused.stderr == (
        f"error: {chart} changed ({chart}/templates/binding.yaml) but its Chart.yaml version is "
        "still 1.0.0: bump it, or Helm plans the release as unchanged and applies nothing.\n"
    )
    assert accepted.environments == ["cae-testing", "cae-dev"]
