"""One run's record (apply, destroy, or a routing restore), typed; JSON only where it is stored.

Every task builds and reads `RunRecord`s; `to_json` and `from_json` are the storage boundary
(`hubops.records`). Reading is checked field by field (`hubops.typed_json`): a damaged record
is refused where it is read, with the field named. Fields a newer hubops wrote and this one does
not know are kept in `extra` and written back out as they were, so `history --json` loses none.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from hubops.authoritative import ZoneAnswers
from hubops.forecast import Forecast
from hubops.plan_summary import PlanSummary
from hubops.routing import Snapshot
from hubops.typed_json import from_json
from hubops.verdict import EXIT_ROUTING_CHANGED, Verdict

SCHEMA = 1
APPLY = "apply"
DESTROY = "destroy"
RESTORE = "restore"
# Where a record was read from: known once read, never stored.
_READ_FROM = ("source", "location")


@dataclass(frozen=True)
class Incident:
    """A supervised apply that exited 3, as the records name it (hubops.incidents)."""

    name: str  # the failed apply's record name, the same in both stores
    started_at: str
    commit: str
    dns_record: str | None  # the record the apply said to set
    location: str

    @classmethod
    def of(cls, run: RunRecord) -> Incident:
        return cls(
            name=run.name,
            started_at=run.started_at,
            commit=run.commit,
            dns_record=run.verdict.dns_record if run.verdict else None,
            location=run.location or "?",
        )

    def describe(self) -> str:
        return f"the apply of {self.commit[:12]} at {self.started_at} exited 3 (record {self.name})"


@dataclass
class ParityCheck:
    """What a run's record keeps of the promotion parity check (hubops.parity)."""

    # The predecessor's record compared with (None: no predecessor, or no such record).
    checked_against: str | None = None
    untested: list[str] = field(default_factory=list)  # files the predecessor has not run
    override: bool = False  # applied anyway (`--untested-shared-tree`)


@dataclass
class RunRecord:
    environment: str
    commit: str
    started_at: str
    operation: str = APPLY  # records written before destroys were recorded have none
    schema: int = SCHEMA
    supervised: bool = False
    operator: str = "unknown"
    finished_at: str | None = None
    exit_status: int | None = None  # None only while the run goes on
    applied: bool = False
    interrupted: bool = False
    error: str | None = None
    # The plan: what it changes, its sha256, its routing forecast, the protected resources the
    # operator accepted to lose.
    plan: PlanSummary | None = None
    plan_sha256: str | None = None
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
    # The record name of the routing incident this run closed (hubops.incidents).
    closes_incident: str | None = None
    # A restore (`dns-check --wait`): what the zone's servers answered, how long resolvers may
    # keep the old answer, how long it waited, the incident it closes, records it could not read.
    authoritative: ZoneAnswers | None = None
    ttl: int | None = None
    waited_seconds: float | None = None
    incident: Incident | None = None
    records_problems: list[str] | None = None
    extra: dict = field(default_factory=dict)
    source: str | None = None  # "local", "s3" or "local+s3"
    location: str | None = None

    @property
    def name(self) -> str:
        """Its file name, the same in both stores (so it identifies a run): read records only."""
        return (self.location or "?").rsplit("/", 1)[-1]

    @property
    def in_shared_store(self) -> bool:
        """Read from the state bucket (too). Only such records are evidence (promotion parity,
        lineage, a closed incident): this machine's records folder is anyone's to write."""
        return "s3" in (self.source or "").split("+")

    @property
    def opened_incident(self) -> bool:
        """A supervised apply that exited 3: DNS had to be set by hand (hubops.incidents)."""
        return (
            self.operation == APPLY and self.supervised and self.exit_status == EXIT_ROUTING_CHANGED
        )

    @property
    def verified_routing(self) -> bool:
        """A record that verified the routing, closing whatever incident was open before it."""
        return self.operation == RESTORE or bool(self.closes_incident)

    def to_json(self) -> dict:
        """The record as stored."""
        stored = asdict(self)
        for key in ("extra", *_READ_FROM):
            del stored[key]
        return {**self.extra, **stored}

    def listed(self) -> dict:
        """The record as `history --json` and `status --json` show it: where it was read, too."""
        return {**self.to_json(), "source": self.source, "location": self.location}

    @classmethod
    def from_json(cls, data: dict, *, source: str | None = None, location: str | None = None):
        """The record stored as `data`; typed_json.ShapeError names a field of the wrong type."""
        known = {f.name for f in fields(cls)} - {"extra", *_READ_FROM}
        record = from_json(cls, {key: data[key] for key in known if key in data})
        record.extra = {key: value for key, value in data.items() if key not in known}
        for key in _READ_FROM:  # stored by no hubops, but never shown as if it were
            record.extra.pop(key, None)
        record.source, record.location = source, location
        return record
