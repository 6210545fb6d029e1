"""The environments and their facts: what `environments/ENV/` says, typed (read by
`hubops.adapters.environment_files`, the single source of truth's reader).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ENVIRONMENTS_DIR = "environments"
VARS_FILE = "terraform.tfvars"
# What `invoke promote` writes: the facts promoted from the environment before (a variables file).
PROMOTION_FILE = "promotion.tfvars"
BACKEND_FILE = "backend.hcl"
# Promotion order: every change goes testing -> dev -> production.
PROMOTION_ORDER = ("cae-testing", "cae-dev", "cae")
PRODUCTION = PROMOTION_ORDER[-1]
# Zero to JupyterHub names its public proxy service so; it is not a per-environment choice.
HUB_SERVICE = "proxy-public"


@dataclass(frozen=True)
class Backend:
    bucket: str
    key: str
    region: str
    encrypt: bool
    kms_key_id: str | None
    use_lockfile: bool
    dynamodb_table: str | None
    # backend.hcl's values as written, for the rules of hubops.facts.backend_rules
    settings: Mapping = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Environment:
    name: str
    path: Path
    region: str
    account_id: str
    cluster_name: str
    hub_namespace: str
    domain: str | None
    supervised: bool
    backend: Backend
    variables: dict  # every variables file's values, a later file's over an earlier one's
    # The variables files the engine is given, in order: terraform.tfvars, then the others.
    var_files: tuple[Path, ...]

    @property
    def hub_service(self) -> str:
        return HUB_SERVICE

    @property
    def service_tag(self) -> str:
        """The `kubernetes.io/service-name` tag value the cloud controller puts on the hub's LB."""
        return f"{self.hub_namespace}/{HUB_SERVICE}"

    @property
    def vars_file(self) -> Path:
        return self.path / VARS_FILE

    @property
    def backend_file(self) -> Path:
        return self.path / BACKEND_FILE

    @property
    def promotion_file(self) -> Path:
        return self.path / PROMOTION_FILE


def predecessor(env_name: str) -> str | None:
    """The environment that must have run a shared tree before `env_name` gets it."""
    if env_name in PROMOTION_ORDER[1:]:
        return PROMOTION_ORDER[PROMOTION_ORDER.index(env_name) - 1]
    return None


def promotion_sorted(names) -> list[str]:
    """Environment names in promotion order, then any others alphabetically."""
    names = set(names)
    return [n for n in PROMOTION_ORDER if n in names] + sorted(names - set(PROMOTION_ORDER))
