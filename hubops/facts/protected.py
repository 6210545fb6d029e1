"""Production's stateful resources: a supervised apply never deletes or replaces one unasked.

Losing one of these loses what no apply can bring back: the users' directories and the keys that
encrypt them, every login (the user pool), the cluster, the hub's front door (its application
load balancer, whose address the domain's record names), and the hub's database (its volume is
created by the JupyterHub chart inside the hub's namespace, so it goes with the release or the
namespace). A plan that deletes or replaces any of them is applied only when the operator names
each address (`--allow-destroy ADDRESS`), and the run record keeps those names.
"""

from __future__ import annotations

import re

from hubops.facts.errors import ConfirmationError
from hubops.facts.plan_summary import PlanSummary

PROTECTED_TYPES = {
    "aws_efs_file_system": "the users' directories",
    "aws_efs_access_point": "the users' directories' access point",
    "aws_ebs_volume": "a data volume",
    "aws_kms_key": "an encryption key: data encrypted with it becomes unreadable",
    "aws_cognito_user_pool": "every user's login",
    "aws_eks_cluster": "the cluster and everything running in it",
    "kubernetes_persistent_volume_v1": "the users' directories' volume",
    "kubernetes_persistent_volume_claim_v1": "the users' directories' claim",
    "kubernetes_namespace_v1": "the hub's namespace, with the hub's database volume",
    "aws_lb": "the hub's front door: its DNS name is what the domain points at",
}
# The JupyterHub release owns the hub's database volume (hub-db-dir).
PROTECTED_RELEASES = {"jupyterhub": "the hub and its database volume"}
ALLOW_FLAG = "--allow-destroy"
_INDEX = re.compile(r"\[[^\]]*\]")
_LAST_KEY = re.compile(r'\[("?)([^\]"]*)\1\]$')


def resource_type_and_name(address: str) -> tuple[str, str]:
    """`module.x["a.b"].aws_efs_file_system.home[0]` -> ("aws_efs_file_system", "home")."""
    parts = _INDEX.sub("", address).split(".")
    return (parts[-2], parts[-1]) if len(parts) >= 2 else ("", address)


def resource_key(address: str) -> str | None:
    """The instance key of a resource address: `...this["hub"]` -> "hub", `...home[0]` -> "0"."""
    match = _LAST_KEY.search(address)
    return match[2] if match else None


def why_protected(address: str) -> str | None:
    kind, name = resource_type_and_name(address)
    if kind == "helm_release":
        return PROTECTED_RELEASES.get(name)
    return PROTECTED_TYPES.get(kind)


def endangered(summary: PlanSummary) -> dict[str, str]:
    """{address: what would be lost} for every protected resource the plan deletes or replaces."""
    found = {}
    for address in [*summary.destroy, *summary.replace]:
        why = why_protected(address)
        if why:
            found[address] = why
    return found


def unneeded(summary: PlanSummary, allowed: list[str]) -> list[str]:
    """Acknowledged addresses this plan does not put at risk (a typo, or a plan that changed)."""
    return sorted(set(allowed) - set(endangered(summary)))


def require_acknowledged(env_name: str, summary: PlanSummary, allowed: list[str]) -> None:
    """ConfirmationError for any protected resource at risk that is not acknowledged."""
    at_risk = endangered(summary)
    missing = [address for address in at_risk if address not in allowed]
    if missing:
        lines = "\n".join(f"  {address}: {at_risk[address]}" for address in missing)
        flags = " ".join(f"{ALLOW_FLAG} '{address}'" for address in missing)
        raise ConfirmationError(
            f"This plan deletes or replaces stateful resources of {env_name} that hold what no "
            f"apply can bring back:\n{lines}\nNothing was applied. If that is really intended, "
            f"apply again with {flags} (it is recorded)."
        )
