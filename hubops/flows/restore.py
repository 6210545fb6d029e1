"""After exit 3: wait until the zone's authoritative servers point the hub's name at its load
balancer, then record that the routing is restored (closing the open incident).

Each look asks AWS for the hub's load balancer and every authoritative server of the domain's
zone (`hubops.adapters.authoritative`) for the record; the verdict's own comparison judges each
server's answer. Routing is restored when every server answers and every answer points at the one
load balancer. Looks repeat every `interval` seconds until `timeout`; a look where AWS could not be
asked, or no authoritative server answered, ends the wait at once (`CouldNotLook`): nothing is
known, and waiting would not tell.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hubops.adapters import authoritative
from hubops.adapters.clock import now
from hubops.adapters.git import git
from hubops.adapters.records import operator
from hubops.adapters.routing_probe import take_snapshot
from hubops.facts.dns_answer import ServerAnswer, Zone, ZoneAnswers
from hubops.facts.environments import Environment
from hubops.facts.errors import HubopsError
from hubops.facts.routing import Snapshot
from hubops.facts.run_record import Incident, RestoreRecord
from hubops.facts.verdict import EXIT_OK, Verdict, routing_problems

DEFAULT_TIMEOUT = 600.0
DEFAULT_INTERVAL = 10.0


class CouldNotLook(HubopsError):
    """AWS could not be asked, or no authoritative server answered: nothing is known."""


@dataclass
class Look:
    """One look at the routing, DNS as the zone's authoritative servers give it."""

    snapshot: Snapshot  # the load balancer (and its addresses); no recursive DNS answer
    answers: list[ServerAnswer]
    problems: list[str]  # why the routing is not restored (empty: it is)

    @property
    def restored(self) -> bool:
        return not self.problems

    @property
    def reached(self) -> bool:
        return any(answer.answered for answer in self.answers)

    def seen(self, domain: str) -> list[str]:
        """Each server's answer, then what is wrong with them."""
        lines = [f"{a.where()}: {a.record_text(domain)}" for a in self.answers]
        return lines + [p for p in self.problems if p not in lines]

    def ttl(self) -> int | None:
        ttls = [a.ttl for a in self.answers if a.ttl is not None]
        return max(ttls) if ttls else None


@dataclass
class WaitResult:
    restored: bool
    last: Look
    waited: float  # seconds
    # The longest TTL the authoritative servers gave the record during the wait (the old record's
    # too, when it was seen): how long a resolver that cached an answer may keep serving it.
    ttl: int | None


def look(env: Environment, zone: Zone) -> Look:
    """The load balancer now, and what each authoritative server answers for the domain now."""
    # Without the domain, the snapshot asks no resolver (a cache may hold the old answer).
    snapshot = take_snapshot(dataclasses.replace(env, domain=None))
    snapshot.domain = env.domain
    if snapshot.lookup_error:
        return Look(snapshot, [], [f"could not verify: {snapshot.lookup_error}"])
    answers = authoritative.ask(zone, env.domain)
    if answers:
        snapshot.dns = answers[0].as_dns(env.domain)
    problems = routing_problems(dataclasses.replace(env, domain=None), snapshot)
    if not problems:  # one load balancer: judge each server's answer against it
        for answer in answers:
            if not answer.answered:
                problems.append(f"{answer.where()}: {answer.record_text(env.domain)}")
                continue
            judged = dataclasses.replace(snapshot, dns=answer.as_dns(env.domain))
            problems += [f"{answer.where()}: {p}" for p in routing_problems(env, judged)]
    return Look(snapshot, answers, problems)


def wait_for_routing(
    env: Environment,
    zone: Zone,
    *,
    timeout: float,
    interval: float,
    say: Callable[[str], None],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> WaitResult:
    """Look until the routing is restored or `timeout` seconds have passed; what was seen last.

    Prints each server's answer when it differs from the look before.
    """
    start = clock()
    ttls: list[int] = []
    shown: list[str] | None = None
    while True:
        current = look(env, zone)
        if current.snapshot.lookup_error:
            raise CouldNotLook(
                f"AWS could not be asked for the load balancer of {env.name}: "
                f"{current.snapshot.lookup_error}"
            )
        if not current.reached:
            raise CouldNotLook(
                f"none of the authoritative servers of {zone.apex} answered:\n"
                + "\n".join(f"  - {line}" for line in current.seen(env.domain))
            )
        if current.ttl() is not None:
            ttls.append(current.ttl())
        ttl = max(ttls) if ttls else None
        if current.restored:
            return WaitResult(True, current, clock() - start, ttl)
        seen = current.seen(env.domain)
        if seen != shown:
            say("Not yet:\n" + "\n".join(f"  - {line}" for line in seen))
            shown = seen
        if clock() - start + interval > timeout:
            return WaitResult(False, current, clock() - start, ttl)
        sleep(interval)


def restore_record(
    root: Path,
    env: Environment,
    zone: Zone,
    result: WaitResult,
    incident: Incident | None,
    records_problems: list[str],
    started_at: str,
) -> RestoreRecord:
    """The "routing restored" run record, naming the incident it closes."""
    commit = git(root, "rev-parse", "HEAD", check=False).strip() or "unknown"
    hostname = result.last.snapshot.hostnames[0]
    return RestoreRecord(
        environment=env.name,
        commit=commit,
        started_at=started_at,
        supervised=env.supervised,
        operator=operator(),
        finished_at=now(),
        exit_status=EXIT_OK,
        after=result.last.snapshot,
        verdict=Verdict(changed=False, old_hostname=hostname, new_hostname=hostname),
        authoritative=ZoneAnswers(zone.apex, tuple(result.last.answers)),
        ttl=result.ttl,
        waited_seconds=round(result.waited, 1),
        closes_incident=incident.name if incident else None,
        incident=incident,
        records_problems=records_problems,
    )
