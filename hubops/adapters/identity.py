"""Who the shell's AWS credentials are, checked against the environment's account and region.

The operations guide has operators run `aws sts get-caller-identity` by hand; `verify_identity`
does the same before any run that could change something, so a shell pointed at the wrong account
fails before it touches anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from hubops.adapters import aws
from hubops.facts.environments import Environment
from hubops.facts.errors import PreflightError


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str
    # The region the shell is configured for (AWS_REGION, AWS_DEFAULT_REGION, profile); None when
    # unset, in which case hubops uses the environment's region for every call it makes.
    region: str | None


def configured_region() -> str | None:
    """The region this shell's AWS tools would pick without being told one."""
    import boto3

    # The AWS CLI v2 and OpenTofu's provider prefer AWS_REGION; botocore reads only the others.
    return os.environ.get("AWS_REGION") or boto3.session.Session().region_name or None


def caller_identity(env: Environment) -> Identity:
    """The shell's AWS identity, asked of STS in the environment's region."""
    sts = aws.client("sts", env.region)
    answer = aws.call(sts.get_caller_identity)
    return Identity(account=str(answer["Account"]), arn=answer["Arn"], region=configured_region())


def identity_problems(env: Environment, identity: Identity) -> list[str]:
    """What about `identity` does not match `env`, one sentence each (empty when all is well)."""
    problems = []
    if identity.account != env.account_id:
        problems.append(
            f"Your AWS credentials are for account {identity.account} ({identity.arn}), but "
            f"{env.name} lives in account {env.account_id}: switch your shell to credentials "
            f"for account {env.account_id} and check with `invoke whoami --env {env.name}`."
        )
    if identity.region is not None and identity.region != env.region:
        problems.append(
            f"Your shell's AWS region is {identity.region}, but {env.name} lives in "
            f"{env.region}: set AWS_DEFAULT_REGION={env.region} (and AWS_REGION if you set it)."
        )
    return problems


def verify_identity(env: Environment) -> Identity:
    """The caller's identity; `PreflightError` naming both sides when it is not `env`'s."""
    identity = caller_identity(env)
    problems = identity_problems(env, identity)
    if problems:
        raise PreflightError(" ".join(problems))
    return identity
