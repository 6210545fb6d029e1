"""Fixture plugin: a real DNS server (dnslib's) on loopback with a zone the test edits.

It answers like a recursive resolver would: it follows CNAMEs within its zone and puts the whole
chain in the answer (unless `follow_cnames` is off, as an authoritative server does for targets
outside its zone). Names it does not know answer NXDOMAIN. `fail(name, mode)` makes a name answer
SERVFAIL or NXDOMAIN, or never answer at all ("timeout"), wherever it appears in a chain.
"""

from __future__ import annotations

import threading

import pytest
from dnslib import AAAA, CNAME, QTYPE, RCODE, RR, A, DNSError
from dnslib.server import DNSLogger, DNSServer

# Small enough that timeout tests take well under a second per attempt.
TEST_TIMEOUT = "0.2"
TEST_ATTEMPTS = "2"
TEST_BACKOFF = "0.01"
FAILURE_MODES = ("servfail", "timeout", "nxdomain")


def _key(name: str) -> str:
    return str(name).lower().rstrip(".")


class ZoneResolver:
    """The dnslib resolver: a zone held in memory, safe to edit while the server runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.follow_cnames = True
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self.cnames: dict[str, str] = {}
            self.records: dict[tuple[str, str], list[str]] = {}
            self.failures: dict[str, str] = {}
            self.failures_left: dict[str, int] = {}
            self.questions: list[tuple[str, str]] = []

    def resolve(self, request, handler):
        qname = _key(request.q.qname)
        qtype = QTYPE[request.q.qtype]
        reply = request.reply()
        with self._lock:
            self.questions.append((qname, qtype))
            name = qname
            for _ in range(16):
                failure = self._take_failure(name)
                if failure == "timeout":
                    # dnslib's handler sends nothing when the resolver raises DNSError.
                    raise DNSError(f"test server drops the query for {name}")
                if failure == "servfail":
                    reply = request.reply()
                    reply.header.rcode = RCODE.SERVFAIL
                    return reply
                if failure == "nxdomain":
                    reply.header.rcode = RCODE.NXDOMAIN
                    return reply
                if name in self.cnames and qtype != "CNAME":
                    target = self.cnames[name]
                    reply.add_answer(RR(name + ".", QTYPE.CNAME, rdata=CNAME(target + "."), ttl=60))
                    if not self.follow_cnames:
                        return reply
                    name = target
                    continue
                values = self.records.get((name, qtype))
                if values:
                    rdata = A if qtype == "A" else AAAA
                    for value in values:
                        reply.add_answer(
                            RR(name + ".", getattr(QTYPE, qtype), rdata=rdata(value), ttl=60)
                        )
                elif not self._known(name):
                    reply.header.rcode = RCODE.NXDOMAIN
                return reply
            reply.header.rcode = RCODE.SERVFAIL  # a CNAME loop
            return reply

    def _take_failure(self, name: str) -> str | None:
        if name in self.failures_left:
            if self.failures_left[name] == 0:
                return None
            self.failures_left[name] -= 1
        return self.failures.get(name)

    def _known(self, name: str) -> bool:
        return name in self.cnames or any(key[0] == name for key in self.records)


class LoopbackDnsServer:
    """UDP and TCP servers on one free loopback port sharing one `ZoneResolver`."""

    def __init__(self) -> None:
        self.zone = ZoneResolver()
        logger = DNSLogger(log="-request,-reply,-truncated,-error", prefix=False)
        # The kernel picks a free UDP port; TCP must then bind the same one, which another
        # process may hold, so a few fresh ports are tried.
        for _ in range(5):
            self._udp = DNSServer(self.zone, address="127.0.0.1", port=0, logger=logger)
            self.port = self._udp.server.server_address[1]
            try:
                self._tcp = DNSServer(
                    self.zone, address="127.0.0.1", port=self.port, tcp=True, logger=logger
                )
                break
            except OSError:
                self._udp.server.server_close()
        else:
            raise RuntimeError("no loopback port was free for both UDP and TCP")
        for server in (self._udp, self._tcp):
            # A short poll keeps stop() (which waits for one poll) from slowing every test.
            threading.Thread(
                target=server.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
            ).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """Variables that point `hubops.dns` (in this process or a child) at this server."""
        return {
            "HUBOPS_DNS_NAMESERVERS": self.address,
            "HUBOPS_DNS_TIMEOUT": TEST_TIMEOUT,
            "HUBOPS_DNS_ATTEMPTS": TEST_ATTEMPTS,
            "HUBOPS_DNS_BACKOFF": TEST_BACKOFF,
        }

    @property
    def follow_cnames(self) -> bool:
        return self.zone.follow_cnames

    @follow_cnames.setter
    def follow_cnames(self, value: bool) -> None:
        self.zone.follow_cnames = value

    @property
    def queries(self) -> list[str]:
        """Names asked, in order (lower case, no trailing dot)."""
        return [name for name, _ in self.zone.questions]

    @property
    def questions(self) -> list[tuple[str, str]]:
        """(name, record type) asked, in order."""
        return list(self.zone.questions)

    def set_cname(self, name: str, target: str) -> None:
        with self.zone._lock:
            self.zone.cnames[_key(name)] = _key(target)

    def set_a(self, name: str, *ips: str) -> None:
        self._set(name, "A", ips)

    def set_aaaa(self, name: str, *ips: str) -> None:
        self._set(name, "AAAA", ips)

    def _set(self, name: str, qtype: str, ips: tuple[str, ...]) -> None:
        with self.zone._lock:
            self.zone.records[(_key(name), qtype)] = list(ips)

    def fail(self, name: str, mode: str, times: int | None = None) -> None:
        """Make `name` fail in `mode`: for good, or for its next `times` queries only."""
        if mode not in FAILURE_MODES:
            raise ValueError(f"mode must be one of {FAILURE_MODES}, not {mode!r}")
        with self.zone._lock:
            self.zone.failures[_key(name)] = mode
            if times is not None:
                self.zone.failures_left[_key(name)] = times

    def clear(self) -> None:
        self.zone.clear()

    def stop(self) -> None:
        self._udp.stop()
        self._tcp.stop()
        self._udp.server.server_close()
        self._tcp.server.server_close()


@pytest.fixture
def dns_server(monkeypatch):
    """A DNS server on 127.0.0.1 that `hubops.dns.resolve` uses for the test's duration."""
    server = LoopbackDnsServer()
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    yield server
    server.stop()
