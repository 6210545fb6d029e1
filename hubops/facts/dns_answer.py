"""What DNS answered for a name, as records keep it: a status, the CNAME chain, the addresses.

One type for every DNS answer hubops judges: the configured resolver's
(`hubops.adapters.dns.resolve`), an authoritative server's seen as a resolver's
(`ServerAnswer.as_dns`), and the one a routing snapshot keeps. What each authoritative server of
a zone answered (`hubops.adapters.authoritative` asks them) is kept as `ZoneAnswers`.
Statuses are stored as their strings ("ok", "nxdomain", ...), so a record reads the same whichever
hubops wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class DnsStatus(StrEnum):
    OK = "ok"
    NXDOMAIN = "nxdomain"  # the name does not exist
    NO_ANSWER = "no-answer"  # it exists, without a CNAME, A or AAAA record
    SERVFAIL = "servfail"
    TIMEOUT = "timeout"
    ERROR = "error"
    # An authoritative server's alone (hubops.adapters.authoritative): none of its addresses could
    # be reached, or it answered without authority (a cache's answer, or a referral).
    UNREACHABLE = "unreachable"
    NOT_AUTHORITATIVE = "not-authoritative"


@dataclass
class DnsAnswer:
    status: DnsStatus
    cname_chain: list[str] = field(default_factory=list)  # CNAME targets in order, lower case
    addresses: list[str] = field(default_factory=list)  # A and AAAA of the final name, sorted
    detail: str = ""  # key=value diagnostics for logs and records

    @property
    def ok(self) -> bool:
        return self.status == DnsStatus.OK


# What an authoritative server may answer (it answered: it is reachable and knows the zone).
ANSWERED = frozenset({DnsStatus.OK, DnsStatus.NXDOMAIN, DnsStatus.NO_ANSWER})


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
    status: DnsStatus  # never SERVFAIL: a server that fails is an ERROR with its rcode
    cname: str | None = None
    addresses: tuple[str, ...] = ()
    ttl: int | None = None
    reason: str = ""

    @property
    def answered(self) -> bool:
        return self.status in ANSWERED

    def record_text(self, name: str) -> str:
        """The record as the server gives it, e.g. `hub.example.org CNAME x (TTL 300)`."""
        if self.status == DnsStatus.OK and self.cname:
            return f"{name} CNAME {self.cname} (TTL {self.ttl})"
        if self.status == DnsStatus.OK:
            return f"{name} A/AAAA {', '.join(self.addresses)} (TTL {self.ttl})"
        if self.status == DnsStatus.NXDOMAIN:
            return f"{name} does not exist (NXDOMAIN)"
        if self.status == DnsStatus.NO_ANSWER:
            return f"{name} has no CNAME, A or AAAA record"
        return f"no answer ({self.status}{': ' + self.reason if self.reason else ''})"

    def where(self) -> str:
        return f"{self.server} at {self.address or 'no address'}"

    def as_dns(self, name: str) -> DnsAnswer:
        """The answer in a routing snapshot's form, so the verdict can judge it."""
        detail = f"domain={name} status={self.status} authoritative={self.where()}"
        if self.reason:
            detail += f" reason={self.reason}"
        return DnsAnswer(
            status=self.status if self.status in ANSWERED else DnsStatus.ERROR,
            cname_chain=[self.cname] if self.cname else [],
            addresses=sorted(self.addresses),
            detail=detail,
        )


@dataclass(frozen=True)
class ZoneAnswers:
    """What every authoritative server of a zone answered (a restore record keeps it)."""

    zone: str  # its apex
    answers: tuple[ServerAnswer, ...]
