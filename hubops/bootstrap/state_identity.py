"""Which environment a state belongs to, recorded beside the state, out of reach of tree edits.

A folder name and a tfvars flag are only files: copy production's `backend.hcl` into another
folder, or set `supervised = false`, and production would be applied without supervision or
destroyed. So `invoke backend` writes a marker object next to the state
(`s3://BUCKET/KEY.hubops-identity.json`, written only if absent, never rewritten by hubops) naming
the environment and the facts that make it what it is (supervised, its domain, never destroyed).
Every plan, apply and destroy reads it (through the backend check of preflight) and refuses:
- a backend that resolves to another environment's state;
- a supervised state whose files now say `supervised = false`, or that lost its domain.

A state written before markers existed is claimed only if nothing in it names another environment:
the root module records `var.environment` in `terraform_data.environment_rules`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from hubops.adapters import aws
from hubops.facts.environments import Environment
from hubops.facts.errors import AwsError

MARKER_SUFFIX = ".hubops-identity.json"
_MISSING = {"NoSuchKey", "404", "NotFound"}


@dataclass(frozen=True)
class StateIdentity:
    environment: str
    supervised: bool
    domain: str | None

    @property
    def never_destroyed(self) -> bool:  # production's facts go together
        return self.supervised

    def describe(self) -> str:
        facts = ["supervised, never destroyed" if self.supervised else "unsupervised"]
        if self.domain:
            facts.append(f"domain {self.domain}")
        return f"{self.environment} ({', '.join(facts)})"

    @classmethod
    def of(cls, env: Environment) -> StateIdentity:
        return cls(environment=env.name, supervised=env.supervised, domain=env.domain)


def marker_key(env: Environment) -> str:
    return env.backend.key + MARKER_SUFFIX


def marker_url(env: Environment) -> str:
    return f"s3://{env.backend.bucket}/{marker_key(env)}"


def _get_json(s3, bucket: str, key: str):
    """The object's JSON, or None when it does not exist."""
    try:
        body = aws.call(s3.get_object, Bucket=bucket, Key=key)["Body"].read()
    except AwsError as exc:
        if exc.code in _MISSING:
            return None
        # AWS's message names neither: a 403 could be the bucket's policy or the key's prefix.
        raise AwsError(f"Could not read s3://{bucket}/{key}: {exc}", code=exc.code) from exc
    try:
        return json.loads(body)
    except ValueError:
        return {"unreadable": True}


def read_marker(s3, env: Environment) -> StateIdentity | None | str:
    """The recorded identity; None when there is no marker; a string saying why it is unusable."""
    raw = _get_json(s3, env.backend.bucket, marker_key(env))
    if raw is None:
        return None
    try:
        identity = StateIdentity(
            environment=raw["environment"], supervised=raw["supervised"], domain=raw.get("domain")
        )
    except (KeyError, TypeError):
        return f"{marker_url(env)} is not a hubops identity marker"
    if not isinstance(identity.environment, str) or not isinstance(identity.supervised, bool):
        return f"{marker_url(env)} is not a hubops identity marker"
    return identity


def environment_named_by_state(s3, env: Environment) -> str | None:
    """The environment an existing state was applied for (None: no state, or it does not say)."""
    state = _get_json(s3, env.backend.bucket, env.backend.key)
    for resource in (state or {}).get("resources", []) or []:
        if resource.get("type") != "terraform_data" or resource.get("name") != "environment_rules":
            continue
        for instance in resource.get("instances", []):
            value = (instance.get("attributes") or {}).get("input")
            value = value.get("value") if isinstance(value, dict) else value
            if isinstance(value, str):
                return value
    return None


def write_marker(s3, env: Environment) -> None:
    identity = StateIdentity.of(env)
    body = json.dumps({**asdict(identity), "never_destroyed": identity.never_destroyed}, indent=2)
    try:
        aws.call(
            s3.put_object,
            Bucket=env.backend.bucket,
            Key=marker_key(env),
            Body=body.encode() + b"\n",
            ContentType="application/json",
            IfNoneMatch="*",
        )
    except AwsError as exc:
        if exc.code != "PreconditionFailed":  # another run wrote it first: read it next time
            raise


def contradictions(env: Environment, identity: StateIdentity) -> list[str]:
    """Why `env`'s files may not drive the state that `identity` describes (empty: they may)."""
    files = f"environments/{env.name}/"
    if identity.environment != env.name:
        return [
            f"{files}backend.hcl resolves to the state of {identity.environment} "
            f"(s3://{env.backend.bucket}/{env.backend.key}, recorded in {marker_url(env)}): "
            f"every environment needs its own state; point {files}backend.hcl at {env.name}'s "
            "own bucket and key"
        ]
    problems = []
    if identity.supervised and not env.supervised:
        problems.append(
            f"the state of {env.name} is recorded as supervised and never destroyed, but "
            f"{files}terraform.tfvars says supervised = false: supervision cannot be switched "
            "off by an edit; restore supervised = true"
        )
    if identity.domain and not env.domain:
        problems.append(
            f"the state of {env.name} is recorded with the domain {identity.domain}, but "
            f"{files}terraform.tfvars sets no domain: the DNS check cannot be switched off by "
            f'an edit; restore domain = "{identity.domain}"'
        )
    return problems
