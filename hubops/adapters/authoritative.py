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

from hubops.adapters.dns import configured_resolver, normalise, resolve, retry_policy
from hubops.adapters.settings import number as number_setting
from hubops.facts import settings
from hubops.facts.dns_answer import DnsStatus, ServerAnswer, Zone
from hubops.facts.errors import HubopsError

PORT_VAR = settings.DNS_AUTHORITATIVE_PORT


class AuthoritativeError(HubopsError):
    """The zone's authoritative servers could not be found."""


def port() -> int:
    return int(number_setting(PORT_VAR))


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
            answers.append(
                ServerAnswer(host, None, DnsStatus.UNREACHABLE, reason="no address found")
            )
            continue
        answer = None
        for address in addresses:  # the first address that answers speaks for the server
            answer = _ask_server(host, address, server_port, domain)
            if answer.status not in (DnsStatus.TIMEOUT, DnsStatus.UNREACHABLE):
                break
        answers.append(answer)
    return answers


def _ask_server(host: str, address: str, server_port: int, domain: str) -> ServerAnswer:
    first = _query(host, address, server_port, domain, "A")
    if first.cname or first.status not in (DnsStatus.OK, DnsStatus.NO_ANSWER):
        return first
    # Addresses only (an alias record): AAAA too, since every address answered must be right.
    second = _query(host, address, server_port, domain, "AAAA")
    if second.status not in (DnsStatus.OK, DnsStatus.NO_ANSWER):
        return second
    if second.cname or first.status == second.status == DnsStatus.NO_ANSWER:
        return second if second.cname else first
    ttls = [t for t in (first.ttl, second.ttl) if t is not None]
    return ServerAnswer(
        host,
        address,
        DnsStatus.OK,
        None,
        first.addresses + second.addresses,
        max(ttls) if ttls else None,
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
            return ServerAnswer(host, address, DnsStatus.TIMEOUT)
        except OSError as exc:
            return ServerAnswer(
                host, address, DnsStatus.UNREACHABLE, reason=exc.strerror or str(exc)
            )
        except dns.exception.DNSException as exc:
            return ServerAnswer(host, address, DnsStatus.ERROR, reason=type(exc).__name__)
        rcode = response.rcode()
        if not response.flags & dns.flags.AA:
            return ServerAnswer(
                host,
                address,
                DnsStatus.NOT_AUTHORITATIVE,
                reason=f"rcode={dns.rcode.to_text(rcode)} without the AA flag",
            )
        if rcode == dns.rcode.NXDOMAIN:
            return ServerAnswer(host, address, DnsStatus.NXDOMAIN)
        if rcode != dns.rcode.NOERROR:
            return ServerAnswer(
                host, address, DnsStatus.ERROR, reason=f"rcode={dns.rcode.to_text(rcode)}"
            )
        for rrset in response.answer:
            if rrset.name == qname and rrset.rdtype == dns.rdatatype.CNAME:
                target = str(rrset[0].target).lower().rstrip(".")
                return ServerAnswer(host, address, DnsStatus.OK, cname=target, ttl=rrset.ttl)
        for rrset in response.answer:
            if rrset.name == qname and rrset.rdtype == dns.rdatatype.from_text(rdtype):
                found = tuple(sorted(str(r.address) for r in rrset))
                return ServerAnswer(host, address, DnsStatus.OK, addresses=found, ttl=rrset.ttl)
        return ServerAnswer(host, address, DnsStatus.NO_ANSWER)

    return _retrying(once, lambda answer: answer.status == DnsStatus.TIMEOUT)
