"""AWS identity: the shell's account and region against the environment's, and `invoke whoami`."""

import os

import pytest

from hubops.facts.environments import load_environment
from hubops.facts.errors import AwsError, PreflightError
from hubops.adapters.identity import Identity, verify_identity
from tests.support import invoking

MOTO_ARN = "arn:aws:sts::123456789012:user/moto"


def run_invoke(project_repo, *args):
    return invoking.run_invoke(
        *args, cwd=project_repo.path, env={**os.environ, "HUBOPS_ROOT": str(project_repo.path)}
    )


def other_account(project_repo, env_name):
    """The environment as it would be if it lived in another account than the shell's."""
    path = project_repo.path / "environments" / env_name / "terraform.tfvars"
    path.write_text(path.read_text().replace("123456789012", "111122223333"))
    return load_environment(project_repo.path, env_name)


def test_verify_identity_returns_the_callers_account_arn_and_region(project_repo, aws_env):
    env = load_environment(project_repo.path, "cae")

    assert verify_identity(env) == Identity("123456789012", MOTO_ARN, "us-west-2")


def test_verify_identity_names_both_accounts_on_a_mismatch(project_repo, aws_env):
    env = other_account(project_repo, "cae")

    with pytest.raises(PreflightError) as raised:
        verify_identity(env)

    assert str(raised.value) == (
        f"Your AWS credentials are for account 123456789012 ({MOTO_ARN}), but cae lives in "
        "account 111122223333: switch your shell to credentials for account 111122223333 and "
        "check with `invoke whoami --env cae`."
    )


def test_verify_identity_refuses_a_shell_set_to_another_region(project_repo, aws_env, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    env = load_environment(project_repo.path, "cae-dev")

    with pytest.raises(PreflightError) as raised:
        verify_identity(env)

    assert str(raised.value) == (
        "Your shell's AWS region is eu-central-1, but cae-dev lives in us-west-2: set "
        "AWS_DEFAULT_REGION=us-west-2 (and AWS_REGION if you set it)."
    )


def test_a_shell_with_no_region_set_is_accepted(project_repo, aws_env, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    env = load_environment(project_repo.path, "cae-dev")

    assert verify_identity(env).region is None


def test_rejected_credentials_fail_at_once_with_what_to_check(project_repo, aws_env, moto_server):
    env = load_environment(project_repo.path, "cae-dev")
    moto_server.reject_credentials()

    with pytest.raises(AwsError) as raised:
        verify_identity(env)

    assert str(raised.value) == (
        "AWS get_caller_identity failed: InvalidClientTokenId: The security token included in "
        "the request is invalid. AWS did not accept your shell's credentials: set valid ones for "
        "the environment's account (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE; "
        "`aws configure list` shows which are in use) and try again."
    )


def test_whoami_shows_the_caller_next_to_the_environment(project_repo, aws_env):
    result = run_invoke(project_repo, "whoami", "--env", "cae-dev")

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"arn      {MOTO_ARN}\n"
        "account  123456789012  (cae-dev is in 123456789012)\n"
        "region   us-west-2  (cae-dev is in us-west-2)\n"
    )


def test_whoami_exits_1_naming_both_accounts_on_a_mismatch(project_repo, aws_env):
    other_account(project_repo, "cae-testing")

    result = run_invoke(project_repo, "whoami", "--env", "cae-testing")

    assert result.returncode == 1
    assert "account  123456789012  (cae-testing is in 111122223333)\n" in result.stdout
    assert result.stderr == (
        f"error: Your AWS credentials are for account 123456789012 ({MOTO_ARN}), but cae-testing "
        "lives in account 111122223333: switch your shell to credentials for account "
        "111122223333 and check with `invoke whoami --env cae-testing`.\n"
    )


def test_whoami_of_an_unknown_environment_lists_the_known_ones(project_repo, aws_env):
    result = run_invoke(project_repo, "whoami", "--env", "prod")

    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: Unknown environment 'prod': the known ones are cae-testing, cae-dev, cae"
    )
