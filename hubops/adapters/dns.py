"""What DNS answers for a name: its CNAME chain and final addresses, resolved with dnspython.

`HUBOPS_DNS_NAMESERVERS` (comma separated `host` or `host:port`, IPv6 as `[::1]:53`) replaces the
system resolver. Timeouts and SERVFAIL are retried a bounded number of times (tenacity); NXDOMAIN
is authoritative and never retried. DNS failures are never raised: `resolve` returns them as a
status so that the routing verdict can fail closed. Only a malformed setting or name raises.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from hubops.adapters.settings import number as number_setting
from hubops.adapters.settings import raw as read_setting
from hubops.facts import settings
from hubops.facts.dns_answer import DnsAnswer, DnsStatus
from hubops.facts.errors import HubopsError

NAMESERVERS_VAR = settings.DNS_NAMESERVERS
TIMEOUT_VAR = settings.DNS_TIMEOUT  # seconds one try may take, per nameserver
ATTEMPTS_VAR = settings.DNS_ATTEMPTS  # tries per query before timeout/SERVFAIL is final
BACKOFF_VAR = settings.DNS_BACKOFF  # first wait between tries, doubled each time

# Statuses worth asking again: both are often a passing fault of a resolver or its upstream.
_TRANSIENT = frozenset({DnsStatus.TIMEOUT, DnsStatus.SERVFAIL})
_FAILED = frozenset({DnsStatus.ERROR, DnsStatus.SERVFAIL, DnsStatus.TIMEOUT})
# Worst first: how the A and AAAA outcomes combine into one status.
_SEVERITY = (
    DnsStatus.ERROR,
    DnsStatus.SERVFAIL,
    DnsStatus.TIMEOUT,
    DnsStatus.NXDOMAIN,
    DnsStatus.NO_ANSWER,
    DnsStatus.OK,
)
# CNAME hops followed across separate queries; a longer chain is treated as a loop.
_MAX_HOPS = 16


@dataclass(frozen=True)
class _Outcome:
    """The result of following one record type (A or AAAA) to its end."""

    status: DnsStatus
    chain: tuple[str, ...]
    addresses: frozenset[str]
    attempts: int
    reason: str = ""


def nameservers() -> list[tuple[str, int]] | None:
    """The servers named by `HUBOPS_DNS_NAMESERVERS`, or None to use the system resolver."""
    raw = read_setting(NAMESERVERS_VAR)
    if not raw:
        return None
    return [_parse_server(entry.strip(), raw) for entry in raw.split(",")]


def _parse_server(entry: str, raw: str) -> tuple[str, int]:
    host, port_text = entry, ""
    if entry.startswith("["):
        host, bracket, rest = entry[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise _malformed(entry, raw, "an IPv6 address with a port is written [::1]:53")
        port_text = rest[1:] if rest else ""
    elif entry.count(":") == 1:
        host, _, port_text = entry.partition(":")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise _malformed(entry, raw, "it is not an IP address") from None
    if entry.startswith("[") and address.version != 6:
        raise _malformed(entry, raw, "only IPv6 addresses go in brackets")
    if not port_text and entry.endswith(":"):
        raise _malformed(entry, raw, "the port is empty")
    port = 53
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise _malformed(entry, raw, "the port must be a number from 1 to 65535")
        port = int(port_text)
    return str(address), port


def _malformed(entry: str, raw: str, reason: str) -> HubopsError:
    return HubopsError(
        f"{NAMESERVERS_VAR}={raw!r} is malformed: {entry!r} is not usable ({reason}). "
        "Give comma-separated IP addresses with optional ports, e.g. 127.0.0.1:5353,[::1]:53, "
        "or unset it to use the system resolver."
    )


def _server_text(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def normalise(name: str) -> str:
    """`name` as every lookup uses it: lower case, no final dot; HubopsError when invalid."""
    import dns.name

    text = name.strip().lower().rstrip(".")
    try:
        if not text:
            raise dns.name.EmptyLabel
        dns.name.from_text(text)
    except Exception:  # dnspython raises one of several name errors
        raise HubopsError(
            f"{name!r} is not a valid DNS name: fix the `domain` in the environment's "
            "terraform.tfvars."
        ) from None
    return text


@dataclass(frozen=True)
class RetryPolicy:
    timeout: float  # seconds one try may take, per nameserver
    attempts: int
    backoff: float  # first wait between tries, doubled each time


def retry_policy() -> RetryPolicy:
    """The HUBOPS_DNS_TIMEOUT/ATTEMPTS/BACKOFF settings (a malformed one raises HubopsError)."""
    return RetryPolicy(
        timeout=number_setting(TIMEOUT_VAR),
        attempts=int(number_setting(ATTEMPTS_VAR)),
        backoff=number_setting(BACKOFF_VAR),
    )


def configured_resolver():
    """(resolver, its servers as text): the configured servers, no cache, the try timeout set.

    Raises dns.resolver.NoResolverConfiguration when there is no system resolver to use.
    """
    import dns.nameserver
    import dns.resolver

    servers = nameservers()
    timeout = retry_policy().timeout
    resolver = dns.resolver.Resolver(configure=servers is None)
    if servers is not None:
        resolver.nameservers = [dns.nameserver.Do53Nameserver(h, p) for h, p in servers]
    resolver.cache = None
    resolver.timeout = timeout
    # Each nameserver gets one per-try timeout before the try counts as timed out.
    resolver.lifetime = timeout * max(1, len(resolver.nameservers))
    server_text = (
        ",".join(
            _server_text(ns.address, ns.port)
            if isinstance(ns, dns.nameserver.Do53Nameserver)
            else str(ns)
            for ns in resolver.nameservers
        )
        or "system"
    )
    return resolver, server_text


def resolve(name: str) -> DnsAnswer:
    """What DNS answers for `name` (A and AAAA, following CNAMEs); never raises for DNS faults."""
    import dns.resolver

    policy = retry_policy()
    attempts, backoff = policy.attempts, policy.backoff
    domain = normalise(name)
    try:
        resolver, server_text = configured_resolver()
    except dns.resolver.NoResolverConfiguration:
        return _answer(
            domain, _Outcome(DnsStatus.ERROR, (), frozenset(), 0, "no-system-resolver"), "system"
        )

    outcomes = []
    for rdtype in ("A", "AAAA"):
        outcomes.append(_follow(resolver, domain, rdtype, attempts, backoff))
        if outcomes[-1].status in _FAILED:
            break  # the answer fails anyway; asking AAAA too would only double the wait
    return _answer(domain, _combine(outcomes), server_text)


def _combine(outcomes: list[_Outcome]) -> _Outcome:
    """One outcome for A and AAAA together: a failure of either wins (fail closed)."""
    chain = max((o.chain for o in outcomes), key=len)
    attempts = max(o.attempts for o in outcomes)
    failed = [o for o in outcomes if o.status in _FAILED]
    if failed:
        worst = min(failed, key=lambda o: _SEVERITY.index(o.status))
        return _Outcome(worst.status, chain, frozenset(), worst.attempts, worst.reason)
    addresses = frozenset().union(*(o.addresses for o in outcomes))
    if addresses:
        return _Outcome(DnsStatus.OK, chain, addresses, attempts)
    best = min(outcomes, key=lambda o: _SEVERITY.index(o.status))
    return _Outcome(best.status, chain, frozenset(), attempts, best.reason)


def _answer(domain: str, outcome: _Outcome, server_text: str) -> DnsAnswer:
    parts = [f"domain={domain}", f"status={outcome.status}"]
    if outcome.chain:
        parts.append("cname_chain=" + ",".join(outcome.chain))
    if outcome.addresses:
        parts.append("addresses=" + ",".join(sorted(outcome.addresses)))
    if outcome.reason:
        parts.append(f"reason={outcome.reason}")
    parts += [f"nameservers={server_text}", f"attempts={outcome.attempts}"]
    return DnsAnswer(
        status=outcome.status,
        cname_chain=list(outcome.chain),
        addresses=sorted(outcome.addresses),
        detail=" ".join(parts),
    )


def _follow(resolver, domain: str, rdtype: str, attempts: int, backoff: float) -> _Outcome:
    """Ask for `rdtype` and keep asking for the CNAME target while an answer stops at one."""
    chain: list[str] = []
    current = domain
    used = 0
    for _ in range(_MAX_HOPS):
        status, cnames, addresses, tries, reason = _ask(
            resolver, current, rdtype, attempts, backoff
        )
        used = max(used, tries)
        chain += cnames
        if status != DnsStatus.OK or addresses:
            return _Outcome(status, tuple(chain), addresses, used, reason)
        if not cnames:
            return _Outcome(DnsStatus.NO_ANSWER, tuple(chain), frozenset(), used)
        current = cnames[-1]
    return _Outcome(DnsStatus.ERROR, tuple(chain), frozenset(), used, "cname-loop")


def _ask(resolver, qname: str, rdtype: str, attempts: int, backoff: float):
    """One query under the retry policy: (status, cnames, addresses, tries, reason)."""
    import tenacity

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_result(lambda result: result[0] in _TRANSIENT),
        stop=tenacity.stop_after_attempt(attempts),
        wait=tenacity.wait_exponential(multiplier=backoff, max=backoff * 8),
        # After the last try, hand back its result instead of raising RetryError.
        retry_error_callback=lambda state: state.outcome.result(),
    )
    tries = 0

    def once():
        nonlocal tries
        tries += 1
        return _query(resolver, qname, rdtype)

    status, cnames, addresses, reason = retrying(once)
    return status, cnames, addresses, tries, reason


def _query(resolver, qname: str, rdtype: str):
    """(status, cnames, addresses, reason) of one query to the configured nameservers."""
    import dns.exception
    import dns.message
    import dns.rcode
    import dns.resolver

    try:
        answer = resolver.resolve(qname, rdtype, search=False, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN as exc:
        response = next(iter(exc.responses().values()), None)
        return DnsStatus.NXDOMAIN, _cnames(response) if response else [], frozenset(), ""
    except dns.resolver.LifetimeTimeout:
        return DnsStatus.TIMEOUT, [], frozenset(), ""
    except dns.resolver.NoNameservers as exc:
        rcodes = {
            error[4].rcode() for error in exc.kwargs.get("errors", []) if error[4] is not None
        }
        if dns.rcode.SERVFAIL in rcodes:
            return DnsStatus.SERVFAIL, [], frozenset(), ""
        reason = ",".join(sorted(dns.rcode.to_text(r) for r in rcodes)) or "unreachable"
        return DnsStatus.ERROR, [], frozenset(), reason
    except (dns.exception.DNSException, dns.message.ChainTooLong) as exc:
        return DnsStatus.ERROR, [], frozenset(), type(exc).__name__
    addresses = frozenset(str(r.address) for r in answer.rrset) if answer.rrset else frozenset()
    return DnsStatus.OK, _cnames(answer.response), addresses, ""


def _cnames(response) -> list[str]:
    """The CNAME targets a response walks through, in order."""
    try:
        chained = response.resolve_chaining()
    except Exception:  # a malformed chain yields no usable targets
        return []
    return [str(rrset[0].target).lower().rstrip(".") for rrset in chained.cnames]
