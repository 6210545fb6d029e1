"""The routing snapshot: where the hub's traffic goes at one moment.

It holds the load balancer(s) AWS has for the hub's public proxy service, what their hostnames
resolve to, the hostname the root module outputs (a cross-check, where it is exposed), and what
DNS answers for the hub's domain. Taking a snapshot never raises for AWS, DNS or tofu faults:
they are recorded in `errors`, and the verdict treats anything unverified as changed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from hubops.environments import Environment
from hubops.errors import HubopsError
from hubops.records import now

OUTPUT_NAME = "hub_load_balancer_hostname"


@dataclass
class Snapshot:
    taken_at: str
    load_balancers: list[dict] = field(default_factory=list)
    # hostname -> its resolved addresses (for comparing by address where DNS has no CNAME)
    load_balancer_addresses: dict[str, list[str]] = field(default_factory=dict)
    output_hostname: str | None = None
    # Names of the root module's outputs in the state; [] for a state never applied, None unknown.
    state_outputs: list[str] | None = None
    domain: str | None = None
    dns: dict | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def hostnames(self) -> list[str]:
        return [lb["hostname"] for lb in self.load_balancers]

    def to_dict(self) -> dict:
        return asdict(self)


def take_snapshot(env: Environment, tofu=None) -> Snapshot:
    """Record the routing facts now. `tofu`, when given and initialised, adds the output check."""
    from hubops import dns
    from hubops.loadbalancer import find_hub_load_balancers

    snapshot = Snapshot(taken_at=now(), domain=env.domain)
    try:
        found = find_hub_load_balancers(env)
    except HubopsError as exc:
        snapshot.errors.append(f"load balancer lookup failed: {exc}")
    else:
        snapshot.load_balancers = [
            {"hostname": lb.hostname, "kind": lb.kind, "name": lb.name, "identifier": lb.identifier}
            for lb in found
        ]
        for lb in found:
            answer = dns.resolve(lb.hostname)
            snapshot.load_balancer_addresses[lb.hostname] = sorted(answer.addresses)

    if tofu is not None and tofu.initialised:
        try:
            outputs = tofu.outputs()
        except HubopsError as exc:
            snapshot.errors.append(f"tofu output failed: {exc}")
        else:
            snapshot.state_outputs = sorted(outputs)
            value = outputs.get(OUTPUT_NAME)
            snapshot.output_hostname = value.lower().rstrip(".") if value else None

    if env.domain:
        answer = dns.resolve(env.domain)
        snapshot.dns = {
            "status": answer.status,
            "cname_chain": list(answer.cname_chain),
            "addresses": sorted(answer.addresses),
            "detail": answer.detail,
        }
    return snapshot
