"""drift.yml, parsed and held to the rules of docs/ci-and-promotion.md; its step really runs."""

from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path

import pytest
import yaml

from hubops.facts.environments import PROMOTION_ORDER, load_environment
from tests.test_workflows import (
    ACTIONS,
    PINNED,
    PROJECT,
    WORKFLOWS,
    all_steps,
    role_variables,
    run_step,
    step_named,
    step_using,
    triggers,
    trust_policies,
    trusted_environments,
)

DRIFT_ROLE = "DRIFT_ROLE_ARN"
DRIFTED = "drifted::Its real objects changed outside OpenTofu: see the job summary.\n"
WARNING = "::warning title={env} " + DRIFTED
ERROR = "::error title={env} " + DRIFTED


def workflow() -> dict:
    return yaml.safe_load((WORKFLOWS / "drift.yml").read_text())


def job() -> dict:
    [only] = workflow()["jobs"].values()
    return only


def drift_step() -> dict:
    return step_named(job(), "invoke drift")


def test_drift_runs_daily_and_by_hand_only():
    on = triggers(workflow())

    assert set(on) == {"schedule", "workflow_dispatch"}
    [schedule] = on["schedule"]
    minute, hour, *every_day = schedule["cron"].split()
    assert every_day == ["*", "*", "*"]
    assert 0 <= int(minute) < 60 and 0 <= int(hour) < 24
    assert on["workflow_dispatch"] is None  # no inputs: every environment, every time


def test_every_environment_is_checked_and_drift_fails_exactly_the_supervised_ones():
    strategy = job()["strategy"]

    assert strategy["fail-fast"] is False
    entries = strategy["matrix"]["include"]
    assert [entry["environment"] for entry in entries] == list(PROMOTION_ORDER)
    for entry in entries:
        supervised = load_environment(PROJECT, entry["environment"]).supervised
        assert entry["fail-on-drift"] is supervised, entry
    assert [e["environment"] for e in entries if e["fail-on-drift"]] == ["cae"]


def test_each_check_runs_in_a_drift_environment_of_its_own_never_an_applys():
    drift = job()
    environments = {f"{e['environment']}-drift" for e in drift["strategy"]["matrix"]["include"]}

    assert drift["environment"] == "${{ matrix.environment }}-drift"
    assert environments == {"cae-testing-drift", "cae-dev-drift", "cae-drift"}
    assert not environments & {"cae", "cae-plan", "cae-testing", "cae-dev", "image"}
    # Its own concurrency group: a queued check must never supersede a queued apply (tofu-ENV).
    assert drift["concurrency"] == {
        "group": "drift-${{ matrix.environment }}",
        "cancel-in-progress": False,
    }
    assert 0 < drift["timeout-minutes"] <= 60


def test_the_drift_job_gets_read_only_aws_credentials_from_its_environments_own_variable():
    drift = job()
    setup = step_using(drift, "./.github/actions/setup")

    assert workflow()["permissions"] == {}
    assert drift["permissions"] == {"contents": "read", "id-token": "write"}
    assert setup["with"] == {
        "environment": "${{ matrix.environment }}",
        "aws-role": f"${{{{ vars.{DRIFT_ROLE} }}}}",
        "aws-role-variable": DRIFT_ROLE,
    }
    assert role_variables(drift) == {DRIFT_ROLE}
    text = (WORKFLOWS / "drift.yml").read_text()
    for production_role in ("CAE_APPLY_ROLE_ARN", "CAE_PLAN_ROLE_ARN", "AWS_ROLE_ARN"):
        assert production_role not in text
    uses = [s.get("uses", s.get("name")) for s in drift["steps"]]
    assert uses.index("./.github/actions/setup") < uses.index("invoke drift")


def test_the_documented_drift_roles_trust_exactly_the_drift_environments():
    policies = trust_policies()
    doc = (PROJECT / "docs" / "ci-and-promotion.md").read_text()

    assert trusted_environments(policies["hubops-cae-drift"]) == {"cae-drift"}
    assert trusted_environments(policies["hubops-nonprod-drift"]) == {
        "cae-testing-drift",
        "cae-dev-drift",
    }
    # No role of an apply trusts a drift environment, and no drift role an apply's.
    for role, policy in policies.items():
        if not role.endswith("-drift"):
            assert not any(e.endswith("-drift") for e in trusted_environments(policy)), role
    assert "| `drift` (`cae`) | `cae-drift` | `DRIFT_ROLE_ARN` | `hubops-cae-drift` |" in doc


def test_actions_are_pinned_by_full_sha_reusing_the_pins_already_in_github():
    drift = job()
    remote = [s["uses"] for s in drift["steps"] if not s.get("uses", "./").startswith("./")]
    elsewhere = set()
    for path in sorted(WORKFLOWS.glob("*.yml")) + sorted(ACTIONS.glob("*/action.yml")):
        if path.name != "drift.yml":
            document = yaml.safe_load(path.read_text())
            elsewhere |= {s["uses"] for s in all_steps(document) if "uses" in s}

    assert remote
    for reference in remote:
        assert PINNED.match(reference), reference
        assert reference in elsewhere, f"{reference}: a pin no other workflow uses"
    checkout = step_using(drift, "actions/checkout")
    assert checkout["with"] == {"persist-credentials": False}


def test_the_step_runs_the_task_and_reads_only_its_exit_status():
    step = drift_step()

    assert step["shell"] == "bash"
    assert step["env"] == {
        "ENVIRONMENT": "${{ matrix.environment }}",
        "FAIL_ON_DRIFT": "${{ matrix.fail-on-drift }}",
    }
    [command] = [line for line in step["run"].splitlines() if "invoke" in line]
    assert shlex.split(command) == [
        "python", "-m", "invoke", "drift", "--env", "$ENVIRONMENT", "--lock-timeout", "10m",
    ]  # fmt: skip
    # Machines read machine output: no scraping of what the task prints for people.
    for scraping in ("grep", "sed", "tee", "awk", "GITHUB_STEP_SUMMARY"):
        assert not re.search(rf"\b{scraping}\b", step["run"]), scraping


@pytest.fixture
def python_exiting(tmp_path):
    """environ(status, **variables): a `python` first on PATH that records its arguments and
    exits with `status`, as the task would."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "python-args"

    def environ(status: int, **variables: str) -> dict:
        python = bin_dir / "python"
        python.write_text(
            f'#!/bin/sh\nprintf "%s\\n" "$@" > {shlex.quote(str(calls))}\nexit {status}\n'
        )
        python.chmod(0o755)
        return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", **variables}

    return environ, calls


@pytest.mark.parametrize(
    ("environment", "fail_on_drift", "status", "step_status", "annotation"),
    [
        ("cae", "true", 0, 0, ""),
        ("cae", "true", 2, 2, ERROR.format(env="cae")),
        ("cae-dev", "false", 2, 0, WARNING.format(env="cae-dev")),
        ("cae-testing", "false", 2, 0, WARNING.format(env="cae-testing")),
        ("cae-dev", "false", 3, 3, ""),
        ("cae-testing", "false", 4, 4, ""),
        ("cae-dev", "false", 1, 1, ""),
        ("cae", "true", 3, 3, ""),
    ],
)
def test_drift_fails_the_job_for_production_and_warns_for_the_rest(
    tmp_path, python_exiting, environment, fail_on_drift, status, step_status, annotation
):
    environ, calls = python_exiting
    env = environ(status, ENVIRONMENT=environment, FAIL_ON_DRIFT=fail_on_drift)

    result = run_step(drift_step(), tmp_path, env)

    assert result.returncode == step_status
    assert result.stdout == annotation
    assert calls.read_text().splitlines() == [
        "-m", "invoke", "drift", "--env", environment, "--lock-timeout", "10m",
    ]  # fmt: skip


# -- the step with the real task, against the hub's world -----------------------------------------


@pytest.fixture
def runner(tmp_path):
    """environ(hub, fail_on_drift) for the step as GitHub runs it, `python` this interpreter;
    and the job summary's path."""
    bin_dir = tmp_path / "runner-bin"
    bin_dir.mkdir()
    python = bin_dir / "python"
    python.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
    python.chmod(0o755)
    summary = tmp_path / "step-summary.md"
    summary.touch()

    def environ(hub, fail_on_drift: str) -> dict:
        env = {**hub.process_env()}
        env.update(
            PATH=f"{bin_dir}{os.pathsep}{env['PATH']}",
            GITHUB_STEP_SUMMARY=str(summary),
            ENVIRONMENT=hub.env_name,
            FAIL_ON_DRIFT=fail_on_drift,
        )
        return env

    return environ, summary


NODE_GROUP = 'module.eks.aws_eks_node_group.this["main"]'


@pytest.mark.parametrize(
    ("env_name", "fail_on_drift", "step_status", "annotation"),
    [("cae", "true", 2, ERROR), ("cae-dev", "false", 0, WARNING)],
)
def test_a_drifted_environment_is_in_the_job_summary_and_fails_only_production(
    hub_world, runner, env_name, fail_on_drift, step_status, annotation
):
    environ, summary = runner
    hub = hub_world(env_name)
    hub.fake_tofu.scenario(
        {
            "outputs": {"hub_load_balancer_hostname": hub.hostname},
            "plan": {"resource_drift": [{"address": NODE_GROUP, "actions": ["update"]}]},
        }
    )

    result = run_step(drift_step(), Path(PROJECT), environ(hub, fail_on_drift))

    assert result.returncode == step_status, result.stderr
    assert result.stdout.endswith(annotation.format(env=env_name))
    assert summary.read_text().startswith(
        f"### Drift of {env_name}: 1 resource changed outside OpenTofu\n\n"
        "| resource | drift |\n|---|---|\n"
        f"| `{NODE_GROUP}` | update |\n\n"
    )
    assert [c for c in hub.fake_tofu.calls() if c[0] == "apply"] == []
