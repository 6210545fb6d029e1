"""The GitHub workflows, parsed and held to the guide's rules; their shell steps really run."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hubops.environments import PROMOTION_ORDER

PROJECT = Path(__file__).resolve().parents[1]
WORKFLOWS = PROJECT / ".github" / "workflows"
ACTIONS = PROJECT / ".github" / "actions"
ALL_FILES = sorted(WORKFLOWS.glob("*.yml")) + sorted(ACTIONS.glob("*/action.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
IN_ENVIRONMENTS = "contains(fromJSON(needs.changes.outputs.environments), '{}')"


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow: dict) -> dict:
    # YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True.
    found = workflow.get("on", workflow.get(True))
    return {name: None for name in found} if isinstance(found, list) else found


def all_steps(document: dict) -> list[dict]:
    if "runs" in document:
        return document["runs"]["steps"]
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def run_step(step: dict, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    """Run a step's script as GitHub's runner does for `shell: bash`."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def step_named(job: dict, name: str) -> dict:
    [step] = [step for step in job["steps"] if step.get("name") == name]
    return step


def test_there_are_the_three_workflows_and_the_reusable_apply():
    assert sorted(p.name for p in WORKFLOWS.glob("*.yml")) == [
        "apply-environment.yml",
        "apply.yml",
        "destroy.yml",
        "validate.yml",
    ]


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(PROJECT)))
def test_every_action_is_pinned_by_full_commit_sha(path):
    document = yaml.safe_load(path.read_text())
    uses = [step["uses"] for step in all_steps(document) if "uses" in step]
    uses += [job["uses"] for job in document.get("jobs", {}).values() if "uses" in job]

    remote = [u for u in uses if not u.startswith("./")]
    assert remote or path.name == "apply.yml"
    for reference in remote:
        assert PINNED.match(reference), f"{path.name}: {reference} is not pinned by commit"


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(PROJECT)))
def test_no_workflow_holds_or_reads_long_lived_aws_keys(path):
    text = path.read_text()

    for forbidden in ("aws-access-key-id", "aws-secret-access-key", "AWS_SECRET", "secrets."):
        assert forbidden not in text


def test_aws_access_is_through_oidc_with_a_role_from_a_repository_variable():
    setup = yaml.safe_load((ACTIONS / "setup" / "action.yml").read_text())
    [credentials] = [
        s for s in all_steps(setup) if s.get("uses", "").startswith("aws-actions/configure-aws")
    ]
    assert credentials["with"]["role-to-assume"] == "${{ inputs.aws-role }}"
    for name in ("apply-environment.yml", "destroy.yml"):
        [job] = load(name)["jobs"].values()
        [setup_step] = [s for s in job["steps"] if s.get("uses") == "./.github/actions/setup"]
        assert setup_step["with"]["aws-role"] == "${{ vars.AWS_ROLE_ARN }}"


def test_permissions_are_least_and_id_token_only_where_aws_is_reached():
    assert load("validate.yml")["permissions"] == {"contents": "read"}
    for name in ("apply.yml", "apply-environment.yml", "destroy.yml"):
        workflow = load(name)
        assert workflow["permissions"] == {}, name
        for job_id, job in workflow["jobs"].items():
            reaches_aws = "uses" in job or any(
                s.get("uses") == "./.github/actions/setup" for s in job.get("steps", [])
            )
            expected = (
                {"contents": "read", "id-token": "write"} if reaches_aws else {"contents": "read"}
            )
            assert job["permissions"] == expected, f"{name}: {job_id}"


def test_validate_runs_the_nox_sessions_on_every_push_and_pull_request():
    workflow = load("validate.yml")
    [job] = workflow["jobs"].values()

    assert set(triggers(workflow)) == {"push", "pull_request"}
    assert job["strategy"]["matrix"]["session"] == ["validate", "tests", "lint"]
    assert step_named(job, "Run the session")["run"] == 'python -m nox -s "$SESSION"'


def test_apply_runs_on_push_and_asks_invoke_changed_what_to_rebuild():
    workflow = load("apply.yml")
    changes = workflow["jobs"]["changes"]

    assert set(triggers(workflow)) == {"push"}
    assert changes["steps"][0]["with"]["fetch-depth"] == 0
    step = step_named(changes, "invoke changed")
    assert step["env"] == {"BEFORE": "${{ github.event.before }}"}
    assert shlex.split(step["run"]) == [
        "python", "-m", "invoke", "changed", "--base", "$BEFORE", "--head", "$GITHUB_SHA",
        "--format", "github",
    ]  # fmt: skip
    assert changes["outputs"] == {"environments": "${{ steps.changed.outputs.environments }}"}


def test_apply_has_one_job_per_environment_chained_in_promotion_order():
    jobs = load("apply.yml")["jobs"]

    assert [j for j in jobs if j != "changes"] == list(PROMOTION_ORDER)
    previous = None
    for env in PROMOTION_ORDER:
        job = jobs[env]
        assert job["uses"] == "./.github/workflows/apply-environment.yml"
        assert job["with"] == {"environment": env}
        assert IN_ENVIRONMENTS.format(env) in job["if"]
        assert job["needs"] == ("changes" if previous is None else ["changes", previous])
        if previous is not None:
            # After the previous environment succeeded or was skipped, never after it failed.
            assert "!cancelled() && !failure()" in job["if"]
        previous = env


def test_cae_is_applied_only_from_main_and_no_other_environment_is_restricted():
    jobs = load("apply.yml")["jobs"]

    assert "github.ref == 'refs/heads/main'" in jobs["cae"]["if"]
    for env in ("cae-testing", "cae-dev"):
        assert "refs/heads/main" not in jobs[env]["if"]


def test_each_apply_runs_in_its_github_environment_so_cae_waits_for_its_reviewers():
    [job] = load("apply-environment.yml")["jobs"].values()

    assert job["environment"] == "${{ inputs.environment }}"
    assert job["concurrency"] == {
        "group": "tofu-${{ inputs.environment }}",
        "cancel-in-progress": False,
    }
    assert (
        'python -m invoke apply --env "$ENVIRONMENT" --yes'
        in step_named(job, "invoke apply")["run"]
    )


def test_destroy_runs_only_by_hand_and_never_offers_cae():
    workflow = load("destroy.yml")
    inputs = triggers(workflow)["workflow_dispatch"]["inputs"]

    assert set(triggers(workflow)) == {"workflow_dispatch"}
    assert inputs["environment"]["type"] == "choice"
    assert inputs["environment"]["options"] == ["cae-testing", "cae-dev"]
    assert "cae" not in inputs["environment"]["options"]
    assert inputs["confirm"] == {
        "description": "Type the environment's name again to confirm",
        "type": "string",
        "required": True,
    }


def test_destroy_checks_the_typed_confirmation_before_anything_else():
    [job] = load("destroy.yml")["jobs"].values()

    first = job["steps"][0]
    assert first["name"] == "Check the typed confirmation"
    assert "uses" not in first
    assert first["env"] == {
        "ENVIRONMENT": "${{ inputs.environment }}",
        "CONFIRM": "${{ inputs.confirm }}",
    }
    last = job["steps"][-1]
    assert last["run"] == 'python -m invoke destroy --env "$ENVIRONMENT" --confirm "$CONFIRM"'


@pytest.mark.parametrize(
    ("environment", "typed", "status", "said"),
    [
        ("cae-dev", "cae-dev", 0, "Confirmed: destroying cae-dev.\n"),
        (
            "cae-dev",
            "cae-testing",
            1,
            "The confirmation does not equal cae-dev: run the workflow again and type cae-dev "
            "exactly. Nothing was destroyed.\n",
        ),
        ("cae-testing", "", 1, None),
        ("cae", "cae", 1, "cae is production and is never destroyed. Nothing was destroyed.\n"),
    ],
)
def test_the_confirmation_step_passes_only_when_the_name_is_typed_exactly(
    tmp_path, environment, typed, status, said
):
    [job] = load("destroy.yml")["jobs"].values()
    env = {"PATH": os.environ["PATH"], "ENVIRONMENT": environment, "CONFIRM": typed}

    result = run_step(job["steps"][0], tmp_path, env)

    assert result.returncode == status
    if said is not None:
        assert result.stdout == said


@pytest.fixture
def runner(tmp_path, hub_world):
    """A runner's environment for the apply step: `python` is this interpreter, a summary file."""
    bin_dir = tmp_path / "runner-bin"
    bin_dir.mkdir()
    python = bin_dir / "python"
    python.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
    python.chmod(0o755)
    summary = tmp_path / "step-summary.md"
    summary.touch()
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()

    def environ(hub) -> dict:
        env = {**os.environ, **hub.environ}
        env.pop("GITHUB_SHA", None)
        env.update(
            PATH=f"{bin_dir}{os.pathsep}{env['PATH']}",
            RUNNER_TEMP=str(runner_temp),
            GITHUB_STEP_SUMMARY=str(summary),
            ENVIRONMENT=hub.env_name,
        )
        return env

    return environ, summary


def apply_step() -> dict:
    [job] = load("apply-environment.yml")["jobs"].values()
    return step_named(job, "invoke apply")


def test_a_cae_apply_whose_load_balancer_changed_fails_the_job_with_the_record_in_the_summary(
    hub_world, runner
):
    environ, summary = runner
    hub = hub_world("cae")
    hub.replace_node_group("replace_hub_load_balancer")

    result = run_step(apply_step(), PROJECT, environ(hub))

    [new] = hub.hub_hostnames()
    assert result.returncode == 3
    text = summary.read_text()
    assert text.startswith(
        "## cae: the routing changed. Set the DNS record by hand\n\n```\n"
        "Routing changed or could not be verified for cae:\n"
    )
    assert f"  hub.example.org CNAME {new}  (was {hub.hostname})\n" in text
    assert text.endswith("```\n")
    assert (
        "::error title=cae routing changed::Set the DNS record shown in the job summary by hand."
        in result.stdout
    )


def test_a_cae_apply_with_unchanged_routing_passes_and_leaves_the_summary_alone(hub_world, runner):
    environ, summary = runner
    hub = hub_world("cae")
    hub.replace_node_group()

    result = run_step(apply_step(), PROJECT, environ(hub))

    assert result.returncode == 0, result.stdout
    assert summary.read_text() == ""
    assert f"Routing unchanged: cae is served by {hub.hostname}" in result.stdout
