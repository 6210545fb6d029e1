"""What the zone's authoritative name servers answer for a name, asked directly, past every cache.

The zone is found through NS records: from the name up towards the root, the configured resolver
(`HUBOPS_DNS_NAMESERVERS`, else the system's) is asked for NS; the first name that has them is the
zone's apex. Each name server's addresses come from the same resolver; then each server is asked
for the name itself, without recursion (RD off), on port 53 (`HUBOPS_DNS_AUTHORITATIVE_PORT`
changes it, for a test's servers on loopback). Only an answer with the AA flag counts: anything
else is a cache's or a referral. Timeouts follow the HUBOPS_DNS_TIMEOUT/ATTEMPTS/BACKOFF policy.

DNS faults of one server are returned in its `ServerAnswer`; only what makes asking impossible
(no zone found, a malformed setting) raises `AuthoritativeError`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from hubops.adapters.dns import configured_resolver, normalise, resolve, retry_policy
from hubops.facts.errors import HubopsError
from hubops.facts.routing import DnsSeen

PORT_VAR = "HUBOPS_DNS_AUTHORITATIVE_PORT"
DEFAULT_PORT = 53
# What an authoritative server may answer (it answered: it is reachable and knows the zone).
ANSWERED = frozenset({"ok", "nxdomain", "no-answer"})


class AuthoritativeError(HubopsError):
    """The zone's authoritative servers could not be found."""


@dataclass(frozen=True)
class Zone:
    apex: str
    # (name server, its addresses), in the order the NS records came
    servers: tuple[tuple[str, tuple[str, ...]], ...]

    def describe(self) -> str:
        return ", ".join(
            f"{host} at {', '.join(addresses) or 'no address'}" for host, addresses in self.servers
        )


@dataclass(frozen=True)
class ServerAnswer:
    """What one authoritative server answered for the name."""

    server: str  # its host name
    address: str | None  # the address that answered (or the last one tried)
    # "ok" | "nxdomain" | "no-answer" | "timeout" | "unreachable" | "not-authoritative" | "error"
    status: str
    cname: str | None = None
    addresses: tuple[str, ...] = ()
    ttl: int | None = None
    reason: str = ""

    @property
    def answered(self) -> bool:
        return self.status in ANSWERED

    def record_text(self, name: str) -> str:
        """The record as the server gives it, e.g. `hub.example.org CNAME x (TTL 300)`."""
        if self.status == "ok" and self.cname:
            return f"{name} CNAME {self.cname} (TTL {self.ttl})"
        if self.status == "ok":
            return f"{name} A/AAAA {', '.join(self.addresses)} (TTL {self.ttl})"
        if self.status == "nxdomain":
            return f"{name} does not exist (NXDOMAIN)"
        if self.status == "no-answer":
            return f"{name} has no CNAME, A or AAAA record"
        return f"no answer ({self.status}{': ' + self.reason if self.reason else ''})"

    def where(self) -> str:
        return f"{self.server} at {self.address or 'no address'}"

    def as_dns(self, name: str) -> DnsSeen:
        """The answer in a routing snapshot's form, so the verdict can judge it."""
        detail = f"domain={name} status={self.status} authoritative={self.where()}"
        if self.reason:
            detail += f" reason={self.reason}"
        return DnsSeen(
            status=self.status if self.status in ANSWERED else "error",
            cname_chain=[self.cname] if self.cname else [],
            addresses=sorted(self.addresses),
            detail=detail,
        )


@dataclass(frozen=True)
class ZoneAnswers:
    """What every authoritative server of a zone answered (a restore record keeps it)."""

    zone: str  # its apex
    answers: tuple[ServerAnswer, ...]


def port() -> int:
    raw = os.environ.get(PORT_VAR, "").strip()
    if not raw:
        return DEFAULT_PORT
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise AuthoritativeError(
            f"{PORT_VAR}={raw!r} is malformed: give a port from 1 to 65535, or unset it to ask "
            f"the authoritative servers on port {DEFAULT_PORT}."
        )
    return int(raw)


def find_zone(name: str) -> Zone:
    """The zone holding `name` and its authoritative servers, found through NS records."""
    import dns.name
    import dns.resolver

    domain = normalise(name)
    try:
        resolver, server_text = configured_resolver()
    except dns.resolver.NoResolverConfiguration:
        raise AuthoritativeError(
            f"No resolver to find the name servers of {domain} with: this machine has no system "
            "resolver configured; set HUBOPS_DNS_NAMESERVERS."
        ) from None
    labels = domain.split(".")
    for start in range(len(labels)):
        candidate = ".".join(labels[start:])
        status, hosts = _ask_ns(resolver, candidate)
        if status == "ok":
            servers = tuple((host, _addresses(host)) for host in hosts)
            return Zone(apex=candidate, servers=servers)
        if status not in ("nxdomain", "no-answer"):
            raise AuthoritativeError(
                f"Could not find the authoritative name servers of {domain}: the resolver "
                f"({server_text}) gave no answer for the NS records of {candidate} ({status})."
            )
    raise AuthoritativeError(
        f"Could not find the authoritative name servers of {domain}: the resolver "
        f"({server_text}) has no NS records for it or any name above it."
    )


def _ask_ns(resolver, candidate: str) -> tuple[str, list[str]]:
    """("ok", name servers) when `candidate` is a zone's apex; else (why not, [])."""
    import dns.exception
    import dns.name
    import dns.rdatatype
    import dns.resolver

    qname = dns.name.from_text(candidate)

    def once():
        try:
            answer = resolver.resolve(qname, "NS", search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return "nxdomain", []
        except dns.resolver.LifetimeTimeout:
            return "timeout", []
        except dns.resolver.NoNameservers:
            return "servfail", []
        except dns.exception.DNSException as exc:
            return f"error: {type(exc).__name__}", []
        # A CNAME at the name leads elsewhere: only NS records owned by the name itself count.
        if answer.rrset is None or answer.rrset.name != qname:
            return "no-answer", []
        return "ok", sorted(str(r.target).lower().rstrip(".") for r in answer.rrset)

    return _retrying(once, lambda result: result[0] in ("timeout", "servfail"))


def _addresses(host: str) -> tuple[str, ...]:
    """A name server's addresses, IPv4 first (an IPv6 route is the likelier one to be missing)."""
    answer = resolve(host)
    return tuple(sorted(answer.addresses, key=lambda a: (":" in a, a)))


def _retrying(once, transient):
    import tenacity

    policy = retry_policy()
    return tenacity.Retrying(
        retry=tenacity.retry_if_result(transient),
        stop=tenacity.stop_after_attempt(policy.attempts),
        wait=tenacity.wait_exponential(multiplier=policy.backoff, max=policy.backoff * 8),
        retry_error_callback=lambda state: state.outcome.result(),
    )(once)


def ask(zone: Zone, name: str) -> list[ServerAnswer]:
    """What each of the zone's servers answers for `name`, asked directly and without recursion."""
    domain = normalise(name)
    server_port = port()
    answers = []
    for host, addresses in zone.servers:
        if not addresses:
            answers.append(ServerAnswer(host, None, "unreachable", reason="no address found"))
            continue
        answer = None
        for address in addresses:  # the first address that answers speaks for the server
            answer = _ask_server(host, address, server_port, domain)
            if answer.status not in ("timeout", "unreachable"):
                break
        answers.append(answer)
    return answers


def _ask_server(host: str, address: str, server_port: int, domain: str) -> ServerAnswer:
    first = _query(host, address, server_port, domain, "A")
    if first.cname or first.status not in ("ok", "no-answer"):
        return first
    # Addresses only (an alias record): AAAA too, since every address answered must be right.
    second = _query(host, address, server_port, domain, "AAAA")
    if second.status not in ("ok", "no-answer"):
        return second
    if second.cname or first.status == second.status == "no-answer":
        return second if second.cname else first
    ttls = [t for t in (first.ttl, second.ttl) if t is not None]
    return ServerAnswer(
        host, address, "ok", None, first.addresses + second.addresses, max(ttls) if ttls else None
    )


def _query(host: str, address: str, server_port: int, domain: str, rdtype: str) -> ServerAnswer:
    import dns.exception
    import dns.flags
    import dns.message
    import dns.name
    import dns.query
    import dns.rcode
    import dns.rdatatype

    timeout = retry_policy().timeout
    qname = dns.name.from_text(domain)

    def once() -> ServerAnswer:
        query = dns.message.make_query(qname, rdtype)
        query.flags &= ~dns.flags.RD  # the server's own data, never what it may have cached
        try:
            response, _ = dns.query.udp_with_fallback(
                query, address, timeout=timeout, port=server_port
            )
        except dns.exception.Timeout:
            return ServerAnswer(host, address, "timeout")
        except OSError as exc:
            return ServerAnswer(host, address, "unreachable", reason=exc.strerror or str(exc))
        except dns.exception.DNSException as exc:
            return ServerAnswer(host, address, "error", reason=type(exc).__name__)
        rcode = response.rcode()
        if not response.flags & dns.flags.AA:
            return ServerAnswer(
                host,
                address,
                "not-authoritative",
                reason=f"rcode={dns.rcode.to_text(rcode)} without the AA flag",
            )
        if rcode == dns.rcode.NXDOMAIN:
            return ServerAnswer(host, address, "nxdomain")
        if rcode != dns.rcode.NOERROR:
            return ServerAnswer(host, address, "error", reason=f"rcode={dns.rcode.to_text(rcode)}")
        for rrset in response.answer:
            if rrset.name == qname and rrset.rdtype == dns.rdatatype.CNAME:
                target = str(rrset[0].target).lower().rstrip(".")
                return ServerAnswer(host, address, "ok", cname=target, ttl=rrset.ttl)
        for rrset in response.answer:
            if rrset.name == qname and rrset.rdtype == dns.rdatatype.from_text(rdtype):
                found = tuple(sorted(str(r.address) for r in rrset))
                return ServerAnswer(host, address, "ok", addresses=found, ttl=rrset.ttl)
        return ServerAnswer(host, address, "no-answer")

    return _retrying(once, lambda answer: answer.status == "timeout")
