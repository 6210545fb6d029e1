"""A run's record, one kind per operation (apply, destroy, a routing restore), typed; JSON only
where it is stored.

`RunRecord` holds what every run's record has; `ApplyRecord` and `DestroyRecord` (runs that
carry out a saved plan, `PlannedRecord`) and `RestoreRecord` add their own. `to_json` and
`read_record` are the storage boundary (`hubops.adapters.records`): the stored `operation` chooses
the kind. Every record is stored with every field any kind has (the others' at their defaults), as
one record type once stored them, so the JSON of a run is what it always was; a record's `Outcome`
is stored as the number its run exited with (`exit_status`), as records always were. Reading is
checked field by field (`hubops.facts.typed_json`): a damaged record is refused where it is read,
with the field named. Fields a newer hubops wrote and this one does not know are kept in `extra` and
written back out as they were, so `history --json` loses none.
"""

from __future__ import annotations

import json
import re
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import ClassVar

from hubops.facts.dns_answer import ZoneAnswers
from hubops.facts.forecast import Forecast
from hubops.facts.health import HealthResult
from hubops.facts.outcome import Outcome
from hubops.facts.plan_summary import PlanSummary
from hubops.facts.routing import Snapshot
from hubops.facts.typed_json import ShapeError, checked, from_json
from hubops.facts.verdict import Verdict

SCHEMA = 1
APPLY = "apply"
DESTROY = "destroy"
RESTORE = "restore"
# Where a record was read from, and when the state bucket stored it: known once read, never stored.
_READ_FROM = ("source", "location", "stored_at")
# Not stored as fields: what a newer hubops wrote (stored as it came), and where it was read.
_NOT_STORED = ("extra", *_READ_FROM)
# Fields added after records were first stored, stored only when set: a record without them is
# written back byte for byte.
_STORED_WHEN_SET = ("health",)
# The stored form of the outcomes a recorded run (apply, destroy, restore) can end with, an error
# carrying its own included: the exit statuses records were first written with. They never
# change: a record written before reads back equal.
STORED_EXIT_STATUS = {
    Outcome.OK: 0,
    Outcome.FAILED: 1,
    Outcome.ROUTING_CHANGED: 3,
    Outcome.COULD_NOT_LOOK: 4,
    Outcome.UNHEALTHY: 5,
}
_STORED_OUTCOME = {status: outcome for outcome, status in STORED_EXIT_STATUS.items()}
# How far a record's own time may run ahead of the state bucket's clock before it is suspect: the
# run's length is not in it (a record is stored when its run ends, dated when it started).
STORED_CLOCK_SLACK = timedelta(minutes=5)
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


def parse_rfc3339(text: str) -> datetime | None:
    """The moment an RFC 3339 time names, or None for anything else."""
    if not _RFC3339.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text.upper())
    except ValueError:  # a month 13, a 30th of February
        return None


def record_time_suspect(started_at: str, stored_at: str | None) -> str | None:
    """Why a record dated `started_at`, stored at `stored_at` (S3's clock), cannot be taken for
    when it ran; None where it can."""
    started = parse_rfc3339(started_at)
    if started is None:
        return f"its started_at {json.dumps(started_at)} is not an RFC 3339 time"
    stored = parse_rfc3339(stored_at) if stored_at else None
    if stored is not None and started - stored > STORED_CLOCK_SLACK:
        return (
            f"it is dated {started_at}, after the state bucket stored it ({stored_at}): written "
            "by a clock that ran fast, or by hand"
        )
    return None


@dataclass(frozen=True)
class Incident:
    """A supervised apply that exited 3, as the records name it (hubops.facts.incidents)."""

    name: str  # the failed apply's record name, the same in both stores
    started_at: str
    commit: str
    dns_record: str | None  # the record the apply said to set
    location: str

    @classmethod
    def of(cls, run: ApplyRecord) -> Incident:
        return cls(
            name=run.name,
            started_at=run.started_at,
            commit=run.commit,
            dns_record=run.verdict.dns_record if run.verdict else None,
            location=run.location or "?",
        )

    def describe(self) -> str:
        return f"the apply of {self.commit[:12]} at {self.started_at} exited 3 (record {self.name})"


@dataclass(frozen=True)
class ParityCheck:
    """What a run's record keeps of the promotion parity check (hubops.flows.parity)."""

    # The predecessor's record compared with (None: no predecessor, or no such record).
    checked_against: str | None = None
    untested: list[str] = field(default_factory=list)  # files the predecessor has not run
    override: bool = False  # applied anyway (`--untested-shared-tree`)


@dataclass(frozen=True)
class RunRecord:
    """What every run's record holds; a record is always of one of the kinds below."""

    operation: ClassVar[str]
    environment: str
    commit: str
    started_at: str
    schema: int = SCHEMA
    supervised: bool = False
    operator: str = "unknown"
    finished_at: str | None = None
    outcome: Outcome | None = None  # None only while the run goes on; stored as `exit_status`
    interrupted: bool = False
    error: str | None = None
    extra: dict = field(default_factory=dict)
    source: str | None = None  # "local", "s3" or "local+s3"
    location: str | None = None
    # When the state bucket stored it (its object's LastModified, S3's clock), where read from it.
    stored_at: str | None = None

    @property
    def name(self) -> str:
        """Its file name, the same in both stores (so it identifies a run): read records only."""
        return (self.location or "?").rsplit("/", 1)[-1]

    @property
    def time_suspect(self) -> str | None:
        """Why its `started_at` cannot be taken for when it ran (None: it can): not a time, or
        later than the state bucket's own clock says it was stored."""
        return record_time_suspect(self.started_at, self.stored_at)

    @property
    def ordered_at(self) -> str:
        """Where it stands in time: `started_at`, or, for a suspect time, when the state bucket
        stored it (a suspect record kept nowhere else stands before every other)."""
        if self.time_suspect is None:
            return self.started_at
        return self.stored_at or ""

    @property
    def in_shared_store(self) -> bool:
        """Read from the state bucket (too). Only such records are evidence (promotion parity,
        lineage, a closed incident): this machine's records folder is anyone's to write."""
        return "s3" in (self.source or "").split("+")

    @property
    def opened_incident(self) -> bool:
        """A supervised apply that exited 3: DNS had to be set by hand (hubops.facts.incidents)."""
        return False

    @property
    def verified_routing(self) -> bool:
        """A record that verified the routing, closing whatever incident was open before it."""
        return False

    def to_json(self) -> dict:
        """The record as stored."""
        stored = asdict(self)
        for key in _NOT_STORED:
            del stored[key]
        outcome = stored.pop("outcome")
        stored["exit_status"] = None if outcome is None else STORED_EXIT_STATUS[outcome]
        for key in _STORED_WHEN_SET:
            if stored.get(key, "") is None:
                del stored[key]
        padding = {key: value for key, value in _STORED_DEFAULTS.items() if key not in stored}
        return {**padding, **self.extra, **stored, "operation": self.operation}

    def listed(self) -> dict:
        """The record as `history --json` and `status --json` show it: where it was read, too,
        and why its time is suspect where it is."""
        suspect = {"time_suspect": self.time_suspect} if self.time_suspect else {}
        return {**self.to_json(), "source": self.source, "location": self.location, **suspect}


@dataclass(frozen=True)
class PlannedRecord(RunRecord):
    """A run that carries out a saved plan: whether the engine began, and which plan."""

    applied: bool = False  # the engine began to apply the plan
    plan: PlanSummary | None = None
    plan_sha256: str | None = None


@dataclass(frozen=True)
class ApplyRecord(PlannedRecord):
    operation: ClassVar[str] = APPLY
    # The plan's routing forecast and the protected resources the operator accepted to lose.
    forecast: Forecast | None = None
    acknowledged_destroys: list[str] | None = None
    # The routing before and after, and the verdict on them.
    before: Snapshot | None = None
    after: Snapshot | None = None
    verdict: Verdict | None = None
    # A supervised apply's promotion facts: a rollback asked for, the shared tree by content, and
    # its parity with the predecessor environment.
    rollback: str | None = None
    shared_tree: dict[str, str] | None = None
    parity: ParityCheck | None = None
    # The record name of the routing incident this run closed (hubops.facts.incidents).
    closes_incident: str | None = None
    # The health check after a supervised apply whose routing held (None: it did not run).
    health: HealthResult | None = None

    @property
    def opened_incident(self) -> bool:
        return self.supervised and self.outcome is Outcome.ROUTING_CHANGED

    @property
    def verified_routing(self) -> bool:
        return bool(self.closes_incident)  # its baseline verified


@dataclass(frozen=True)
class DestroyRecord(PlannedRecord):
    operation: ClassVar[str] = DESTROY


@dataclass(frozen=True)
class RestoreRecord(RunRecord):
    """`dns-check --wait`: the routing verified at the zone's authoritative servers."""

    operation: ClassVar[str] = RESTORE
    after: Snapshot | None = None
    verdict: Verdict | None = None
    # What the zone's servers answered, how long resolvers may keep the old answer, how long it
    # waited, the incident it closes, records it could not read.
    authoritative: ZoneAnswers | None = None
    ttl: int | None = None
    waited_seconds: float | None = None
    closes_incident: str | None = None
    incident: Incident | None = None
    records_problems: list[str] | None = None

    @property
    def verified_routing(self) -> bool:
        return True


KINDS: dict[str, type[RunRecord]] = {
    kind.operation: kind for kind in (ApplyRecord, DestroyRecord, RestoreRecord)
}
# Every stored field of every kind, at its default: what a record of another kind stores for it.
_STORED_DEFAULTS = {
    f.name: f.default
    for kind in KINDS.values()
    for f in fields(kind)
    if f.name not in (*_NOT_STORED, *_STORED_WHEN_SET, "outcome") and f.default is not MISSING
}


def read_record(
    data: dict,
    *,
    source: str | None = None,
    location: str | None = None,
    stored_at: str | None = None,
):
    """The record stored as `data`, of the kind its `operation` names (records written before
    destroys were recorded have none: applies); typed_json.ShapeError names a field of the wrong
    type."""
    operation = data.get("operation", APPLY)
    kind = KINDS.get(operation) if isinstance(operation, str) else None
    if kind is None:
        kinds = ", ".join(f'"{name}"' for name in KINDS)
        raise ShapeError(f"has operation={json.dumps(operation)}, where one of {kinds} belongs")
    own = {f.name for f in fields(kind)} - {*_NOT_STORED, "outcome"}
    record = from_json(kind, {key: data[key] for key in own if key in data})
    outcome = _outcome(data.get("exit_status"))
    own.add("exit_status")
    extra = {
        key: value
        for key, value in data.items()
        # Another kind's field at its default is the stored shape's, not news from a newer hubops.
        if key not in own
        and key != "operation"
        and key not in _READ_FROM  # stored by no hubops, but never shown as if it were
        and not (key in _STORED_DEFAULTS and value == _STORED_DEFAULTS[key])
    }
    return replace(
        record,
        outcome=outcome,
        extra=extra,
        source=source,
        location=location,
        stored_at=stored_at,
    )


def _outcome(stored) -> Outcome | None:
    """The outcome a record's `exit_status` stores; ShapeError for a number no run exits with."""
    status = checked(int | None, stored, "exit_status")
    if status is None:
        return None
    if status not in _STORED_OUTCOME:
        known = ", ".join(str(s) for s in sorted(_STORED_OUTCOME))
        raise ShapeError(f"has exit_status={status}, where {known} or null belongs")
    return _STORED_OUTCOME[status]
