"""One run's record (apply, destroy, or a routing restore), typed; JSON only where it is stored.

Every task builds and reads `RunRecord`s; `to_json` and `from_json` are the storage boundary
(`hubops.adapters.records`). A record holds its run's `Outcome`, stored as the number its run exited with
(`exit_status`), as records always were. Reading is checked field by field (`hubops.facts.typed_json`): a
damaged record is refused where it is read, with the field named. Fields a newer hubops wrote and
this one does not know are kept in `extra` and written back out as they were, so `history --json`
loses none.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from hubops.adapters.authoritative import ZoneAnswers
from hubops.facts.forecast import Forecast
from hubops.facts.incidents import Incident
from hubops.facts.outcome import Outcome
from hubops.flows.parity import ParityCheck
from hubops.facts.plan_summary import PlanSummary
from hubops.facts.routing import Snapshot
from hubops.facts.typed_json import ShapeError, checked, from_json
from hubops.facts.verdict import Verdict

SCHEMA = 1
APPLY = "apply"
DESTROY = "destroy"
RESTORE = "restore"
# Where a record was read from: known once read, never stored.
_READ_FROM = ("source", "location")
# The stored form of the outcomes a recorded run (apply, destroy, restore) can end with, an error
# carrying its own included: the exit statuses records were first written with. They never
# change: a record written before reads back equal.
STORED_EXIT_STATUS = {
    Outcome.OK: 0,
    Outcome.FAILED: 1,
    Outcome.ROUTING_CHANGED: 3,
    Outcome.COULD_NOT_LOOK: 4,
}
_STORED_OUTCOME = {status: outcome for outcome, status in STORED_EXIT_STATUS.items()}


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
    outcome: Outcome | None = None  # None only while the run goes on; stored as `exit_status`
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
    # The record name of the routing incident this run closed (hubops.facts.incidents).
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
        """A supervised apply whose routing changed: DNS set by hand (hubops.facts.incidents)."""
        return (
            self.operation == APPLY and self.supervised and self.outcome is Outcome.ROUTING_CHANGED
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
        outcome = stored.pop("outcome")
        stored["exit_status"] = None if outcome is None else STORED_EXIT_STATUS[outcome]
        return {**self.extra, **stored}

    def listed(self) -> dict:
        """The record as `history --json` and `status --json` show it: where it was read, too."""
        return {**self.to_json(), "source": self.source, "location": self.location}

    @classmethod
    def from_json(cls, data: dict, *, source: str | None = None, location: str | None = None):
        """The record stored as `data`; typed_json.ShapeError names a field of the wrong type."""
        known = {f.name for f in fields(cls)} - {"extra", "outcome", *_READ_FROM}
        record = from_json(cls, {key: data[key] for key in known if key in data})
        record.outcome = _outcome(data.get("exit_status"))
        known.add("exit_status")
        record.extra = {key: value for key, value in data.items() if key not in known}
        for key in _READ_FROM:  # stored by no hubops, but never shown as if it were
            record.extra.pop(key, None)
        record.source, record.location = source, location
        return record


def _outcome(stored) -> Outcome | None:
    """The outcome a record's `exit_status` stores; ShapeError for a number no run exits with."""
    status = checked(int | None, stored, "exit_status")
    if status is None:
        return None
    if status not in _STORED_OUTCOME:
        known = ", ".join(str(s) for s in sorted(_STORED_OUTCOME))
        raise ShapeError(f"has exit_status={status}, where {known} or null belongs")
    return _STORED_OUTCOME[status]
