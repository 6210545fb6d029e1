"""The GitHub workflows, parsed and held to the guide's rules; their shell steps really run."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hubops.adapters.tools import required_tofu_version, satisfies
from hubops.facts.environments import PROMOTION_ORDER

PROJECT = Path(__file__).resolve().parents[1]
WORKFLOWS = PROJECT / ".github" / "workflows"
ACTIONS = PROJECT / ".github" / "actions"
ALL_FILES = sorted(WORKFLOWS.glob("*.yml")) + sorted(ACTIONS.glob("*/action.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
IN_ENVIRONMENTS = "contains(fromJSON(needs.changes.outputs.environments), '{}')"
CI_DOC = PROJECT / "docs" / "ci-and-promotion.md"
# The role variables: each is set in one GitHub environment, read by the jobs running there.
PRODUCTION_APPLY_ROLE = "CAE_APPLY_ROLE_ARN"
PRODUCTION_PLAN_ROLE = "CAE_PLAN_ROLE_ARN"
NON_PRODUCTION_ROLE = "AWS_ROLE_ARN"
IMAGE_ROLE = "IMAGE_ROLE_ARN"


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def load_action(name: str) -> dict:
    return yaml.safe_load((ACTIONS / name / "action.yml").read_text())


def all_jobs() -> list[tuple[str, str, dict]]:
    """(workflow file, job id, job) for every job of every workflow."""
    return [
        (path.name, job_id, job)
        for path in sorted(WORKFLOWS.glob("*.yml"))
        for job_id, job in yaml.safe_load(path.read_text())["jobs"].items()
    ]


def step_using(job: dict, action: str) -> dict:
    [step] = [s for s in job["steps"] if s.get("uses", "").split("@")[0] == action]
    return step


def role_variables(job: dict) -> set[str]:
    """The `vars.X` names a job's text mentions (steps, env, with: all of it)."""
    return set(re.findall(r"\bvars\.(\w+)", yaml.safe_dump(job)))


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


SEPARATORS = ";&|\n"
LOCKED = re.compile(r"[A-Za-z0-9][\w.-]*==\S+(?:\s+--hash=sha256:[0-9a-f]{64})+")


def shell_commands(script: str) -> list[list[str]]:
    """A step's script as its simple commands (lists of words), split at newlines, ;, &&, ||, |.

    Continued lines are joined. A `;` follows each newline: shlex's comments swallow the newline
    that ends them, which would run the next line into the commented one.
    """
    text = script.replace("\\\n", " ").replace("\n", "\n;")
    lexer = shlex.shlex(text, posix=True, punctuation_chars=SEPARATORS)
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for word in lexer:
        if set(word) <= set(SEPARATORS):
            commands.append([])
        else:
            commands[-1].append(word)
    return [command for command in commands if command]


def pip_installs(script: str) -> list[list[str]]:
    """The arguments of each `pip install` (`python -m pip`, `pip3`, `uv pip` ...) in a script."""
    found = []
    for words in shell_commands(script):
        for i, word in enumerate(words[:-1]):
            if re.fullmatch(r"(.*/)?pip3?", word) and words[i + 1] == "install":
                found.append(words[i + 2 :])
                break
    return found


def unhashed_lines(lock: Path) -> list[str]:
    """The requirement lines of a lock that are not one `name==version` with sha256 hashes."""
    lines = lock.read_text().replace("\\\n", " ").splitlines()
    requirements = [
        line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")
    ]
    return [line for line in requirements if not LOCKED.fullmatch(line)]


def unhashed_install(arguments: list[str]) -> str | None:
    """Why a `pip install` could install something unpinned, or None when it cannot.

    Allowed: `--require-hashes -r requirements/FILE.txt` of a lock whose every requirement has
    sha256 hashes; or the project itself (`.`) with `--no-deps` and `--no-build-isolation` (its
    build backend then comes from the lock, installed before it, not from the index).
    """
    options, locks, targets = set(), [], []
    words = iter(arguments)
    for word in words:
        if word in ("-r", "--requirement"):
            locks.append(next(words, ""))
        elif word.startswith("--requirement="):
            locks.append(word.partition("=")[2])
        elif word.startswith("-r") and not word.startswith("--"):
            locks.append(word[2:])
        elif word.startswith("-"):
            options.add(word)
        else:
            targets.append(word)  # a package, a path, a URL, the value of an option
    if targets == ["."] and not locks:
        missing = {"--no-deps", "--no-build-isolation"} - options
        return f"the project without {' and '.join(sorted(missing))}" if missing else None
    if targets:
        return f"{' '.join(targets)} is not from a hashed lock"
    if not locks:
        return "neither a lock (-r) nor the project"
    if "--require-hashes" not in options:
        return "without --require-hashes"
    for lock in locks:
        if not re.fullmatch(r"requirements/[\w.-]+\.txt", lock):
            return f"{lock} is not a lock under requirements/"
        if not (PROJECT / lock).is_file():
            return f"{lock} does not exist"
        if unhashed := unhashed_lines(PROJECT / lock):
            return f"{lock} has requirements without sha256 hashes: {unhashed}"
    return None


def test_there_are_the_three_workflows_the_reusable_apply_and_image_and_five_local_actions():
    assert sorted(p.name for p in WORKFLOWS.glob("*.yml")) == [
        "apply-environment.yml",
        "apply.yml",
        "destroy.yml",
        "drift.yml",
        "image.yml",
        "validate.yml",
    ]
    assert sorted(p.parent.name for p in ACTIONS.glob("*/action.yml")) == [
        "apply",
        "image",
        "install-hubops",
        "opentofu",
        "setup",
    ]


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(PROJECT)))
def test_every_action_is_pinned_by_full_commit_sha(path):
    document = yaml.safe_load(path.read_text())
    uses = [step["uses"] for step in all_steps(document) if "uses" in step]
    uses += [job["uses"] for job in document.get("jobs", {}).values() if "uses" in job]

    remote = [u for u in uses if not u.startswith("./")]
    assert all_steps(document)
    for reference in remote:
        assert PINNED.match(reference), f"{path.name}: {reference} is not pinned by commit"


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(PROJECT)))
def test_no_workflow_holds_or_reads_long_lived_aws_keys(path):
    text = path.read_text()

    for forbidden in ("aws-access-key-id", "aws-secret-access-key", "AWS_SECRET", "secrets."):
        assert forbidden not in text


def test_every_pip_install_is_from_a_hashed_lock_or_the_project_without_dependencies():
    installs = {}
    for path in ALL_FILES:
        for step in all_steps(yaml.safe_load(path.read_text())):
            for arguments in pip_installs(step.get("run", "")):
                installs.setdefault(path.relative_to(PROJECT).as_posix(), []).append(arguments)

    unpinned = [
        f"{path}: pip install {' '.join(arguments)}: {why}"
        for path, found in installs.items()
        for arguments in found
        if (why := unhashed_install(arguments))
    ]
    assert not unpinned, "\n".join(unpinned)
    assert {".github/workflows/validate.yml", ".github/actions/install-hubops/action.yml"} <= set(
        installs
    )


@pytest.mark.parametrize(
    ("script", "why"),
    [
        ("pip install foo", "foo is not from a hashed lock"),
        ("python -m pip install --require-hashes -r requirements/nox.txt foo",
         "foo is not from a hashed lock"),
        ("python -m pip install -r requirements/apply.txt", "without --require-hashes"),
        ("pip3 install --require-hashes -r requirements/nox.in",
         "requirements/nox.in is not a lock under requirements/"),
        ("pip install --require-hashes -r requirements/none.txt",
         "requirements/none.txt does not exist"),
        ("pip install --no-deps .", "the project without --no-build-isolation"),
        ("pip install .", "the project without --no-build-isolation and --no-deps"),
        ("echo ok &&\n  uv pip install \\\n  nox  # the newest", "nox is not from a hashed lock"),
        ("pip install --require-hashes --requirement=requirements/nox.txt", None),
        ("pip install --no-deps --no-build-isolation . # comment\necho done", None),
    ],
)  # fmt: skip
def test_an_install_outside_a_hashed_lock_is_found(script, why):
    [arguments] = pip_installs(script)

    assert unhashed_install(arguments) == why


def test_the_task_library_is_installed_from_its_hashed_lock_by_one_local_action():
    [step] = all_steps(load_action("install-hubops"))
    assert [" ".join(command) for command in shell_commands(step["run"])] == [
        "python -m pip install --disable-pip-version-check --require-hashes --no-deps -r "
        "requirements/apply.txt",
        "python -m pip install --disable-pip-version-check --no-deps --no-build-isolation .",
    ]
    users = []
    for name, job_id, job in all_jobs():
        uses = [s.get("uses", "").split("@")[0] for s in job.get("steps", [])]
        if "./.github/actions/install-hubops" in uses:
            users.append((name, job_id))
            # After the Python the lock was made for.
            python = step_using(job, "actions/setup-python")
            assert uses.index("actions/setup-python") < uses.index(
                "./.github/actions/install-hubops"
            )
            assert (
                f"with Python {python['with']['python-version']}"
                in (PROJECT / "requirements" / "apply.txt").read_text()
            )
    assert users == [("apply.yml", "changes"), ("image.yml", "publish")]
    # The plan and apply jobs get it through the setup action, after its Python.
    setup = [s.get("uses", "").split("@")[0] for s in all_steps(load_action("setup"))]
    assert setup.index("actions/setup-python") < setup.index("./.github/actions/install-hubops")
    # No other file installs the lock.
    installing = [
        path.relative_to(PROJECT).as_posix()
        for path in ALL_FILES
        if any(
            "requirements/apply.txt" in s.get("run", "")
            for s in all_steps(yaml.safe_load(path.read_text()))
        )
    ]
    assert installing == [".github/actions/install-hubops/action.yml"]


def test_aws_access_is_through_oidc_with_a_role_from_the_jobs_own_environment_variable():
    setup = load_action("setup")
    [credentials] = [
        s for s in all_steps(setup) if s.get("uses", "").startswith("aws-actions/configure-aws")
    ]
    assert credentials["with"]["role-to-assume"] == "${{ inputs.aws-role }}"
    roles = {}
    for name, job_id, job in all_jobs():
        for step in job.get("steps", []):
            if step.get("uses") == "./.github/actions/setup":
                roles[(name, job_id)] = (job["environment"], step["with"]["aws-role"])
                variable = step["with"]["aws-role-variable"]
                assert step["with"]["aws-role"] == f"${{{{ vars.{variable} }}}}"
    assert roles == {
        ("apply-environment.yml", "apply"): (
            "${{ inputs.environment }}",
            "${{ vars.AWS_ROLE_ARN }}",
        ),
        ("apply.yml", "plan-cae"): ("cae-plan", "${{ vars.CAE_PLAN_ROLE_ARN }}"),
        ("apply.yml", "apply-cae"): ("cae", "${{ vars.CAE_APPLY_ROLE_ARN }}"),
        ("destroy.yml", "destroy"): ("${{ inputs.environment }}", "${{ vars.AWS_ROLE_ARN }}"),
        # tests/test_drift_workflow.py holds drift.yml to its own rules
        ("drift.yml", "drift"): ("${{ matrix.environment }}-drift", "${{ vars.DRIFT_ROLE_ARN }}"),
    }


@pytest.mark.parametrize(
    ("role", "message"),
    [
        ("", "::error title=No AWS role for cae::CAE_APPLY_ROLE_ARN is not set: add it to the "
         "job's GitHub environment (Settings > Environments), as docs/ci-and-promotion.md says.\n"),
        ("arn:aws:iam::111122223333:role/hubops-cae-apply", ""),
    ],
)  # fmt: skip
def test_a_job_whose_environment_lacks_its_role_variable_stops_and_names_it(
    tmp_path, role, message
):
    first = all_steps(load_action("setup"))[0]
    env = {
        "PATH": os.environ["PATH"],
        "ENVIRONMENT": "cae",
        "AWS_ROLE": role,
        "VARIABLE": PRODUCTION_APPLY_ROLE,
    }

    result = run_step(first, tmp_path, env)

    assert first["env"]["AWS_ROLE"] == "${{ inputs.aws-role }}"
    assert result.returncode == (1 if message else 0)
    assert result.stdout == message


def test_permissions_are_least_and_id_token_only_where_aws_is_reached():
    assert load("validate.yml")["permissions"] == {"contents": "read"}
    for name in ("apply.yml", "apply-environment.yml", "destroy.yml", "image.yml"):
        workflow = load(name)
        assert workflow["permissions"] == {}, name
        for job_id, job in workflow["jobs"].items():
            reaches_aws = "uses" in job or any(
                s.get("uses") == "./.github/actions/setup"
                or s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
                for s in job.get("steps", [])
            )
            expected = (
                {"contents": "read", "id-token": "write"} if reaches_aws else {"contents": "read"}
            )
            assert job["permissions"] == expected, f"{name}: {job_id}"


def test_validate_runs_the_nox_sessions_on_every_push_and_pull_request():
    workflow = load("validate.yml")
    jobs = workflow["jobs"]

    assert set(triggers(workflow)) == {"push", "pull_request"}
    assert list(jobs) == ["validate", "nox"]
    assert step_named(jobs["validate"], "Run the session")["run"] == "python -m nox -s validate"
    assert jobs["nox"]["strategy"]["matrix"]["session"] == ["tests", "tests-lowest", "lint"]
    assert step_named(jobs["nox"], "Run the session")["run"] == 'python -m nox -s "$SESSION"'


def test_every_session_ci_runs_is_a_nox_session_and_the_floors_are_proved_there():
    noxfile = (PROJECT / "noxfile.py").read_text()
    matrix = load("validate.yml")["jobs"]["nox"]["strategy"]["matrix"]["session"]

    for session in matrix:
        assert f'name="{session}"' in noxfile or f"def {session}(" in noxfile, session
    assert '"--resolution=lowest-direct"' in noxfile
    assert '"scripts/check_floors.py"' in noxfile


def test_validate_installs_opentofu_and_its_provider_cache_before_the_session():
    [validate] = [job for _, job_id, job in all_jobs() if job_id == "validate"]
    uses = [step.get("uses", step.get("name")) for step in validate["steps"]]

    assert uses.index("./.github/actions/opentofu") < uses.index("Run the session")
    tofu = step_using(validate, "./.github/actions/opentofu")
    # Nothing validate installs is applied: it may use cached providers no lock file records.
    assert tofu["with"] == {"cache-without-lock-file": "true"}
    # The jobs that plan or apply get OpenTofu (and the same cache) through the setup action,
    # without that allowance.
    [setup_tofu] = [s for s in all_steps(load_action("setup")) if "opentofu" in s.get("uses", "")]
    assert setup_tofu == {"uses": "./.github/actions/opentofu"}


def test_every_workflow_installs_the_one_exact_opentofu_version_in_range_of_versions_tf():
    installs = [
        (path, step)
        for path in ALL_FILES
        for step in all_steps(yaml.safe_load(path.read_text()))
        if step.get("uses", "").startswith("opentofu/setup-opentofu@")
    ]

    [(path, step)] = installs
    assert path == ACTIONS / "opentofu" / "action.yml"
    version = step["with"]["tofu_version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{version} is not one exact version"
    assert version == "1.13.1"
    assert satisfies(version, required_tofu_version(PROJECT))
    # The wrapper would swallow tofu's exit status (3 means: set DNS by hand).
    assert step["with"]["tofu_wrapper"] is False


def test_the_provider_cache_is_kept_by_actions_cache_keyed_on_every_versions_tf():
    steps = all_steps(load_action("opentofu"))
    [cache] = [s for s in steps if s.get("uses", "").startswith("actions/cache@")]

    assert cache["with"]["path"] == "${{ runner.temp }}/tofu-plugin-cache"
    assert "restore-keys" not in cache["with"]
    [patterns] = re.findall(r"hashFiles\(([^)]*)\)", cache["with"]["key"])
    patterns = [p.strip().strip("'") for p in patterns.split(",")]
    assert "versions.tf" in patterns
    assert ".terraform.lock.hcl" in patterns
    hashed = {p for pattern in patterns for p in PROJECT.glob(pattern)}
    # The OpenTofu tree's (not the test fixtures'): the root module's and every module's.
    versions_files = {
        p for p in PROJECT.rglob("versions.tf")
        if not any(part.startswith(".") or part == "tests" for part in p.relative_to(PROJECT).parts)
    }  # fmt: skip
    assert len(versions_files) > 1
    assert versions_files <= hashed, "a versions.tf with provider pins is not in the cache key"


@pytest.mark.parametrize("without_lock_file", ["true", "false"])
def test_tofu_is_pointed_at_the_cache_folder_actions_cache_keeps(tmp_path, without_lock_file):
    [step] = [
        s for s in all_steps(load_action("opentofu")) if s.get("name", "").startswith("Point")
    ]
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    github_env = tmp_path / "github-env"
    github_env.touch()
    env = {
        "PATH": os.environ["PATH"],
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_ENV": str(github_env),
        "CACHE_WITHOUT_LOCK_FILE": without_lock_file,
    }

    result = run_step(step, tmp_path, env)

    assert result.returncode == 0, result.stderr
    assert step["env"] == {"CACHE_WITHOUT_LOCK_FILE": "${{ inputs.cache-without-lock-file }}"}
    cache_dir = runner_temp / "tofu-plugin-cache"  # `${{ runner.temp }}/tofu-plugin-cache`
    assert cache_dir.is_dir()  # tofu ignores a cache folder that does not exist
    expected = f"TF_PLUGIN_CACHE_DIR={cache_dir}\n"
    if without_lock_file == "true":
        expected += "TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE=true\n"
    assert github_env.read_text() == expected


def test_every_job_has_a_timeout():
    for name, job_id, job in all_jobs():
        if "uses" in job:  # a call of a reusable workflow: its own job carries the timeout
            assert "timeout-minutes" not in job
            continue
        assert 0 < job["timeout-minutes"] <= 120, f"{name}: {job_id}"


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
    assert changes["outputs"] == {
        "environments": "${{ steps.changed.outputs.environments }}",
        "image": "${{ steps.changed.outputs.image }}",
    }


def test_apply_has_one_job_per_environment_and_production_plans_then_applies_in_order():
    jobs = load("apply.yml")["jobs"]

    assert list(PROMOTION_ORDER) == ["cae-testing", "cae-dev", "cae"]
    assert list(jobs) == ["changes", "image", "cae-testing", "cae-dev", "plan-cae", "apply-cae"]
    # The user image first (when docker/ changed), then the environments.
    assert jobs["image"]["uses"] == "./.github/workflows/image.yml"
    assert jobs["image"]["needs"] == "changes"
    previous = "image"
    for env in ("cae-testing", "cae-dev"):
        job = jobs[env]
        assert job["uses"] == "./.github/workflows/apply-environment.yml"
        assert job["with"] == {"environment": env}
        assert IN_ENVIRONMENTS.format(env) in job["if"]
        assert job["needs"] == ["changes", previous]
        # After the previous step succeeded or was skipped, never after it failed.
        assert "!cancelled() && !failure()" in job["if"]
        previous = env
    assert jobs["plan-cae"]["needs"] == ["changes", "cae-dev"]
    assert IN_ENVIRONMENTS.format("cae") in jobs["plan-cae"]["if"]
    assert "!cancelled() && !failure()" in jobs["plan-cae"]["if"]
    # The apply follows its own plan only, never a skipped or failed one.
    assert jobs["apply-cae"]["needs"] == "plan-cae"
    assert "needs.plan-cae.result == 'success'" in jobs["apply-cae"]["if"]


def test_cae_is_planned_and_applied_only_from_main_and_no_other_environment_is_restricted():
    jobs = load("apply.yml")["jobs"]

    for job_id in ("plan-cae", "apply-cae"):
        assert "github.ref == 'refs/heads/main'" in jobs[job_id]["if"]
    for env in ("cae-testing", "cae-dev"):
        assert "refs/heads/main" not in jobs[env]["if"]


def test_each_non_production_apply_runs_in_its_github_environment_and_never_for_cae():
    [job] = load("apply-environment.yml")["jobs"].values()

    assert job["environment"] == "${{ inputs.environment }}"
    assert job["if"] == "inputs.environment != 'cae'"
    assert job["concurrency"] == {
        "group": "tofu-${{ inputs.environment }}",
        "cancel-in-progress": False,
    }
    assert step_using(job, "./.github/actions/apply")["with"] == {
        "environment": "${{ inputs.environment }}"
    }
    names = [step.get("name") or step.get("uses") for step in job["steps"]]
    assert names[-2:] == ["./.github/actions/apply", "invoke health"]  # after the apply
    assert job["steps"][-1]["run"] == 'python -m invoke health --env "$ENVIRONMENT"'
    callers = [
        job
        for job in load("apply.yml")["jobs"].values()
        if job.get("uses") == "./.github/workflows/apply-environment.yml"
    ]
    assert [caller["with"]["environment"] for caller in callers] == ["cae-testing", "cae-dev"]


def test_production_is_planned_in_cae_plan_and_its_plan_kept_in_the_state_bucket():
    plan = load("apply.yml")["jobs"]["plan-cae"]

    assert plan["environment"] == "cae-plan"
    assert plan["concurrency"] == {"group": "tofu-cae", "cancel-in-progress": False}
    step = step_named(plan, "invoke plan")
    assert step["id"] == "plan"
    # The plan file outside the working tree (the apply's preflight wants it clean); the task
    # itself appends the summary to GITHUB_STEP_SUMMARY, keeps the plan in the state bucket under
    # the state's KMS key and writes plan_s3/plan_sha256 to GITHUB_OUTPUT.
    assert shlex.split(step["run"]) == [
        "python", "-m", "invoke", "plan", "--env", "cae", "--out", "$RUNNER_TEMP/cae.tfplan",
        "--upload",
    ]  # fmt: skip
    # Only where the plan is and its sha256 leave the job: never the file.
    assert plan["outputs"] == {
        "plan_s3": "${{ steps.plan.outputs.plan_s3 }}",
        "plan_sha256": "${{ steps.plan.outputs.plan_sha256 }}",
    }


def test_production_applies_that_same_plan_with_the_hash_plan_cae_reported():
    jobs = load("apply.yml")["jobs"]
    apply = jobs["apply-cae"]

    assert apply["concurrency"] == {"group": "tofu-cae", "cancel-in-progress": False}
    step = step_using(apply, "./.github/actions/apply")
    assert step["with"] == {
        "environment": "cae",
        "plan-s3": "${{ needs.plan-cae.outputs.plan_s3 }}",
        "plan-sha256": "${{ needs.plan-cae.outputs.plan_sha256 }}",
    }
    uses = [s.get("uses", "").split("@")[0] for s in apply["steps"]]
    assert uses.index("./.github/actions/setup") < uses.index("./.github/actions/apply")


def test_no_job_moves_a_saved_plan_as_an_artifact():
    """A saved plan holds prior state and planned values, sensitive ones in clear; an artifact
    is readable by anyone who can read the repository."""
    for name, job_id, job in all_jobs():
        for step in job.get("steps", []):
            action = step.get("uses", "").split("@")[0]
            assert action not in ("actions/upload-artifact", "actions/download-artifact"), (
                name,
                job_id,
            )
            assert "tfplan" not in json.dumps(step.get("with", {})), (name, job_id)


def test_the_reviewed_cae_environment_is_entered_only_by_apply_cae_after_its_plan():
    jobs = load("apply.yml")["jobs"]

    entering_cae = [
        (name, job_id) for name, job_id, job in all_jobs() if job.get("environment") == "cae"
    ]
    assert entering_cae == [("apply.yml", "apply-cae")]
    assert jobs["apply-cae"]["needs"] == "plan-cae"
    assert jobs["plan-cae"]["environment"] != "cae"
    # The two jobs whose environment comes from an input can never be given cae.
    [reusable] = load("apply-environment.yml")["jobs"].values()
    assert "inputs.environment != 'cae'" in reusable["if"]
    [destroy] = load("destroy.yml")["jobs"].values()
    assert destroy["if"] == "inputs.environment == 'cae-testing' || inputs.environment == 'cae-dev'"


def test_production_roles_are_read_by_their_own_job_only_and_non_production_never_reads_them():
    readers = {}
    for name, job_id, job in all_jobs():
        for variable in role_variables(job):
            readers.setdefault(variable, []).append((name, job_id))

    assert readers == {
        PRODUCTION_APPLY_ROLE: [("apply.yml", "apply-cae")],
        PRODUCTION_PLAN_ROLE: [("apply.yml", "plan-cae")],
        NON_PRODUCTION_ROLE: [("apply-environment.yml", "apply"), ("destroy.yml", "destroy")],
        IMAGE_ROLE: [("image.yml", "publish")],
        "DRIFT_ROLE_ARN": [("drift.yml", "drift")],
    }
    # Nor does any action, or any file but apply.yml, name production's roles at all.
    for path in ALL_FILES:
        if path.name != "apply.yml":
            text = path.read_text()
            assert PRODUCTION_APPLY_ROLE not in text, path
            assert PRODUCTION_PLAN_ROLE not in text, path


def trust_policies() -> dict[str, dict]:
    """The trust policies docs/ci-and-promotion.md gives, by role name."""
    found = re.findall(r"Trust policy of `([\w-]+)`.*?```json\n(.*?)```", CI_DOC.read_text(), re.S)
    return {role: json.loads(text) for role, text in found}


def trusted_environments(policy: dict) -> set[str]:
    [statement] = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"]["Federated"].endswith(
        ":oidc-provider/token.actions.githubusercontent.com"
    )
    # Exact matches only: no StringLike, no wildcard that would let another subject in.
    assert set(statement["Condition"]) == {"StringEquals"}
    condition = statement["Condition"]["StringEquals"]
    assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    subjects = condition["token.actions.githubusercontent.com:sub"]
    subjects = [subjects] if isinstance(subjects, str) else subjects
    environments = set()
    for subject in subjects:
        match = re.fullmatch(r"repo:OWNER/REPO:environment:([\w-]+)", subject)
        assert match, subject
        environments.add(match[1])
    return environments


def test_each_documented_trust_policy_names_exactly_the_environments_of_the_jobs_using_it():
    policies = trust_policies()
    jobs = load("apply.yml")["jobs"]

    assert {role: trusted_environments(p) for role, p in policies.items()} == {
        "hubops-cae-apply": {"cae"},
        "hubops-cae-plan": {"cae-plan"},
        "hubops-nonprod": {"cae-testing", "cae-dev"},
        "hubops-image": {"image"},
        "hubops-cae-drift": {"cae-drift"},
        "hubops-nonprod-drift": {"cae-testing-drift", "cae-dev-drift"},
    }
    assert jobs["apply-cae"]["environment"] == "cae"
    assert role_variables(jobs["apply-cae"]) == {PRODUCTION_APPLY_ROLE}
    assert jobs["plan-cae"]["environment"] == "cae-plan"
    assert role_variables(jobs["plan-cae"]) == {PRODUCTION_PLAN_ROLE}
    table = CI_DOC.read_text()
    for row in (
        "| `plan-cae` | `cae-plan` | `CAE_PLAN_ROLE_ARN` | `hubops-cae-plan` |",
        "| `apply-cae` | `cae` | `CAE_APPLY_ROLE_ARN` | `hubops-cae-apply` |",
        "| `publish` (image) | `image` | `IMAGE_ROLE_ARN` | `hubops-image` |",
    ):
        assert row in table


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
        (
            "production",
            "production",
            1,
            "Only cae-testing and cae-dev can be destroyed, not production. "
            "Nothing was destroyed.\n",
        ),
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


KEPT_PLAN = "s3://cae-tofu-state-111122223333/plans/cae/" + "c0" * 20 + "-" + "ab" * 32 + ".tfplan"


def apply_step() -> dict:
    [step] = all_steps(load_action("apply"))
    return step


@pytest.fixture
def recording_python(tmp_path):
    """A `python` first on PATH that records its arguments, one per line, and exits 0."""
    bin_dir = tmp_path / "recording-bin"
    bin_dir.mkdir()
    calls = tmp_path / "python-args"
    python = bin_dir / "python"
    python.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {shlex.quote(str(calls))}\n')
    python.chmod(0o755)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()

    def environ(**variables: str) -> dict:
        return {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "RUNNER_TEMP": str(runner_temp),
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
            **variables,
        }

    return environ, calls


def test_the_apply_action_applies_the_kept_plan_with_its_hash(tmp_path, recording_python):
    environ, calls = recording_python
    env = environ(ENVIRONMENT="cae", PLAN_S3=KEPT_PLAN, PLAN_SHA256="ab" * 32)

    result = run_step(apply_step(), tmp_path, env)

    assert result.returncode == 0, result.stderr
    assert apply_step()["env"] == {
        "ENVIRONMENT": "${{ inputs.environment }}",
        "PLAN_S3": "${{ inputs.plan-s3 }}",
        "PLAN_SHA256": "${{ inputs.plan-sha256 }}",
    }
    assert calls.read_text().splitlines() == [
        "-m", "invoke", "apply", "--env", "cae",
        "--plan-s3", KEPT_PLAN, "--plan-sha256", "ab" * 32, "--yes",
    ]  # fmt: skip


def test_the_apply_action_plans_and_applies_in_one_run_without_a_plan_file(
    tmp_path, recording_python
):
    environ, calls = recording_python

    result = run_step(apply_step(), tmp_path, environ(ENVIRONMENT="cae-dev"))

    assert result.returncode == 0, result.stderr
    assert calls.read_text().splitlines() == [
        "-m", "invoke", "apply", "--env", "cae-dev", "--yes",
    ]  # fmt: skip


def test_the_apply_action_refuses_a_plan_without_its_hash(tmp_path, recording_python):
    environ, calls = recording_python
    env = environ(ENVIRONMENT="cae", PLAN_S3=KEPT_PLAN, PLAN_SHA256="")

    result = run_step(apply_step(), tmp_path, env)

    assert result.returncode == 1
    assert not calls.exists()
    assert result.stdout == (
        "::error title=cae plan not verifiable::A plan without its sha256 is not applied.\n"
    )


def test_a_cae_apply_whose_load_balancer_changed_fails_the_job_with_the_record_in_the_summary(
    hub_world, runner
):
    environ, summary = runner
    hub = hub_world("cae")
    hub.replace_node_group("replace_hub_load_balancer")

    result = run_step(apply_step(), PROJECT, environ(hub))

    [new] = hub.hub_hostnames()
    assert result.returncode == 3
    text = summary.read_text()  # written by invoke apply itself (hubops.cli.summaries)
    assert text.startswith("## cae: the routing changed. Set the DNS record by hand\n\n")
    assert (
        f"### DNS record to set\n\n```\nhub.example.org CNAME {new}  (was {hub.hostname})\n```\n"
    ) in text
    assert f"- load balancer replaced: was {hub.hostname}, now {new}\n" in text
    assert (
        "::error title=cae routing changed::Set the DNS record shown in the job summary by hand."
        in result.stdout
    )


def test_a_cae_apply_with_unchanged_routing_passes_with_its_outcome_in_the_summary(
    hub_world, runner
):
    environ, summary = runner
    hub = hub_world("cae")
    hub.replace_node_group()

    result = run_step(apply_step(), PROJECT, environ(hub))

    assert result.returncode == 0, result.stdout + result.stderr
    assert summary.read_text().startswith("## cae: applied; routing unchanged\n\n")
    assert f"Routing unchanged: cae is served by {hub.hostname}" in result.stdout
    assert "::error" not in result.stdout


def test_the_apply_action_leaves_the_job_summary_to_invoke_and_reads_only_its_exit_status():
    script = apply_step()["run"]

    assert "GITHUB_STEP_SUMMARY" not in script
    for scraping in ("grep", "sed ", "tail ", "tee ", "| "):
        assert scraping not in script


def github_outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def run_production_plan(hub, environ, tmp_path) -> dict:
    """plan-cae's `invoke plan` step; its GITHUB_OUTPUT, which apply-cae gets."""
    output = tmp_path / "github-output"
    output.touch()
    env = {**environ(hub), "GITHUB_OUTPUT": str(output)}
    plan = run_step(step_named(load("apply.yml")["jobs"]["plan-cae"], "invoke plan"), PROJECT, env)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    return github_outputs(output)


def test_production_plans_into_the_summary_and_applies_that_plan_by_its_hash(
    hub_world, runner, tmp_path
):
    environ, summary = runner
    hub = hub_world("cae")
    hub.replace_node_group()

    outputs = run_production_plan(hub, environ, tmp_path)

    plan_file = Path(environ(hub)["RUNNER_TEMP"]) / "cae.tfplan"
    assert outputs["plan_sha256"] == hashlib.sha256(plan_file.read_bytes()).hexdigest()
    assert outputs["plan_s3"].endswith(f"-{outputs['plan_sha256']}.tfplan")
    assert 'module.eks.aws_eks_node_group.this["main"]' in summary.read_text()
    plan_file.unlink()  # apply-cae runs on another runner: only the location reaches it
    env = {**environ(hub), "PLAN_S3": outputs["plan_s3"], "PLAN_SHA256": outputs["plan_sha256"]}
    applied = run_step(apply_step(), PROJECT, env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert f"Routing unchanged: cae is served by {hub.hostname}" in applied.stdout


def test_production_refuses_a_plan_whose_hash_is_not_the_reviewed_one(hub_world, runner, tmp_path):
    environ, summary = runner
    hub = hub_world("cae")
    hub.replace_node_group()
    outputs = run_production_plan(hub, environ, tmp_path)
    applies_before = [c for c in hub.fake_tofu.log() if c["argv"][:1] == ["apply"]]

    env = {**environ(hub), "PLAN_S3": outputs["plan_s3"], "PLAN_SHA256": "0" * 64}
    refused = run_step(apply_step(), PROJECT, env)

    assert refused.returncode == 1, refused.stdout
    assert "nothing was applied" in refused.stderr
    assert summary.read_text().endswith(
        "## cae: the apply did not start\n\nExit status 1: nothing was applied.\n\n### Error\n\n"
        f"```\nerror: The saved plan {outputs['plan_s3']} has changed since it was reviewed "
        f"(sha256 0000000000000000..., now {outputs['plan_sha256'][:16]}...): nothing was "
        "applied. Plan again and review the new plan.\n```\n\n"
    )
    assert [c for c in hub.fake_tofu.log() if c["argv"][:1] == ["apply"]] == applies_before


def test_production_apply_checks_out_the_whole_history_for_its_lineage_check():
    """A shallow clone lacks the last applied commit, and the lineage check refuses it."""
    apply_cae = load("apply.yml")["jobs"]["apply-cae"]
    [checkout] = [
        s for s in apply_cae["steps"] if s.get("uses", "").startswith("actions/checkout@")
    ]
    assert checkout["with"]["fetch-depth"] == 0
