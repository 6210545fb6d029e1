"""The verdict: does the hub's routing still hold? Fail closed: whatever is unverified is changed.

Routing holds when exactly one load balancer serves the hub, it is the one from before, the
root module's output (where exposed) names it too (with both front doors up, the migration, DNS
may point at either: the one it points at serves), and, for an environment with a domain, DNS
points at it: by CNAME target where the answer has a CNAME chain (ELB addresses rotate), by
address otherwise (alias records answer with addresses only): every address DNS answers must be
one of the load balancer's, or the users sent to the others hit a dead address.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hubops.facts.dns_answer import DnsAnswer, DnsStatus
from hubops.facts.environments import Environment
from hubops.facts.outcome import Outcome
from hubops.facts.routing import ALB, BOTH, Snapshot


@dataclass
class Verdict:
    changed: bool
    findings: list[str] = field(default_factory=list)
    old_hostname: str | None = None
    new_hostname: str | None = None
    dns_record: str | None = None
    # AWS could not be asked for the load balancer: why (the routing itself is unknown).
    lookup_error: str | None = None
    # With both front doors up (the migration): which one serves, and that the other answers too.
    doors: str | None = None

    @property
    def outcome(self) -> Outcome:
        """The check's outcome (dns-check, drift): AWS not asked is no routing found wrong."""
        if self.lookup_error:
            return Outcome.COULD_NOT_LOOK
        return Outcome.ROUTING_CHANGED if self.changed else Outcome.OK

    def lines(self, env: Environment) -> list[str]:
        """What the operator must read: the findings, then what to do about them."""
        lines = [self.headline(env)]
        lines += [f"  - {finding}" for finding in self.findings]
        if self.dns_record:
            lines.append("Set this DNS record by hand so that users can log in:")
            lines.append(f"  {self.dns_record}")
        elif advice := self.advice(env):
            lines.append(advice)
        return lines

    def headline(self, env: Environment) -> str:
        """The verdict in one sentence (the findings follow it where the routing changed)."""
        if not self.changed:
            return (
                f"Routing unchanged: {env.name} is served by {self.new_hostname}"
                + (f" and {env.domain} points at it." if env.domain else ".")
                + (f" {self.doors}" if self.doors else "")
            )
        return f"Routing changed or could not be verified for {env.name}:"

    def advice(self, env: Environment) -> str | None:
        """What to do about a changed routing that has no DNS record to set (None: nothing)."""
        if not self.changed or self.dns_record:
            return None
        if self.lookup_error:
            return (
                f"AWS could not be asked which load balancer serves the hub: fix the AWS access "
                f"named above (`invoke whoami --env {env.name}`), then run "
                f"`invoke dns-check --env {env.name}`."
            )
        if env.domain:
            return (
                f"No single load balancer to point {env.domain} at: check the hub's service with "
                f"`kubectl -n {env.hub_namespace} get service {env.hub_service}`, then run "
                f"`invoke dns-check --env {env.name}`."
            )
        if self.new_hostname:
            return f"The hub's address is now http://{self.new_hostname}"
        return None


def routing_problems(env: Environment, snapshot: Snapshot) -> list[str]:
    """Why routing cannot be trusted at the moment of this snapshot (empty: it can)."""
    return _problems(env, snapshot, snapshot.hostnames)


def _problems(env: Environment, snapshot: Snapshot, hostnames: list[str]) -> list[str]:
    problems = [f"could not verify: {error}" for error in snapshot.errors]
    where = f"service={env.service_tag} cluster={env.cluster_name} region={env.region}"
    if snapshot.front_door_output and not snapshot.front_doors and not snapshot.errors:
        problems.append(
            f"tofu output hub_front_door_dns_name={snapshot.front_door_output} names no load "
            f"balancer in AWS (region={env.region})"
        )
    elif not hostnames and not snapshot.errors:
        problems.append(f"no load balancer found for the hub ({where})")
    elif len(hostnames) > 1:
        tagged = "front doors" if hostnames == snapshot.front_door_hostnames else "load balancers"
        problems.append(
            f"{len(hostnames)} {tagged} are tagged for the hub ({', '.join(hostnames)}); "
            "cannot tell which one serves it"
        )
    if len(hostnames) != 1:
        return problems
    hostname = hostnames[0]
    # With both front doors up the output names the Service's until the front door alone serves,
    # while DNS may already point at the front door: either agrees.
    agreeing = (
        [*snapshot.service_hostnames, *snapshot.front_door_hostnames]
        if snapshot.phase == BOTH
        else [hostname]
    )
    if snapshot.output_hostname and snapshot.output_hostname not in agreeing:
        problems.append(
            f"tofu output hub_load_balancer_hostname={snapshot.output_hostname} disagrees with "
            f"AWS (load balancer {hostname})"
        )
    if env.domain:
        problems.extend(_dns_problems(env.domain, snapshot, hostname))
    return problems


def _also(snapshot: Snapshot, hostname: str) -> str:
    """With both front doors up: the other door DNS could point at instead, as words."""
    if snapshot.phase != BOTH:
        return ""
    if hostname in snapshot.front_door_hostnames:
        others = snapshot.service_hostnames
        return f" (the front door) nor at the Service's load balancer {', '.join(others)}"
    others = snapshot.front_door_hostnames
    return f" (the Service's) nor at the front door {', '.join(others)}"


def _dns_problems(domain: str, snapshot: Snapshot, hostname: str) -> list[str]:
    dns = snapshot.dns or DnsAnswer(DnsStatus.ERROR, detail=f"domain={domain} status=not-resolved")
    chain = dns.cname_chain
    # A CNAME to the wrong name is wrong whether or not that name still resolves.
    if chain and hostname not in chain:
        return [
            f"DNS for {domain} points at {chain[0]}, not at the load balancer {hostname}"
            + _also(snapshot, hostname)
        ]
    if not dns.ok:
        return [f"DNS for {domain} could not be verified: {dns.detail}"]
    if chain:
        return []
    lb_addresses = set(snapshot.load_balancer_addresses.get(hostname, []))
    if not lb_addresses:
        return [
            f"DNS for {domain} answers addresses only, and the load balancer {hostname} did not "
            "resolve, so they cannot be compared"
        ]
    answered = set(dns.addresses)
    stray = sorted(answered - lb_addresses)
    if not stray:
        return []
    if len(stray) == len(answered):
        return [
            f"DNS for {domain} answers {', '.join(dns.addresses)}, none of them an address of "
            f"the load balancer {hostname} ({', '.join(sorted(lb_addresses))})"
        ]
    return [
        f"DNS for {domain} answers {', '.join(dns.addresses)}, of which {', '.join(stray)} "
        f"{'is not an address' if len(stray) == 1 else 'are not addresses'} of the load balancer "
        f"{hostname} ({', '.join(sorted(lb_addresses))}): the users sent there cannot reach the hub"
    ]


def _single(hostnames: list[str]) -> str | None:
    return hostnames[0] if len(hostnames) == 1 else None


def decide(env: Environment, before: Snapshot, after: Snapshot) -> Verdict:
    """Compare the routing after a run with the routing before it."""
    old = _single(before.hostnames)
    # Where DNS points at neither door, the door that served before is the one to compare.
    serving = after.serving(prefer_front_door=old in before.front_door_hostnames)
    new = _single(serving)
    findings = []
    if old and new and old != new:
        findings.append(f"load balancer replaced: was {old}, now {new}")
    elif old and not after.hostnames and not after.errors:
        findings.append(f"load balancer vanished: {old} is gone")
    elif new and not before.hostnames and not before.errors:
        findings.append(f"load balancer appeared: {new}")
    findings += _problems(env, after, serving)
    verdict = Verdict(
        changed=bool(findings),
        findings=findings,
        old_hostname=old,
        new_hostname=new,
        lookup_error=after.lookup_error,
        doors=_doors(after, new),
    )
    if verdict.changed and env.domain and new:
        was = _current_target(before, after, new)
        verdict.dns_record = f"{env.domain} CNAME {new}  (was {was})"
    return verdict


def _doors(snapshot: Snapshot, serving: str | None) -> str | None:
    """Which front door serves, said where it is not obvious: with both up, or the tree's alone."""
    if serving is None:
        return None
    if snapshot.phase == ALB:
        return "(It is the hub's front door, the tree's application load balancer.)"
    if snapshot.phase != BOTH:
        return None
    if serving in snapshot.front_door_hostnames:
        return (
            "It is the hub's front door (the tree's application load balancer); the Service's "
            f"load balancer {', '.join(snapshot.service_hostnames)} still answers too."
        )
    return (
        "It is the Service's load balancer; the hub's front door "
        f"{', '.join(snapshot.front_door_hostnames)} answers too (switch DNS to it when tested)."
    )


def _current_target(before: Snapshot, after: Snapshot, new: str) -> str:
    """What the record must be changed from: the replaced load balancer, else what DNS answers."""
    old = _single(before.hostnames)
    if old and old != new:
        return old
    dns = after.dns or DnsAnswer(DnsStatus.ERROR)
    if dns.cname_chain:
        return dns.cname_chain[0]
    if dns.status == DnsStatus.NXDOMAIN:
        return "not set"
    return ", ".join(dns.addresses) or "unknown"


def check(env: Environment, snapshot: Snapshot) -> Verdict:
    """The verdict on one snapshot alone (dns-check, status)."""
    return decide(env, snapshot, snapshot)
