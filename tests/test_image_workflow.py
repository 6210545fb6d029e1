"""The image workflow (image.yml and the image action): held to its rules, and its shell steps run
as GitHub's runner runs them, against a `docker` and an `aws` that record what they were asked.

No Docker engine runs here: `docker build` itself, the smoke test inside a real image and the push
to ECR are exercised by CI's runner only. What is tested is everything up to them: the commands
the steps give, in order, and what they do with the answers; the ECR side is in
tests/test_image_registry.py."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

import pytest

from tests.test_workflows import (
    PROJECT,
    all_jobs,
    load,
    load_action,
    run_step,
    step_named,
    step_using,
)

SHA = "0123456789abcdef0123456789abcdef01234567"
SMOKE = [
    ["jupyterhub-singleuser", "--version"],
    ["jupyter", "lab", "--version"],
    ["code-server", "--version"],
    ["python", "-c", "import dask_gateway, distributed"],
]
FAKE_DOCKER = """#!{python}
import json, os, sys
args = sys.argv[1:]
entry = {{"argv": args}}
if args[:1] == ["login"]:
    entry["stdin"] = sys.stdin.read()
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(entry) + "\\n")
if args[:1] == ["run"]:
    command = " ".join(args[3:])
    print("Entered start.sh with args: " + command, file=sys.stderr)
    if os.environ.get("FAIL_ON") and os.environ["FAIL_ON"] in command:
        print(command + ": not found", file=sys.stderr)
        sys.exit(127)
    print("version of " + command)
"""
FAKE_AWS = """#!/bin/sh
printf 'aws %s\\n' "$*" >> "$FAKE_LOG.aws"
printf 'the-registry-password'
"""


@pytest.fixture
def runner(tmp_path):
    """A runner's environment: `docker` and `aws` that record, GITHUB_OUTPUT, RUNNER_TEMP."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER.format(python=sys.executable))
    docker.chmod(0o755)
    aws = bin_dir / "aws"
    aws.write_text(FAKE_AWS)
    aws.chmod(0o755)
    python = bin_dir / "python"
    python.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
    python.chmod(0o755)
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    output = tmp_path / "github-output"
    output.touch()
    log = tmp_path / "docker.log"
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "RUNNER_TEMP": str(temp),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_SHA": SHA,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "OWNER/REPO",
        "FAKE_LOG": str(log),
    }

    def calls() -> list[dict]:
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]

    return env, calls, output


def action_step(name: str) -> dict:
    return step_named(load_action("image")["runs"], name)


def publish_job() -> dict:
    return load("image.yml")["jobs"]["publish"]


def test_apply_builds_the_image_first_and_only_when_docker_changed():
    jobs = load("apply.yml")["jobs"]

    assert jobs["image"] == {
        "needs": "changes",
        "if": "needs.changes.outputs.image == 'true'",
        "permissions": {"contents": "read", "id-token": "write"},
        "uses": "./.github/workflows/image.yml",
    }
    assert "image" in jobs["cae-testing"]["needs"]
    # Later environments follow cae-testing, so a failed image stops every apply after it.
    assert "!failure()" in jobs["cae-testing"]["if"]


def test_off_main_the_image_is_built_and_smoke_tested_without_aws():
    build = load("image.yml")["jobs"]["build"]

    assert build["if"] == "github.ref != 'refs/heads/main'"
    assert build["permissions"] == {"contents": "read"}
    assert "environment" not in build
    assert [s.get("uses", "").split("@")[0] for s in build["steps"]] == [
        "actions/checkout",
        "./.github/actions/image",
    ]


def test_on_main_the_image_is_pushed_and_made_latest_only_after_its_smoke_test():
    job = publish_job()
    order = [s.get("name") or s["uses"].split("@")[0] for s in job["steps"]]

    assert job["if"] == "github.ref == 'refs/heads/main'"
    assert job["environment"] == "image"
    assert job["concurrency"] == {"group": "user-image", "cancel-in-progress": False}
    assert job["steps"][0]["with"]["fetch-depth"] == 0  # promote compares commits
    assert order == [
        "actions/checkout",
        "./.github/actions/image",  # build, then the smoke test: nothing below runs if it fails
        "Check that the job's environment names a role",
        "actions/setup-python",
        "Install the task library",
        "Read the image repository from the environments' settings",
        "aws-actions/configure-aws-credentials",
        "Push the image as :COMMIT-SHA",
        "Move latest to it",
    ]
    assert step_named(job, "Move latest to it")["run"] == (
        'python -m invoke image promote --sha "$GITHUB_SHA"'
    )
    credentials = step_using(job, "aws-actions/configure-aws-credentials")
    assert credentials["with"] == {
        "role-to-assume": "${{ vars.IMAGE_ROLE_ARN }}",
        "aws-region": "${{ steps.registry.outputs.region }}",
    }


def test_only_the_publish_job_enters_the_image_environment():
    entering = [(n, j) for n, j, job in all_jobs() if job.get("environment") == "image"]

    assert entering == [("image.yml", "publish")]


def test_the_build_step_tags_the_image_with_the_commit_and_labels_it(tmp_path, runner):
    env, calls, output = runner

    result = run_step(action_step("docker build"), PROJECT, env)

    assert result.returncode == 0, result.stderr
    assert calls() == [
        {
            "argv": [
                "build", "--pull",
                "--label", f"org.opencontainers.image.revision={SHA}",
                "--label", "org.opencontainers.image.source=https://github.com/OWNER/REPO",
                "--tag", f"hubops-user-image:{SHA}", "docker",
            ]
        }
    ]  # fmt: skip
    assert output.read_text() == f"image=hubops-user-image:{SHA}\n"


def test_the_smoke_test_starts_each_tool_users_need_in_the_image(runner):
    env, calls, _ = runner
    step = action_step("Smoke test (the tools users need start)")

    result = run_step(step, PROJECT, {**env, "IMAGE": f"hubops-user-image:{SHA}"})

    assert result.returncode == 0, result.stdout + result.stderr
    assert step["env"] == {"IMAGE": "${{ steps.build.outputs.image }}"}
    assert [c["argv"] for c in calls()] == [
        ["run", "--rm", f"hubops-user-image:{SHA}", *command] for command in SMOKE
    ]
    assert result.stdout.splitlines() == [
        f"ok      {' '.join(command)}: version of {' '.join(command)}" for command in SMOKE
    ]


def test_a_tool_that_does_not_start_fails_the_smoke_test_and_the_others_still_run(runner):
    env, calls, _ = runner
    step = action_step("Smoke test (the tools users need start)")

    result = run_step(
        step, PROJECT, {**env, "IMAGE": f"hubops-user-image:{SHA}", "FAIL_ON": "code-server"}
    )

    assert result.returncode == 1
    assert len(calls()) == len(SMOKE)
    assert (
        "::error title=User image smoke test::`code-server --version` failed in the image (its "
        "output is above); nothing was pushed.\n"
    ) in result.stdout
    assert "code-server --version: not found" in result.stdout
    assert "ok      jupyter lab --version" in result.stdout


def test_publish_stops_before_aws_when_its_environment_has_no_role_variable(runner):
    env, _, _ = runner
    step = step_named(publish_job(), "Check that the job's environment names a role")

    result = run_step(step, PROJECT, {**env, "AWS_ROLE": ""})

    assert step["env"] == {"AWS_ROLE": "${{ vars.IMAGE_ROLE_ARN }}"}
    assert result.returncode == 1
    assert result.stdout == (
        "::error title=No AWS role for the image::IMAGE_ROLE_ARN is not set: add it to the image "
        "GitHub environment (Settings > Environments), as docs/user-image.md says.\n"
    )


def test_the_registry_is_read_from_the_environments_settings(runner):
    env, _, output = runner
    step = step_named(publish_job(), "Read the image repository from the environments' settings")

    result = run_step(step, PROJECT, {**env, "HOME": os.environ.get("HOME", "/tmp")})

    assert result.returncode == 0, result.stderr
    host = "111122223333.dkr.ecr.us-west-2.amazonaws.com"
    assert output.read_text() == (f"region=us-west-2\nregistry={host}\nuri={host}/cae-user-image\n")


def test_the_push_logs_in_through_a_pipe_and_pushes_the_commit_tag_only(runner):
    env, calls, _ = runner
    step = step_named(publish_job(), "Push the image as :COMMIT-SHA")
    host = "111122223333.dkr.ecr.us-west-2.amazonaws.com"
    variables = {
        "IMAGE": f"hubops-user-image:{SHA}",
        "REGION": "us-west-2",
        "REGISTRY": host,
        "URI": f"{host}/cae-user-image",
    }

    result = run_step(step, PROJECT, {**env, **variables})

    assert result.returncode == 0, result.stderr
    assert calls() == [
        {
            "argv": ["login", "--username", "AWS", "--password-stdin", host],
            "stdin": "the-registry-password",
        },
        {"argv": ["tag", f"hubops-user-image:{SHA}", f"{host}/cae-user-image:{SHA}"]},
        {"argv": ["push", f"{host}/cae-user-image:{SHA}"]},
    ]
    # latest is moved by `invoke image promote`, after this step, never by a docker push.
    assert "latest" not in step["run"]
    assert "the-registry-password" not in result.stdout + result.stderr
    assert Path(env["FAKE_LOG"] + ".aws").read_text() == (
        "aws ecr get-login-password --region us-west-2\n"
    )
