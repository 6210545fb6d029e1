"""The routing snapshot: where the hub's traffic goes at one moment.

It holds the load balancer(s) AWS has for the hub's public proxy service, what their hostnames
resolve to, the hostname the root module outputs (a cross-check, where it is exposed), and what
DNS answers for the hub's domain. Taking a snapshot never raises for AWS, DNS or tofu faults:
they are recorded in `errors`, and the verdict treats anything unverified as changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hubops.clock import now
from hubops.environments import Environment
from hubops.errors import HubopsError
from hubops.loadbalancer import LoadBalancer

OUTPUT_NAME = "hub_load_balancer_hostname"


@dataclass
class DnsSeen:
    """What DNS answered for the hub's domain."""

    status: str  # "ok" | "nxdomain" | "no-answer" | "servfail" | "timeout" | "error"
    cname_chain: list[str] = field(default_factory=list)  # CNAME targets in order
    addresses: list[str] = field(default_factory=list)  # of the final name, sorted
    detail: str = ""  # key=value diagnostics


@dataclass
class Snapshot:
    taken_at: str
    load_balancers: list[LoadBalancer] = field(default_factory=list)
    # hostname -> its resolved addresses (for comparing by address where DNS has no CNAME)
    load_balancer_addresses: dict[str, list[str]] = field(default_factory=dict)
    output_hostname: str | None = None
    # Names of the root module's outputs in the state, sensitive ones included; [] for a state
    # never applied, None unknown.
    state_outputs: list[str] | None = None
    # Why the tofu-output cross-check did not happen although tofu was asked (None: it happened,
    # or tofu was not asked at all).
    cross_check_skipped: str | None = None
    domain: str | None = None
    dns: DnsSeen | None = None
    errors: list[str] = field(default_factory=list)
    # AWS could not be asked for the hub's load balancer (credentials, network): nothing about
    # the routing is known, which is not the same as routing found wrong.
    lookup_error: str | None = None

    @property
    def hostnames(self) -> list[str]:
        return [lb.hostname for lb in self.load_balancers]


def take_snapshot(env: Environment, tofu=None) -> Snapshot:
    """Record the routing facts now. `tofu`, when given and initialised, adds the output check."""
    from hubops import dns
    from hubops.loadbalancer import find_hub_load_balancers

    snapshot = Snapshot(taken_at=now(), domain=env.domain)
    try:
        found = find_hub_load_balancers(env)
    except HubopsError as exc:
        snapshot.lookup_error = str(exc)
        snapshot.errors.append(f"load balancer lookup failed: {exc}")
    else:
        snapshot.load_balancers = list(found)
        for lb in found:
            answer = dns.resolve(lb.hostname)
            snapshot.load_balancer_addresses[lb.hostname] = sorted(answer.addresses)

    if tofu is not None and tofu.initialised:
        try:
            outputs = tofu.outputs()
        except HubopsError as exc:
            snapshot.errors.append(f"tofu output failed: {exc}")
        else:
            snapshot.state_outputs = sorted(outputs.names)
            value = outputs.values.get(OUTPUT_NAME)
            if isinstance(value, str) and value.strip():
                snapshot.output_hostname = value.strip().lower().rstrip(".")
            elif value not in (None, ""):  # there, but not a hostname: nothing confirms the LB
                snapshot.errors.append(f"tofu output {OUTPUT_NAME} is {value!r}, not a hostname")
            else:
                snapshot.cross_check_skipped = _why_not_cross_checked(outputs, value)

    if env.domain:
        answer = dns.resolve(env.domain)
        snapshot.dns = DnsSeen(
            status=answer.status,
            cname_chain=list(answer.cname_chain),
            addresses=sorted(answer.addresses),
            detail=answer.detail,
        )
    return snapshot


def _why_not_cross_checked(outputs, value) -> str:
    """Why the state's outputs cannot confirm the load balancer, in one sentence."""
    if not outputs.names:
        return "the state has no outputs yet (never applied)"
    if OUTPUT_NAME in outputs.sensitive:
        return f"the output {OUTPUT_NAME} is sensitive, so tofu does not show it"
    if OUTPUT_NAME not in outputs.names:
        return (
            f"the state has no output {OUTPUT_NAME} (it has {', '.join(sorted(outputs.names))}); "
            "apply the root module's outputs.tf to add it"
        )
    return f"the output {OUTPUT_NAME} is empty (null)"
