"""The routing snapshot: where the hub's traffic goes at one moment.

It holds the load balancer(s) AWS has for the hub's public proxy service and, where the tree owns
the hub's front door (an application load balancer, `front_door` "both" or "alb"), that one, read
from the root module's output hub_front_door_dns_name (else found by the tree's tag); what their
hostnames resolve to, the hostname the root module outputs (a cross-check, where it is exposed),
and what DNS answers for the hub's domain. Taking a snapshot never raises for AWS, DNS or tofu
faults: they are recorded in `errors`, and the verdict treats anything unverified as changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hubops.adapters.clock import now
from hubops.facts.environments import Environment
from hubops.facts.errors import HubopsError
from hubops.adapters.loadbalancer import LoadBalancer

OUTPUT_NAME = "hub_load_balancer_hostname"
# The hub's own front door (modules/edge), where the environment has one.
FRONT_DOOR_OUTPUT = "hub_front_door_dns_name"
SERVICE, BOTH, ALB = "service", "both", "alb"


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
    # The hub's own application load balancer(s) (modules/edge), found by the root module's output
    # hub_front_door_dns_name where the state was read, else by the tree's tag; `load_balancers`
    # are then the proxy Service's only.
    front_doors: list[LoadBalancer] = field(default_factory=list)
    # What the output hub_front_door_dns_name said (None: no output, null, or tofu not asked).
    front_door_output: str | None = None

    @property
    def service_hostnames(self) -> list[str]:
        return [lb.hostname for lb in self.load_balancers]

    @property
    def front_door_hostnames(self) -> list[str]:
        return [lb.hostname for lb in self.front_doors]

    @property
    def phase(self) -> str:
        """Which front door serves: the Service's load balancer, both, or the tree's ALB alone."""
        if not self.front_doors and not self.front_door_output:
            return SERVICE
        return BOTH if self.load_balancers else ALB

    @property
    def hostnames(self) -> list[str]:
        """The load balancer(s) serving the hub: what its address must point at.

        The Service's or the front door, whichever alone exists. With both (the migration) the
        one DNS points at; where DNS points at neither, the Service's (DNS has not been switched
        yet, as far as anything shows), and without a domain the front door.
        """
        return self.serving(prefer_front_door=False)

    def serving(self, prefer_front_door: bool) -> list[str]:
        """`hostnames`, with the door to take when DNS points at neither of both."""
        if self.phase == SERVICE:
            return self.service_hostnames
        if self.phase == ALB or self.dns is None:
            return self.front_door_hostnames
        if self.dns_points_at_any(self.front_door_hostnames):
            return self.front_door_hostnames
        if self.dns_points_at_any(self.service_hostnames) or not prefer_front_door:
            return self.service_hostnames
        return self.front_door_hostnames

    def dns_points_at_any(self, hostnames: list[str]) -> bool:
        """Whether DNS for the domain names one of these (by CNAME, else by every address)."""
        if self.dns is None or not hostnames:
            return False
        if self.dns.cname_chain:
            return any(h in self.dns.cname_chain for h in hostnames)
        answered = set(self.dns.addresses)
        return bool(answered) and any(
            answered <= set(self.load_balancer_addresses.get(h, [])) for h in hostnames
        )


def take_snapshot(env: Environment, tofu=None) -> Snapshot:
    """Record the routing facts now. `tofu`, when given and initialised, adds the output check."""
    from hubops.adapters import dns
    from hubops.adapters.loadbalancer import find_hub_routing

    snapshot = Snapshot(taken_at=now(), domain=env.domain)
    outputs = None
    if tofu is not None and tofu.initialised:
        try:
            outputs = tofu.outputs()
        except HubopsError as exc:
            snapshot.errors.append(f"tofu output failed: {exc}")
        else:
            door = outputs.values.get(FRONT_DOOR_OUTPUT)
            if isinstance(door, str) and door.strip():
                snapshot.front_door_output = door.strip().lower().rstrip(".")

    try:
        found, doors = find_hub_routing(env, snapshot.front_door_output)
    except HubopsError as exc:
        snapshot.lookup_error = str(exc)
        snapshot.errors.append(f"load balancer lookup failed: {exc}")
    else:
        snapshot.load_balancers = list(found)
        snapshot.front_doors = list(doors)
        for lb in [*found, *doors]:
            answer = dns.resolve(lb.hostname)
            snapshot.load_balancer_addresses[lb.hostname] = sorted(answer.addresses)

    if outputs is not None:
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
