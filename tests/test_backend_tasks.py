"""`invoke backend` and `invoke doctor`, run as an operator runs them, against moto's server."""

import os

import boto3

from tests.support import invoking

BUCKET = "cae-testing-tofu-state-123456789012"


def run_invoke(project_repo, *args, path=None):
    environ = {**os.environ, "HUBOPS_ROOT": str(project_repo.path)}
    if path is not None:
        environ["PATH"] = path
    return invoking.run_invoke(*args, cwd=project_repo.path, env=environ)


def buckets():
    return [
        b["Name"] for b in boto3.client("s3", region_name="us-west-2").list_buckets()["Buckets"]
    ]


def test_backend_prints_what_it_created_and_the_second_run_creates_nothing(project_repo, aws_env):
    first = run_invoke(project_repo, "backend", "--env", "cae-testing")
    second = run_invoke(project_repo, "backend", "--env", "cae-testing")

    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ["created"] * 8 + ["found"]
    assert lines[-3] == (
        "created  identity: s3://cae-testing-tofu-state-123456789012/cae-testing/terraform.tfstate"
        ".hubops-identity.json records cae-testing (unsupervised)"
    )
    assert lines[-1] == "Created or fixed 8; the state backend of cae-testing is ready."
    assert second.returncode == 0, second.stderr
    assert [line.split()[0] for line in second.stdout.splitlines()[:-1]] == ["found"] * 9
    assert second.stdout.splitlines()[-1] == (
        "Nothing to create: the state backend of cae-testing was already in place."
    )
    assert buckets() == [BUCKET]


def test_backend_check_reports_without_creating_and_exits_1(project_repo, aws_env):
    result = run_invoke(project_repo, "backend", "--env", "cae-testing", "--check")

    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        "problem  KMS key alias/cae-testing-tofu-state does not exist"
    )
    assert result.stderr == (
        "error: the state backend of cae-testing is not ready: run `invoke backend --env "
        "cae-testing` to create it.\n"
    )
    assert buckets() == []


def test_backend_check_passes_once_the_backend_exists(project_repo, aws_env):
    run_invoke(project_repo, "backend", "--env", "cae-testing")

    result = run_invoke(project_repo, "backend", "--env", "cae-testing", "--check")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "The state backend of cae-testing is ready."


def test_backend_refuses_to_create_anything_in_another_account(project_repo, aws_env):
    path = project_repo.path / "environments" / "cae-testing" / "terraform.tfvars"
    path.write_text(path.read_text().replace("123456789012", "111122223333"))

    result = run_invoke(project_repo, "backend", "--env", "cae-testing")

    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: Your AWS credentials are for account 123456789012 "
        "(arn:aws:sts::123456789012:user/moto), but cae-testing lives in account 111122223333"
    )
    assert buckets() == []


def test_doctor_without_tools_names_each_with_how_to_install_it(project_repo, aws_env, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()

    result = run_invoke(project_repo, "doctor", path=str(empty))

    assert result.returncode == 1
    assert result.stdout == (
        "Tools\n"
        "  problem  No `tofu` on PATH: install OpenTofu (https://opentofu.org/docs/intro/install/) "
        "or set HUBOPS_TOFU_BIN to its path.\n"
        "  problem  No `aws` on PATH: install the AWS CLI: "
        "https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html.\n"
        "  optional No `kubectl` on PATH: install kubectl: https://kubernetes.io/docs/tasks/tools/.\n"
        "Engine configuration\n"
        "  ok       CLI configuration: none (providers come from their registry)\n"
        "(pass --env ENV to also check that environment's AWS identity and state backend)\n"
    )
    assert result.stderr == "error: 2 problem(s) above; each says what to do.\n"


def test_doctor_with_an_environment_shows_identity_and_backend_at_once(
    project_repo, aws_env, fake_tofu, tmp_path
):
    fake_tofu.scenario({"version": "1.10.3"})
    run_invoke(project_repo, "backend", "--env", "cae-testing")

    result = run_invoke(project_repo, "doctor", "--env", "cae-testing", path=str(fake_tofu.bin_dir))

    lines = result.stdout.splitlines()
    assert lines[:2] == ["Tools", f"  ok       tofu OpenTofu 1.10.3 ({fake_tofu.bin_dir / 'tofu'})"]
    assert lines[4:6] == [
        "Engine configuration",
        "  ok       CLI configuration: none (providers come from their registry)",
    ]
    assert lines[6:10] == [
        "AWS identity for cae-testing",
        "  arn      arn:aws:sts::123456789012:user/moto",
        "  account  123456789012  (cae-testing is in 123456789012)",
        "  region   us-west-2  (cae-testing is in us-west-2)",
    ]
    assert lines[10] == "State backend of cae-testing"
    assert [line.split()[0] for line in lines[11:]] == ["found"] * 9
    # Only the missing aws CLI (needed by the providers' `aws eks get-token`) is a problem.
    assert result.stderr == "error: 1 problem(s) above; each says what to do.\n"


def test_doctor_names_a_cli_configuration_that_is_missing_or_that_production_refuses(
    project_repo, aws_env, fake_tofu, tmp_path, monkeypatch
):
    fake_tofu.scenario({"version": "1.10.3"})
    missing = tmp_path / "missing.tfrc"
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(missing))
    gone = run_invoke(project_repo, "doctor", path=str(fake_tofu.bin_dir))
    overrides = tmp_path / "dev.tfrc"
    overrides.write_text('provider_installation {\n  dev_overrides {\n    "a/b" = "/x"\n  }\n}\n')
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(overrides))
    production = run_invoke(project_repo, "doctor", "--env", "cae", path=str(fake_tofu.bin_dir))

    assert gone.returncode == production.returncode == 1
    assert (
        "Engine configuration\n"
        f"  problem  TF_CLI_CONFIG_FILE={missing} names no file: the engine runs without a CLI "
        "configuration (no provider mirror). Create it, or unset TF_CLI_CONFIG_FILE.\n"
    ) in gone.stdout
    assert "All good." not in gone.stdout
    assert (
        "Engine configuration\n"
        f"  problem  The engine's CLI configuration {overrides} holds dev_overrides, which "
        "replace providers with local builds no lock file checks: cae is supervised"
    ) in production.stdout
