"""After exit 3: wait until the zone's authoritative servers point the hub's name at its load
balancer, then record that the routing is restored (closing the open incident).

`RestoreRun` is `dns-check --wait` on the run frame (`hubops.flows.run_frame`): its body is the
wait, which a stop signal ends (nothing is then known, nor recorded: the incident stays open); once
the routing is restored, its closing (stops held) says so and makes the record the frame writes.

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
from dataclasses import dataclass, field
from pathlib import Path

from hubops.adapters import authoritative
from hubops.adapters.clock import now
from hubops.adapters.git import git
from hubops.adapters.output import warn
from hubops.adapters.record_lookups import find_open_incident
from hubops.adapters.routing_probe import take_snapshot
from hubops.facts.dns_answer import ServerAnswer, Zone, ZoneAnswers
from hubops.facts.environments import Environment
from hubops.facts.errors import HubopsError
from hubops.facts.outcome import Outcome
from hubops.facts.routing import Snapshot
from hubops.facts.run_record import RESTORE, Incident, RestoreRecord
from hubops.facts.verdict import Verdict, routing_problems
from hubops.flows.runs import RunResult, run_record

DEFAULT_TIMEOUT = 600.0
DEFAULT_INTERVAL = 10.0
# The wait holds the environment's run lock: four hours at most, and one look a second at most.
LONGEST_TIMEOUT = 4 * 3600.0
LEAST_INTERVAL = 1.0


class CouldNotLook(HubopsError):
    """AWS could not be asked, or no authoritative server answered: nothing is known."""

    outcome = Outcome.COULD_NOT_LOOK


class ZoneNotFound(CouldNotLook):
    """The zone's authoritative servers could not be found: the resolver did not tell."""


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
    # The first look found the routing right: nothing had to be restored during the wait.
    right_at_first: bool = False


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
            return WaitResult(True, current, clock() - start, ttl, right_at_first=shown is None)
        seen = current.seen(env.domain)
        if seen != shown:
            say("Not yet:\n" + "\n".join(f"  - {line}" for line in seen))
            shown = seen
        if clock() - start + interval > timeout:
            return WaitResult(False, current, clock() - start, ttl)
        sleep(interval)


@dataclass
class RestoreRun:
    """One `dns-check --wait`: what its wait found, and its result (recorded only if restored)."""

    root: Path
    env: Environment
    say: Callable[[str], None]
    result: RunResult = field(default_factory=RunResult)
    started_at: str = field(default_factory=now)
    incident: Incident | None = None
    records_problems: list[str] = field(default_factory=list)
    zone: authoritative.Zone | None = None
    wait: WaitResult | None = None

    def look_until_restored(self, timeout: float, interval: float) -> None:
        """The body: the open incident, the zone, then looks until restored or `timeout`."""
        env, say = self.env, self.say
        self.incident, runs = find_open_incident(self.root, env)
        self.records_problems = runs.problems
        for problem in runs.problems:
            warn(f"warning: {problem}")
        if self.incident:
            say(f"Open routing incident of {env.name}: {self.incident.describe()}.")
        elif runs.problems:
            say(
                f"Open routing incident of {env.name}: not known (the run records could not all "
                "be read); the restore record will close whatever is open."
            )
        try:
            self.zone = authoritative.find_zone(env.domain)
        except authoritative.AuthoritativeError as exc:
            raise ZoneNotFound(str(exc)) from None
        how_often = (
            f"every {interval:g} s, for up to {timeout:g} s,"
            if timeout >= interval
            else f"once (--timeout {timeout:g} s is shorter than one --interval of {interval:g} s)"
        )
        say(
            f"Asking the authoritative servers of {self.zone.apex} ({self.zone.describe()}) "
            f"{how_often} until {env.domain} points at the load balancer of {env.name} ..."
        )
        self.wait = wait_for_routing(env, self.zone, timeout=timeout, interval=interval, say=say)
        if not self.wait.restored:
            self.result.outcome = Outcome.ROUTING_CHANGED

    def closing(self) -> None:
        """With stops held: a restored routing is said. Where nothing was wrong (no open
        incident, the records all read, the routing right at the first look), there is nothing
        restored to say or record."""
        if not self.restored:
            if self.wait is not None and self.wait.restored:
                hostname = self.wait.last.snapshot.hostnames[0]
                self.say(
                    f"Routing holds: the authoritative servers of {self.zone.apex} point "
                    f"{self.env.domain} at {hostname}, the load balancer of {self.env.name}. No "
                    "routing incident was open, so nothing was restored and nothing is recorded."
                )
            return
        env, wait = self.env, self.wait
        [hostname] = wait.last.snapshot.hostnames
        self.say(
            f"Routing restored: the authoritative servers of {self.zone.apex} point {env.domain} "
            f"at {hostname}, the load balancer of {env.name}."
        )
        if wait.ttl is not None:
            self.say(
                f"Resolvers that cached the old answer may serve it for up to {wait.ttl} s "
                "more (the record's TTL at the authoritative servers)."
            )

    @property
    def restored(self) -> bool:
        """The routing verified after something was wrong: what a restore record is for."""
        wait = self.wait
        if wait is None or not wait.restored:
            return False
        return not (wait.right_at_first and self.incident is None and not self.records_problems)

    def record(self) -> RestoreRecord | None:
        """The "routing restored" run record, naming the incident it closes (None: nothing was
        restored)."""
        if not self.restored:
            return None
        wait, incident = self.wait, self.incident
        commit = git(self.root, "rev-parse", "HEAD", check=False).strip() or "unknown"
        hostname = wait.last.snapshot.hostnames[0]
        return run_record(
            self.env,
            RESTORE,
            commit,
            self.started_at,
            after=wait.last.snapshot,
            verdict=Verdict(changed=False, old_hostname=hostname, new_hostname=hostname),
            authoritative=ZoneAnswers(self.zone.apex, tuple(wait.last.answers)),
            ttl=wait.ttl,
            waited_seconds=round(wait.waited, 1),
            closes_incident=incident.name if incident else None,
            incident=incident,
            records_problems=self.records_problems,
        )
