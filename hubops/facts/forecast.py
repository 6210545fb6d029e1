"""The routing forecast of a plan: which of its changes can move the hub's traffic.

The verdict says after an apply whether routing changed; the forecast says before it whether it
can. It reads the saved plan's deletions and replacements by resource type and address, as this
tree builds the hub: the cluster, the hub's namespace or JupyterHub release (which owns the
public proxy service, and so its load balancer), the hub's own front door (its application load
balancer, a listener or its target group), or the https certificate going away can give the hub
a new load balancer or break its listener (high); replacing the node group that runs the
proxy, or rolling its nodes onto a new AMI in place, interrupts it (medium); everything else
leaves routing alone (low). The forecast goes into the run record, so that `invoke history` can
set it against what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hubops.facts.plan_summary import PlanSummary
from hubops.facts.protected import resource_key, resource_type_and_name

HIGH, MEDIUM, LOW = "high", "medium", "low"
_ORDER = {LOW: 0, MEDIUM: 1, HIGH: 2}
# (resource type, name or None for any) -> why replacing or deleting it can move the hub's traffic
_HIGH_RISK = {
    ("aws_eks_cluster", None): "a new cluster gives the hub a new load balancer",
    ("kubernetes_namespace_v1", None): "the hub's namespace holds its public proxy service",
    ("kubernetes_service_v1", "proxy_public"): "the hub's public proxy service owns its load "
    "balancer",
    ("helm_release", "jupyterhub"): "the JupyterHub release owns the public proxy service and "
    "its load balancer",
    ("aws_lb", None): "the hub's front door: a new application load balancer has a new DNS "
    "name, which the domain's record must follow",
    ("aws_lb_listener", None): "a listener of the hub's front door: without it the load "
    "balancer answers nothing on its port",
    ("aws_lb_target_group", None): "the front door's target group: a new one is empty until the "
    "controller binds the proxy's pods to it again",
    ("aws_acm_certificate", None): "the load balancer's https listener uses this certificate",
    ("aws_acm_certificate_validation", None): "the load balancer's https listener waits for it",
}
# For node groups, the name is the instance key (`aws_eks_node_group.this["hub"]`).
_MEDIUM_RISK = {
    ("aws_eks_node_group", "hub"): "the hub node group runs the proxy: replacing it interrupts "
    "the hub while its pods move",
}
# An in-place roll onto a new AMI release or Kubernetes version replaces the nodes one at a time:
# on the group that runs the proxy, the hub is briefly interrupted; on the others, low.
_ROLL_RISK = {
    "hub": "the hub node group runs the proxy: rolling its nodes onto a new AMI interrupts the "
    "hub briefly while its pods move",
}


@dataclass
class Forecast:
    risk: str = LOW
    # address -> (risk, why) for each change above low
    reasons: dict[str, list[str]] = field(default_factory=dict)

    def lines(self, env_name: str, supervised: bool) -> list[str]:
        if self.risk == LOW:
            return [
                f"Routing forecast: low (no change of this plan is known to move {env_name}'s "
                "traffic)."
            ]
        lines = [f"Routing forecast: {self.risk}"]
        lines += [f"  {risk:<6} {address}: {why}" for address, (risk, why) in self.reasons.items()]
        if self.risk == HIGH and supervised:
            lines.append(
                "Have DNS access ready before you confirm: if the load balancer changes, the apply "
                "exits 3 with the record to set."
            )
        return lines


def _risk_of(address: str) -> tuple[str, str] | None:
    kind, name = resource_type_and_name(address)
    if kind == "aws_eks_node_group":
        name = resource_key(address) or name
    for table, risk in ((_HIGH_RISK, HIGH), (_MEDIUM_RISK, MEDIUM)):
        why = table.get((kind, name)) or table.get((kind, None))
        if why:
            return risk, why
    return None


def _roll_risk(address: str) -> tuple[str, str] | None:
    why = _ROLL_RISK.get(resource_key(address) or "")
    return (MEDIUM, why) if why else None


def forecast(summary: PlanSummary) -> Forecast:
    result = Forecast()
    for address in [*summary.replace, *summary.destroy, *summary.rolls]:
        found = _risk_of(address) if address not in summary.rolls else _roll_risk(address)
        if found:
            result.reasons[address] = list(found)
            if _ORDER[found[0]] > _ORDER[result.risk]:
                result.risk = found[0]
    return result
