"""`invoke destroy`: never cae, a typed confirmation, and the plan shown before anything goes."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess

import pytest

from tests.support.invoking import invoke_command

DEV_RESOURCES = [
    {"address": "module.eks.aws_eks_cluster.this", "actions": ["delete"]},
    {"address": 'module.eks.aws_eks_node_group.this["main"]', "actions": ["delete"]},
]
SUMMARY = (
    "Destroying cae-dev will do this:\n"
    "Plan: 0 to add, 0 to change, 2 to destroy, 0 to replace.\n"
    "  destroy module.eks.aws_eks_cluster.this\n"
    '  destroy module.eks.aws_eks_node_group.this["main"]\n'
    "  outputs changed: cluster_name\n"
)
DESTROYED = "cae-dev is destroyed. `invoke apply --env cae-dev` creates it again.\n"
PROMPT = "Type cae-dev to destroy it, anything else to stop: "
TOFU_APPLIED = (
    "  destroyed module.eks.aws_eks_cluster.this (1 of 2)\n"
    '  destroying module.eks.aws_eks_node_group.this["main"]\n'
    '  destroyed module.eks.aws_eks_node_group.this["main"] (2 of 2)\n'
    "Destroy complete: 2 destroyed; resources done: 2 of 2.\n"
)


def command(*args: str) -> list[str]:
    return invoke_command("destroy", *args)


@pytest.fixture
def world(project_repo, fake_tofu, aws_env):
    """The project's tree in a clean checkout, the fake tofu on PATH, a cae-dev to destroy."""
    from hubops.bootstrap.backend import ensure_backend
    from hubops.facts.environments import load_environment

    # Preflight checks the AWS identity and the state backend (moto) before tofu runs.
    for name in ("cae-dev", "cae-testing"):
        ensure_backend(load_environment(project_repo.path, name))
    fake_tofu.scenario(
        {
            "outputs": {"cluster_name": "cae-dev"},
            "destroy_plan": {"resource_changes": DEV_RESOURCES},
        }
    )
    environ = {**os.environ, "HUBOPS_ROOT": str(project_repo.path)}
    environ.pop("GITHUB_SHA", None)
    return project_repo, fake_tofu, environ


def world_records(world) -> list[dict]:
    """The run records this machine kept (the default folder, .hubops/records/ENV/)."""
    repo, _, _ = world
    return [json.loads(p.read_text()) for p in sorted(repo.path.glob(".hubops/records/*/*.json"))]


def run(world, *args: str) -> subprocess.CompletedProcess:
    repo, _, environ = world
    return subprocess.run(
        command(*args),
        cwd=repo.path,
        env=environ,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_on_a_terminal(world, typed: str, *args: str) -> subprocess.CompletedProcess:
    """Run with a pseudo-terminal as stdin, as when an operator runs it, and type `typed`."""
    repo, _, environ = world
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            command(*args),
            cwd=repo.path,
            env=environ,
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.close(terminal)
        os.write(controller, typed.encode() + b"\n")
        stdout, stderr = process.communicate(timeout=120)
    finally:
        os.close(controller)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def verbs(fake_tofu) -> list[str]:
    # `version` is preflight's tool check, not part of the destroy.
    return [call[0] for call in fake_tofu.calls() if call[0] != "version"]


def test_destroying_cae_is_refused_even_when_confirmed(world):
    _, fake_tofu, _ = world

    result = run(world, "--env", "cae", "--confirm", "cae")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "error: cae is production and is never destroyed (its user directories would go with "
        "it); no flag or setting lifts this. Change it with `invoke apply --env cae`.\n"
    )
    assert fake_tofu.calls() == []


def test_destroying_cae_is_refused_even_if_its_files_say_it_is_unsupervised(world):
    repo, fake_tofu, _ = world
    vars_file = repo.path / "environments/cae/terraform.tfvars"
    vars_file.write_text(
        vars_file.read_text().replace("supervised       = true", "supervised = false")
    )
    repo.commit("pretend production is not supervised")

    result = run(world, "--env", "cae", "--confirm", "cae")

    assert result.returncode == 1
    assert result.stderr.startswith("error: cae is production and is never destroyed")
    assert fake_tofu.calls() == []


def test_destroy_offers_no_flag_that_could_lift_the_refusal(world):
    repo, _, environ = world

    result = subprocess.run(
        invoke_command("--help", "destroy"),
        cwd=repo.path,
        env=environ,
        capture_output=True,
        text=True,
    )

    options = result.stdout.split("Options:")[1]
    flags = sorted(re.findall(r"--[a-z-]+", options))
    assert flags == ["--confirm", "--env", "--lock-timeout"]


def test_a_confirmation_that_differs_from_the_environment_is_refused_before_anything_runs(world):
    _, fake_tofu, _ = world

    result = run(world, "--env", "cae-dev", "--confirm", "cae-testing")

    assert result.returncode == 1
    assert result.stderr == (
        "error: --confirm is 'cae-testing', not 'cae-dev': pass --confirm cae-dev to destroy "
        "cae-dev. Nothing was destroyed.\n"
    )
    assert fake_tofu.calls() == []


def test_a_missing_confirmation_without_a_terminal_is_refused_before_anything_runs(world):
    _, fake_tofu, _ = world

    result = run(world, "--env", "cae-dev")

    assert result.returncode == 1
    assert result.stderr == (
        "error: destroying cae-dev needs a confirmation, and no terminal is attached to ask for "
        "it: pass --confirm cae-dev. Nothing was destroyed.\n"
    )
    assert fake_tofu.calls() == []


def test_destroy_shows_what_will_be_destroyed_then_applies_exactly_that_plan(world):
    _, fake_tofu, _ = world

    result = run(world, "--env", "cae-dev", "--confirm", "cae-dev")

    assert result.returncode == 0, result.stderr
    # tofu's own output streams through; the summary comes before tofu starts destroying.
    assert result.stdout.index(SUMMARY) < result.stdout.index(TOFU_APPLIED)
    assert DESTROYED + "Run record: " in result.stdout
    calls = [call for call in fake_tofu.calls() if call[0] != "version"]
    assert verbs(fake_tofu) == ["init", "plan", "show", "apply"]
    assert "-destroy" in calls[1]
    assert "-var-file=environments/cae-dev/terraform.tfvars" in calls[1]
    assert calls[3][-1] == calls[1][-3].removeprefix("-out=")  # the plan shown is the one applied


def test_on_a_terminal_it_asks_after_showing_the_plan_and_destroys_when_the_name_is_typed(world):
    _, fake_tofu, _ = world

    result = run_on_a_terminal(world, "cae-dev", "--env", "cae-dev")

    assert result.returncode == 0, result.stderr
    assert result.stdout.index(SUMMARY + PROMPT) < result.stdout.index(TOFU_APPLIED)
    assert DESTROYED + "Run record: " in result.stdout
    assert verbs(fake_tofu) == ["init", "plan", "show", "apply"]


def test_on_a_terminal_anything_but_the_name_stops_it_without_destroying(world):
    _, fake_tofu, _ = world

    result = run_on_a_terminal(world, "yes", "--env", "cae-dev")

    assert result.returncode == 1
    assert SUMMARY + PROMPT + "Run record: " in result.stdout
    assert result.stderr.endswith("error: You typed 'yes', not 'cae-dev': nothing was destroyed.\n")
    assert verbs(fake_tofu) == ["init", "plan", "show"]


def test_an_environment_with_nothing_left_says_so_and_applies_nothing(world):
    _, fake_tofu, _ = world
    fake_tofu.scenario({})

    result = run(world, "--env", "cae-testing", "--confirm", "cae-testing")

    assert result.returncode == 0, result.stderr
    assert "Nothing to destroy: the state of cae-testing holds no resources.\nRun record: " in (
        result.stdout
    )
    assert verbs(fake_tofu) == ["init", "plan", "show"]


def test_a_failing_destroy_exits_1_with_tofus_error(world):
    _, fake_tofu, _ = world
    fake_tofu.scenario(
        {
            "outputs": {"cluster_name": "cae-dev"},
            "destroy_plan": {"resource_changes": DEV_RESOURCES},
            "apply": {"fail": {"summary": "deleting EKS Cluster (cae-dev): timeout"}},
        }
    )

    result = run(world, "--env", "cae-dev", "--confirm", "cae-dev")

    assert result.returncode == 1
    assert SUMMARY in result.stdout
    assert DESTROYED not in result.stdout
    assert re.search(
        r"^error: `tofu apply -input=false -lock-timeout=0s -json "
        r"\.hubops/plans/cae-dev/\S+\.tfplan` "
        r"failed with exit status 1",
        result.stderr,
        re.M,
    )
    assert "deleting EKS Cluster (cae-dev): timeout" in result.stderr
    [record] = [r for r in world_records(world) if r["operation"] == "destroy"]
    assert record["applied"] is True
    assert record["exit_status"] == 1
    assert "deleting EKS Cluster (cae-dev): timeout" in record["error"]


def test_an_unknown_environment_is_refused_naming_the_known_ones(world):
    repo, fake_tofu, _ = world

    result = run(world, "--env", "cae-prod", "--confirm", "cae-prod")

    assert result.returncode == 1
    assert result.stderr == (
        "error: Unknown environment 'cae-prod': the known ones are cae-testing, cae-dev, cae "
        f"(folders under {repo.path / 'environments'}).\n"
    )
    assert fake_tofu.calls() == []
