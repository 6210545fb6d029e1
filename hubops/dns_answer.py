"""What DNS answered for a name, as records keep it: a status, the CNAME chain, the addresses.

One type for every DNS answer hubops judges: the configured resolver's (`hubops.dns.resolve`), an
authoritative server's seen as a resolver's (`hubops.authoritative.ServerAnswer.as_dns`), and the
one a routing snapshot keeps. Statuses are stored as their strings ("ok", "nxdomain", ...), so a
record reads the same whichever hubops wrote it.
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
    # An authoritative server's alone (hubops.authoritative): none of its addresses could be
    # reached, or it answered without authority (a cache's answer, or a referral).
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
