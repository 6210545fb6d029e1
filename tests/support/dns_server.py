"""Fixture plugin: a real DNS server (dnslib's) on loopback with a zone the test edits.

It answers like a recursive resolver would: it follows CNAMEs within its zone and puts the whole
chain in the answer (unless `follow_cnames` is off, as an authoritative server does for targets
outside its zone). Names it does not know answer NXDOMAIN. `fail(name, mode)` makes a name answer
SERVFAIL or NXDOMAIN, or never answer at all ("timeout"), wherever it appears in a chain.

The `authoritative_dns` fixture adds the world `dns-check --wait` lives in: an authoritative server
for the hub's zone (`example.org`: its NS records, the AA flag, no CNAME chasing), and in front of
it a caching resolver that everything else asks, which keeps serving the first answer it got for
good. `HUBOPS_DNS_AUTHORITATIVE_PORT` sends hubops's direct questions to the authoritative server's
port (its NS records name 127.0.0.1, and 127.0.0.2 for a second one).
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass

import pytest
from dnslib import AAAA, CNAME, NS, QTYPE, RCODE, RR, A, DNSError, DNSRecord
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

    def __init__(self, authoritative: bool = False) -> None:
        self._lock = threading.Lock()
        # An authoritative server sets the AA flag and answers only from its zone: a CNAME to a
        # name outside it is the whole answer.
        self.authoritative = authoritative
        self.follow_cnames = not authoritative
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self.cnames: dict[str, str] = {}
            self.records: dict[tuple[str, str], list[str]] = {}
            self.ttls: dict[tuple[str, str], int] = {}
            self.failures: dict[str, str] = {}
            self.failures_left: dict[str, int] = {}
            self.questions: list[tuple[str, str]] = []

    def resolve(self, request, handler):
        qname = _key(request.q.qname)
        qtype = QTYPE[request.q.qtype]
        reply = request.reply()
        reply.header.aa = int(self.authoritative)
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
                    ttl = self.ttls.get((name, "CNAME"), 60)
                    reply.add_answer(
                        RR(name + ".", QTYPE.CNAME, rdata=CNAME(target + "."), ttl=ttl)
                    )
                    if not self.follow_cnames:
                        return reply
                    name = target
                    continue
                values = self.records.get((name, qtype))
                if values:
                    rdata = {"A": A, "AAAA": AAAA, "NS": lambda host: NS(host + ".")}[qtype]
                    ttl = self.ttls.get((name, qtype), 60)
                    for value in values:
                        reply.add_answer(
                            RR(name + ".", getattr(QTYPE, qtype), rdata=rdata(value), ttl=ttl)
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


class CachingResolver:
    """A caching resolver: asks upstream once per (name, type), then answers from its cache for
    good, however the upstream's records change (a TTL far longer than the test)."""

    def __init__(self, upstream: tuple[str, int], zones: dict[str, tuple[str, int]]) -> None:
        self._lock = threading.Lock()
        self.upstream = upstream
        self.zones = zones  # zone -> the server to ask for names in it
        self.cache: dict[tuple[str, str], DNSRecord] = {}
        self.questions: list[tuple[str, str]] = []

    def _server_for(self, name: str) -> tuple[str, int]:
        for zone, server in self.zones.items():
            if name == zone or name.endswith("." + zone):
                return server
        return self.upstream

    def resolve(self, request, handler):
        qname = _key(request.q.qname)
        qtype = QTYPE[request.q.qtype]
        with self._lock:
            self.questions.append((qname, qtype))
            cached = self.cache.get((qname, qtype))
        if cached is None:
            host, port = self._server_for(qname)
            try:
                raw = request.send(host, port, timeout=1)
            except OSError as exc:  # upstream silent: so is the cache
                raise DNSError(f"upstream {host}:{port} did not answer: {exc}") from None
            cached = DNSRecord.parse(raw)
            cached.header.aa = 0  # a resolver's answer is never authoritative
            cached.header.ra = 1
            if cached.header.rcode in (RCODE.NOERROR, RCODE.NXDOMAIN):
                with self._lock:
                    self.cache[(qname, qtype)] = cached
        reply = DNSRecord.parse(cached.pack())
        reply.header.id = request.header.id
        return reply


class LoopbackDnsServer:
    """UDP and TCP servers on one free loopback port sharing one resolver (a `ZoneResolver`
    unless another is given)."""

    def __init__(
        self, resolver=None, *, address: str = "127.0.0.1", port: int = 0, authoritative=False
    ) -> None:
        self.zone = resolver if resolver is not None else ZoneResolver(authoritative)
        self.host = address
        logger = DNSLogger(log="-request,-reply,-truncated,-error", prefix=False)
        # The kernel picks a free UDP port; TCP must then bind the same one, which another
        # process may hold, so a few fresh ports are tried.
        for _ in range(5 if port == 0 else 1):
            self._udp = DNSServer(self.zone, address=address, port=port, logger=logger)
            self.port = self._udp.server.server_address[1]
            try:
                self._tcp = DNSServer(
                    self.zone, address=address, port=self.port, tcp=True, logger=logger
                )
                break
            except OSError:
                self._udp.server.server_close()
        else:
            raise RuntimeError(f"no port was free on {address} for both UDP and TCP")
        for server in (self._udp, self._tcp):
            # A short poll keeps stop() (which waits for one poll) from slowing every test.
            threading.Thread(
                target=server.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
            ).start()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """Variables pointing `hubops.adapters.dns` (in this process or a child) at this server."""
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

    def set_cname(self, name: str, target: str, ttl: int = 60) -> None:
        with self.zone._lock:
            self.zone.cnames[_key(name)] = _key(target)
            self.zone.ttls[(_key(name), "CNAME")] = ttl

    def set_a(self, name: str, *ips: str, ttl: int = 60) -> None:
        self._set(name, "A", ips, ttl)

    def set_aaaa(self, name: str, *ips: str, ttl: int = 60) -> None:
        self._set(name, "AAAA", ips, ttl)

    def set_ns(self, zone: str, *hosts: str) -> None:
        self._set(zone, "NS", tuple(_key(host) for host in hosts), 3600)

    def remove(self, name: str) -> None:
        """`name` no longer has any record (its CNAME, addresses, ...)."""
        with self.zone._lock:
            self.zone.cnames.pop(_key(name), None)
            for key in [key for key in self.zone.records if key[0] == _key(name)]:
                del self.zone.records[key]

    def _set(self, name: str, qtype: str, values: tuple[str, ...], ttl: int) -> None:
        with self.zone._lock:
            self.zone.records[(_key(name), qtype)] = list(values)
            self.zone.ttls[(_key(name), qtype)] = ttl

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


# Its tests start a part of the world (tests/support/tiers.py).
FIXTURE_MARKS = {"dns_server": "world"}


@pytest.fixture
def dns_server(monkeypatch):
    """A DNS server on 127.0.0.1 that `hubops.adapters.dns.resolve` uses for the test's duration."""
    server = LoopbackDnsServer()
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    yield server
    server.stop()


AUTHORITATIVE_ZONE = "example.org"


def free_port(address: str = "127.0.0.1") -> int:
    """A UDP port nothing listens on at `address` now (for a server that does not answer)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


@dataclass
class AuthoritativeDns:
    """The hub's zone at its authoritative server(s), and the caching resolver everyone asks."""

    zone: str
    server: LoopbackDnsServer  # ns1.example.org, at 127.0.0.1
    cache: LoopbackDnsServer
    internet: LoopbackDnsServer  # everything outside the zone (the load balancers' names)
    second: LoopbackDnsServer | None = None  # ns2.example.org, at 127.0.0.2, once added

    @property
    def servers(self) -> list[LoopbackDnsServer]:
        return [self.server] + ([self.second] if self.second else [])

    def set_cname(self, name: str, target: str, ttl: int = 60) -> None:
        """Change the record at every authoritative server (as a DNS provider's console does)."""
        for server in self.servers:
            server.set_cname(name, target, ttl)

    def add_second_server(self) -> LoopbackDnsServer:
        """ns2.example.org on 127.0.0.2, same port, a copy of the zone as it is now."""
        self.second = LoopbackDnsServer(address="127.0.0.2", port=self.server.port)
        self.second.zone.authoritative, self.second.zone.follow_cnames = True, False
        with self.server.zone._lock:
            self.second.zone.cnames = dict(self.server.zone.cnames)
            self.second.zone.records = {k: list(v) for k, v in self.server.zone.records.items()}
            self.second.zone.ttls = dict(self.server.zone.ttls)
        for server in self.servers:
            server.set_ns(self.zone, "ns1." + self.zone, "ns2." + self.zone)
            server.set_a("ns2." + self.zone, "127.0.0.2")
        return self.second

    def expire(self) -> None:
        """The caching resolver forgets every answer, as when their TTLs have run out."""
        with self.cache.zone._lock:
            self.cache.zone.cache.clear()

    @property
    def cached(self) -> list[tuple[str, str]]:
        """(name, type) the caching resolver holds an answer for."""
        return sorted(self.cache.zone.cache)

    def stop(self) -> None:
        for server in [self.cache, *self.servers]:
            server.stop()


def authoritative_world(internet: LoopbackDnsServer) -> AuthoritativeDns:
    """example.org at an authoritative server, a caching resolver in front of it and `internet`
    (everything outside the zone). Ask the cache; send direct questions to the server's port."""
    server = LoopbackDnsServer(authoritative=True)
    server.set_ns(AUTHORITATIVE_ZONE, "ns1." + AUTHORITATIVE_ZONE)
    server.set_a("ns1." + AUTHORITATIVE_ZONE, "127.0.0.1")
    cache = LoopbackDnsServer(
        CachingResolver(
            upstream=("127.0.0.1", internet.port),
            zones={AUTHORITATIVE_ZONE: ("127.0.0.1", server.port)},
        )
    )
    return AuthoritativeDns(AUTHORITATIVE_ZONE, server, cache, internet)


@pytest.fixture
def authoritative_dns(dns_server, monkeypatch):
    """example.org served by an authoritative server, asked through a caching resolver.

    `dns_server` stays the rest of the world; hubops's resolver is now the cache in front of both.
    """
    world = authoritative_world(dns_server)
    monkeypatch.setenv("HUBOPS_DNS_NAMESERVERS", world.cache.address)
    monkeypatch.setenv("HUBOPS_DNS_AUTHORITATIVE_PORT", str(world.server.port))
    yield world
    world.stop()
