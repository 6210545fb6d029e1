"""A plan made for review, bound to the commit it was made from, and kept where only AWS holds it.

A saved plan carries its own configuration and variable values: applied later, it does what its
files said, whatever HEAD says then. So a plan meant for review (`invoke plan --out`) is made only
from a clean, committed tree, and its origin (environment, commit, shared tree, sha256) goes
beside it: in `PLAN.json` next to a local file, or in the object's metadata in the state bucket
(`plans/ENV/COMMIT-SHA256.tfplan`, encrypted with the state's KMS key), so that production's plan
never leaves AWS in clear. Applying one refuses unless HEAD is that commit, the configuration the
plan carries is exactly HEAD's files and the plan's own variables are exactly what HEAD's files
give (the origin is a claim; the configuration and the variables are read from the plan itself).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from hubops.adapters.environment_files import read_hcl
from hubops.adapters.git import tree_entries
from hubops.adapters.saved_plan import NotAPlainFile, read_plain_file
from hubops.facts.bucket_layout import PLANS_PREFIX
from hubops.facts.environments import Environment
from hubops.facts.errors import AwsError, HubopsError
from hubops.facts.plan_configuration import NotAPlanSnapshot, read_plan_configuration
from hubops.facts.plan_configuration import differences as configuration_differences
from hubops.flows.parity import shared_tree

_NOTHING = "Nothing was applied."


class ReviewedPlanRefused(HubopsError):
    """A reviewed plan that is not exactly what HEAD's files make; nothing was applied."""


@dataclass(frozen=True)
class PlanOrigin:
    environment: str
    commit: str
    shared_tree: str  # sha256 of hubops.flows.parity.shared_tree(commit), {path: blob id} sorted
    plan_sha256: str


def tree_digest(tree: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(tree, sort_keys=True).encode()).hexdigest()


def origin_of(root: Path, env: Environment, commit: str, plan_sha256: str) -> PlanOrigin:
    return PlanOrigin(env.name, commit, tree_digest(shared_tree(root, commit)), plan_sha256)


def sidecar(plan: Path) -> Path:
    return plan.with_name(plan.name + ".json")


def write_sidecar(plan: Path, origin: PlanOrigin) -> Path:
    path = sidecar(plan)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        json.dump(asdict(origin), handle, indent=2, sort_keys=True)
    return path


def read_sidecar(plan: Path) -> PlanOrigin:
    """The origin beside a local plan, read as the plan is (`read_plain_file`)."""
    path = sidecar(plan)
    try:
        return _origin(json.loads(read_plain_file(path).decode("utf-8")))
    except NotAPlainFile:
        raise ReviewedPlanRefused(
            f"{path} is a symbolic link or not a plain file: give the origin file `invoke plan "
            f"--out` wrote beside the plan. {_NOTHING}"
        ) from None
    except FileNotFoundError:
        raise ReviewedPlanRefused(
            f"{plan} has no record of the commit it was made from ({path.name}): only a plan made "
            "by `invoke plan --out FILE` from a clean checkout can be applied; make a new plan. "
            f"{_NOTHING}"
        ) from None
    except (OSError, ValueError, TypeError) as exc:
        raise ReviewedPlanRefused(
            f"{path} cannot be read as a plan's origin ({exc}): make a new plan. {_NOTHING}"
        ) from None


def _origin(data: dict) -> PlanOrigin:
    if not isinstance(data, dict) or not all(
        isinstance(data.get(name), str) for name in PlanOrigin.__dataclass_fields__
    ):
        raise ValueError("expected environment, commit, shared_tree and plan_sha256, as strings")
    return PlanOrigin(**{name: data[name] for name in PlanOrigin.__dataclass_fields__})


def check_origin(
    root: Path, env: Environment, origin: PlanOrigin, head: str, plan_sha256: str
) -> None:
    """The origin is this plan's, for this environment, made at HEAD from HEAD's shared tree."""
    if origin.plan_sha256 != plan_sha256:
        raise ReviewedPlanRefused(
            f"The plan's origin names another plan (sha256 {origin.plan_sha256[:16]}..., the plan "
            f"is {plan_sha256[:16]}...): make a new plan. {_NOTHING}"
        )
    if origin.environment != env.name:
        raise ReviewedPlanRefused(
            f"The plan was made for {origin.environment}, not {env.name}: plan {env.name} itself. "
            f"{_NOTHING}"
        )
    if origin.commit != head:
        raise ReviewedPlanRefused(
            f"the plan was made at commit {origin.commit[:12]}, but HEAD is {head[:12]}: check "
            f"out {origin.commit[:12]} or make a new plan. {_NOTHING}"
        )
    if origin.shared_tree != tree_digest(shared_tree(root, head)):
        raise ReviewedPlanRefused(
            f"The plan's origin names commit {head[:12]}, but not that commit's shared tree "
            f"(modules/, root files): make a new plan. {_NOTHING}"
        )


def check_configuration(root: Path, content: bytes, commit: str) -> None:
    """The plan's own configuration (the files it carries, which are what its apply runs) is
    exactly `commit`'s: every configuration file of every module it loaded, and the lock file."""
    try:
        config = read_plan_configuration(content)
    except NotAPlanSnapshot as exc:
        raise ReviewedPlanRefused(
            f"The plan's configuration cannot be checked against commit {commit[:12]}: {exc}. "
            f"Make a new plan from a clean checkout. {_NOTHING}"
        ) from None
    tree = {entry.path: entry.object_id for entry in tree_entries(root, commit)}
    differing = configuration_differences(config, tree)
    if differing:
        raise ReviewedPlanRefused(
            f"the plan's configuration is not commit {commit[:12]}'s: "
            f"{', '.join(differing)}: it was made from other files. Make a new plan from a clean "
            f"checkout. {_NOTHING}"
        )


def expected_variables(root: Path, env: Environment) -> dict:
    """The root module's variables as the checked-out files give them: defaults, then tfvars."""
    values = {}
    for path in sorted(root.glob("*.tf")):
        for block in read_hcl(path).blocks_of("variable"):
            default = block.attrs.get("default")
            values[block.labels[0]] = default.value if default else None
    return {**values, **env.variables}


def check_variables(root: Path, env: Environment, plan: dict, commit: str) -> None:
    """Every variable the plan holds is what HEAD's files give (names only in the message: a
    value may be a secret)."""
    expected = expected_variables(root, env)
    differing = sorted(
        name
        for name, entry in (plan.get("variables") or {}).items()
        if name not in expected or not _same((entry or {}).get("value"), expected[name])
    )
    if differing:
        raise ReviewedPlanRefused(
            f"the plan's variables differ from what commit {commit[:12]}'s "
            f"environments/{env.name}/terraform.tfvars and variables.tf give "
            f"({', '.join(differing)}): it was made from other files. Make a new plan from a "
            f"clean checkout. {_NOTHING}"
        )


def _same(planned, written) -> bool:
    """The engine converts a value to its variable's type: `2` given to a string is "2"."""

    def text(value):
        return json.dumps(value) if isinstance(value, bool | int | float) else value

    if isinstance(planned, str) != isinstance(written, str):
        return text(planned) == text(written)
    return planned == written


# -- kept in the state bucket -------------------------------------------------------------------


def object_key(origin: PlanOrigin) -> str:
    return f"{PLANS_PREFIX}/{origin.environment}/{origin.commit}-{origin.plan_sha256}.tfplan"


def upload(env: Environment, plan: Path, origin: PlanOrigin) -> str:
    """Put the plan in the state bucket under the state's KMS key; its s3:// location."""
    from hubops.adapters import aws

    key = object_key(origin)
    try:
        aws.call(
            aws.client("s3", env.backend.region).put_object,
            Bucket=env.backend.bucket,
            Key=key,
            Body=plan.read_bytes(),
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=env.backend.kms_key_id,
            Metadata={name.replace("_", "-"): value for name, value in asdict(origin).items()},
            IfNoneMatch="*",
        )
    except AwsError as exc:
        if exc.code != "PreconditionFailed":  # the same bytes from the same commit: already there
            raise HubopsError(
                f"Could not keep the plan at s3://{env.backend.bucket}/{key}: "
                f"{str(exc).rstrip('.')}. The plan's role needs s3:PutObject on {PLANS_PREFIX}/"
                f"{env.name}/* and kms:GenerateDataKey on the state's key."
            ) from exc
    return f"s3://{env.backend.bucket}/{key}"


def download(env: Environment, location: str) -> tuple[bytes, PlanOrigin]:
    """The plan at `location` (in ENV's state bucket, under plans/ENV/) and the origin its
    object carries."""
    from hubops.adapters import aws

    bucket, _, key = location.removeprefix("s3://").partition("/")
    folder = f"{PLANS_PREFIX}/{env.name}/"
    if (
        not location.startswith("s3://")
        or bucket != env.backend.bucket
        or not (key.startswith(folder) and "/" not in key[len(folder) :])
    ):
        raise ReviewedPlanRefused(
            f"{location} is not a plan of {env.name}: reviewed plans are kept in "
            f"s3://{env.backend.bucket}/{folder} (`invoke plan --env {env.name} --out FILE "
            f"--upload`). {_NOTHING}"
        )

    def get_plan() -> tuple[bytes, dict]:  # the body read inside the retried call
        answer = aws.client("s3", env.backend.region).get_object(Bucket=bucket, Key=key)
        return answer["Body"].read(), answer["Metadata"]

    try:
        content, metadata = aws.call(get_plan)
    except AwsError as exc:
        raise ReviewedPlanRefused(
            f"Could not read the plan at {location}: {str(exc).rstrip('.')}. {_NOTHING}"
        ) from exc
    try:
        return content, _origin({name.replace("-", "_"): v for name, v in metadata.items()})
    except ValueError:
        raise ReviewedPlanRefused(
            f"The plan at {location} carries no origin (commit, shared tree): only a plan kept "
            f"by `invoke plan --upload` can be applied; make a new plan. {_NOTHING}"
        ) from None
