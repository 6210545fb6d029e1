"""The drift-safety promise: preflight, routing baseline, saved plan, apply exactly that plan,
routing snapshot after (also after a failed or interrupted apply), verdict, record.

Whether a run is supervised comes from the facts of its state (`hubops.bootstrap.state_identity`),
not only from its folder. Once the baseline is taken, every outcome ends in a verdict and a record:
an error, a stop signal (Ctrl-C, SIGTERM, a closed terminal's SIGHUP) or a bug after the engine
started is recorded, and anything after the apply that cannot be verified counts as changed.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, fields
from functools import partial
from pathlib import Path

from hubops.adapters import records
from hubops.adapters.clock import now
from hubops.adapters.record_lookups import predecessor_history
from hubops.adapters.routing_probe import take_snapshot
from hubops.adapters.saved_plan import (
    SavedPlan,
    new_plan_path,
    read_given_plan,
)
from hubops.adapters.tofu import Tofu
from hubops.facts.environments import Environment
from hubops.facts.errors import HubopsError, PreflightError
from hubops.facts.forecast import Forecast, forecast
from hubops.facts.health import HealthResult
from hubops.facts.incidents import open_incident
from hubops.facts.outcome import Outcome
from hubops.facts.plan_summary import PlanSummary, summarize
from hubops.facts.protected import ALLOW_FLAG, require_acknowledged, unneeded
from hubops.facts.routing import Snapshot
from hubops.facts.run_history import History, last_successful_apply
from hubops.facts.run_record import APPLY, ApplyRecord, Incident, ParityCheck, RunRecord
from hubops.facts.verdict import Verdict, decide, routing_problems
from hubops.flows.health import HealthRequest, state_health
from hubops.flows.parity import check_parity, shared_tree
from hubops.flows.reviewed_plan import (
    check_configuration,
    check_origin,
    check_variables,
    download,
    read_sidecar,
)
from hubops.flows.run_frame import CheckedFrame, run_frame
from hubops.flows.runs import RunResult, run_record


@dataclass(frozen=True)
class ApplyRequest:
    """What the operator asked for beyond the environment."""

    lock_timeout: str = "0s"
    # A plan made and reviewed earlier (`invoke plan --out`, locally or kept in the state bucket
    # by `--upload`): applied only if its sha256 is still `plan_sha256`, HEAD is the commit it was
    # made at, and its configuration and variables are HEAD's files' (hubops.flows.reviewed_plan).
    plan_file: Path | None = None
    plan_s3: str | None = None
    plan_sha256: str | None = None
    # Protected resources the operator accepts to lose (`--allow-destroy`), recorded.
    allow_destroy: tuple[str, ...] = ()
    # Production may go backwards or sideways only when asked for (`--rollback`), recorded.
    rollback: bool = False
    # Production may get a shared tree its predecessor has not run (`--untested-shared-tree`).
    untested_shared_tree: bool = False


def baseline_problems(env: Environment, before: Snapshot) -> list[str]:
    """Why a supervised apply must not start from this baseline (empty: it may)."""
    return routing_problems(env, before) if env.supervised else []


def guarded_apply(
    root: Path,
    env: Environment,
    *,
    confirm: Callable[[PlanSummary, Forecast], None],
    say: Callable[[str], None],
    request: ApplyRequest | None = None,
) -> RunResult:
    """Run one apply under the drift-safety promise.

    Raises before anything has started (preflight, init, an unverifiable baseline); from the
    baseline on, every outcome is returned as a `RunResult` with its record written.
    """
    request = request or ApplyRequest()
    with run_frame(root, env, "apply") as frame, ExitStack() as cleanup:
        reviewed = None
        if request.plan_file is not None:  # a wrong reviewed plan refuses before anything runs
            content = read_given_plan(request.plan_file)
            reviewed = _own_copy(cleanup, root, env, content, request, str(request.plan_file))
            origin = read_sidecar(request.plan_file)
        checked = frame.preflight()
        commit = checked.commit
        if request.plan_s3 is not None:  # AWS is asked once preflight knows who is asking
            content, origin = download(env, request.plan_s3)
            reviewed = _own_copy(cleanup, root, env, content, request, request.plan_s3)
        if reviewed is not None:
            check_origin(root, env, origin, commit, reviewed.sha256)
            check_configuration(root, content, commit)
        run = _start(checked, reviewed, confirm=confirm, say=say, request=request)
        return run.plan_apply_and_judge()


def _own_copy(cleanup: ExitStack, root, env, content: bytes, request, source: str) -> SavedPlan:
    """The reviewed plan in a private file of this run's own (it holds variables and prior
    state), removed when the run ends; the record keeps its sha256."""
    saved = SavedPlan.private_copy(root, env.name, content, request.plan_sha256, source)
    cleanup.callback(saved.remove)
    return saved


def _start(frame: CheckedFrame, reviewed, *, confirm, say, request) -> ApplyRun:
    """Everything after preflight up to the run: the supervised checks, the engine, the
    baseline."""
    root, env, commit = frame.root, frame.env, frame.commit
    # Preflight's backend check refused files that contradict the state's identity marker (a
    # supervised state is only ever driven by supervised files), so `env.supervised` below
    # rests on the state, not only on the folder.
    tree = shared_tree(root, commit)
    rollback_note, parity, incident = None, None, None
    if env.supervised:
        records.require_writable(root, env)
        runs = _readable_history(env, records.history(root, env))  # read once, used twice
        _check_clock(env, runs, say)
        rollback_note = _check_lineage(root, runs, commit, request.rollback)
        tested = predecessor_history(root, env)
        parity = check_parity(env, tree, tested, override=request.untested_shared_tree, root=root)
        incident = open_incident(runs)
    tofu = frame.engine(lock_timeout=request.lock_timeout)
    started_at = now()
    before = _baseline(env, tofu, say, incident)
    progress = ApplyProgress(
        started_at=started_at,
        before=before,
        rollback=rollback_note,
        shared_tree=tree,
        parity=parity,
    )
    if incident is not None and not baseline_problems(env, before):
        # The routing verifies again: the apply that exited 3 is behind us (hubops.facts.incidents).
        progress.closes_incident = incident.name
        say(f"Routing incident closed (the baseline verifies): {incident.describe()}.")
    return ApplyRun(frame, tofu, progress, RunResult(), request, reviewed, confirm, say)


def _check_clock(env: Environment, runs: list, say: Callable[[str], None]) -> None:
    """Records are ordered by the time they were started: a run from a clock behind the newest
    record would be taken for an older one (and its commit not for the last applied). A record
    whose own time is suspect (not a time, or later than the state bucket stored it) is no anchor:
    one such record must not lock production out."""
    stamp = now()
    shared = [run for run in runs if run.in_shared_store]
    for run in shared:
        if run.time_suspect and run.started_at > stamp:
            say(f"Set aside run record {run.name} for the clock check: {run.time_suspect}.")
    trusted = [run for run in shared if run.time_suspect is None]
    newest = max(trusted, key=lambda r: r.started_at, default=None)
    if newest is not None and stamp < newest.started_at:
        raise PreflightError(
            f"This machine's clock says {stamp}, earlier than the newest run record of {env.name} "
            f"({newest.started_at}, {newest.name}): records are ordered by time, so this run "
            "would be taken for an older one. Set the clock right (NTP) and run again; nothing "
            "was changed."
        )


def _readable_history(env: Environment, runs: History) -> History:
    """A supervised apply decides from its whole history (last applied commit, open incident)."""
    if runs.problems:
        raise PreflightError(
            f"The run records of {env.name} cannot all be read, so its last applied commit is "
            "not certain:\n"
            + "\n".join(f"  - {p}" for p in runs.problems)
            + "\nFix that first; nothing was changed."
        )
    return runs


def _check_lineage(root: Path, runs: list[RunRecord], commit: str, rollback: bool) -> str | None:
    """Production moves forward along main from its last successful apply (hubops.flows.lineage)."""
    from hubops.flows.lineage import check_production_lineage

    last = last_successful_apply([run for run in runs if run.in_shared_store])
    return check_production_lineage(root, commit, last and last.commit, rollback=rollback)


def _baseline(
    env: Environment, tofu: Tofu, say: Callable[[str], None], incident: Incident | None = None
) -> Snapshot:
    say(f"Recording the routing baseline of {env.name} ...")
    before = take_snapshot(env, tofu)
    if before.cross_check_skipped and before.state_outputs:
        say(f"tofu output cross-check: skipped ({before.cross_check_skipped})")
    problems = baseline_problems(env, before)
    if problems and before.state_outputs == []:
        # The root module always has outputs once applied (sensitive ones are counted too): a
        # state without any is a new environment.
        say(
            f"{env.name} has never been applied (its state has no outputs), so it has no routing "
            "to protect yet; the verdict will name the DNS record to set."
        )
    elif problems:
        raise PreflightError(
            f"{env.name} is supervised and its routing baseline cannot be verified, so the apply "
            "does not start:\n"
            + "\n".join(f"  - {p}" for p in problems)
            + f"\nCheck with `invoke status --env {env.name}`"
            + (f" and `dig {env.domain} CNAME`" if env.domain else "")
            + ", fix the DNS record or the load balancer first, then apply again."
            + (
                f"\nOpen routing incident: {incident.describe()}"
                + (f"; the record to set: {incident.dns_record}" if incident.dns_record else "")
                + f". `invoke dns-check --env {env.name} --wait` closes it once DNS points at "
                "the load balancer."
                if incident
                else ""
            )
        )
    return before


@dataclass
class ApplyProgress:
    """What an apply has found so far: its record is built from it, whole, once the run ended."""

    started_at: str
    before: Snapshot
    rollback: str | None
    shared_tree: dict[str, str] | None
    parity: ParityCheck | None
    closes_incident: str | None = None
    plan: PlanSummary | None = None
    plan_sha256: str | None = None
    forecast: Forecast | None = None
    acknowledged_destroys: list[str] | None = None
    applied: bool = False
    after: Snapshot | None = None
    verdict: Verdict | None = None
    health: HealthResult | None = None

    def record(self, env: Environment, commit: str) -> ApplyRecord:
        facts = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "started_at"}
        return run_record(env, APPLY, commit, self.started_at, **facts)


@dataclass
class ApplyRun:
    """One apply from its baseline on: what its plan, its apply and its verdict share."""

    frame: CheckedFrame
    tofu: Tofu
    progress: ApplyProgress
    result: RunResult
    request: ApplyRequest
    reviewed: SavedPlan | None  # None: the run plans for itself
    confirm: Callable[[PlanSummary, Forecast], None]
    say: Callable[[str], None]
    plan_path: Path = field(init=False)

    def __post_init__(self) -> None:
        root, env = self.frame.root, self.frame.env
        self.plan_path = new_plan_path(root, env.name) if self.own_plan else self.reviewed.path

    @property
    def own_plan(self) -> bool:
        return self.reviewed is None

    def plan_apply_and_judge(self) -> RunResult:
        """Plan (or show the reviewed plan), confirm, apply; then the verdict and the record."""
        root, env, request, say = self.frame.root, self.frame.env, self.request, self.say
        progress, commit = self.progress, self.frame.commit
        build = partial(progress.record, env, commit)
        with self.frame.recorded(self.result, say, build, self._closing):
            saved, summary = _saved_plan(
                root, env, self.tofu, self.plan_path, self.reviewed, commit
            )
            routing_forecast = forecast(summary)
            progress.plan, progress.plan_sha256 = summary, saved.sha256
            progress.forecast = routing_forecast
            say(summary.render())
            say("\n".join(routing_forecast.lines(env.name, env.supervised)))
            if request.allow_destroy:  # recorded as given, needed or not
                progress.acknowledged_destroys = sorted(set(request.allow_destroy))
                for address in unneeded(summary, list(request.allow_destroy)):
                    say(
                        f"{ALLOW_FLAG} '{address}': this plan neither deletes nor replaces it as "
                        "a protected resource; recorded as given."
                    )
            if summary.has_changes:
                if env.supervised:
                    require_acknowledged(env.name, summary, list(request.allow_destroy))
                self.confirm(summary, routing_forecast)
                saved.verify(request.plan_sha256)
                self.tofu.apply(saved.path, on_start=lambda: setattr(progress, "applied", True))
        return self.result

    def _closing(self) -> None:
        if self.progress.applied or self.result.error is None:
            _judge(self.frame.env, self.tofu, self.progress, self.result, self.say)
            _check_health(self.frame.env, self.tofu, self.progress, self.result, self.say)
        if self.own_plan:  # it holds variables and prior state; the record keeps its sha256
            self.plan_path.unlink(missing_ok=True)


def _saved_plan(
    root: Path, env, tofu, plan_path: Path, reviewed: SavedPlan | None, commit: str
) -> tuple[SavedPlan, PlanSummary]:
    """This run's own plan, or the reviewed one (checked against its sha256 before showing, and
    its variables against HEAD's files)."""
    if reviewed is None:
        tofu.plan(plan_path)
        saved = SavedPlan.of(plan_path)
    else:
        saved = reviewed
        saved.verify(reviewed.sha256)
    plan = tofu.show_plan(saved.path)
    if reviewed is not None:
        check_variables(root, env, plan, commit)
        # What the reviewer saw, as the engine draws it: the run's own plan is drawn by `plan`.
        tofu.show_rendered(saved.path)
    return saved, summarize(plan)


def _judge(env: Environment, tofu: Tofu, progress: ApplyProgress, result: RunResult, say) -> None:
    """The routing after the run, and the verdict; whatever cannot be verified is changed."""
    before = progress.before
    say(f"Recording the routing of {env.name} after the run ...")
    try:
        progress.after = take_snapshot(env, tofu)
        progress.verdict = decide(env, before, progress.after)
    except Exception as exc:  # fail closed: an unverifiable routing is a changed routing
        progress.verdict = Verdict(
            changed=True,
            findings=[f"could not verify the routing after the run: {type(exc).__name__}: {exc}"],
            old_hostname=before.hostnames[0] if len(before.hostnames) == 1 else None,
        )
    if progress.verdict.changed and env.supervised:  # DNS by hand comes before any other fix
        result.outcome = Outcome.ROUTING_CHANGED


def _check_health(
    env: Environment, tofu: Tofu, progress: ApplyProgress, result: RunResult, say
) -> None:
    """After a supervised apply whose routing holds: can users log in? (The routing first: a
    check through a name that points elsewhere proves nothing.)"""
    if not env.supervised or result.error is not None or result.outcome is not Outcome.OK:
        return
    say(f"Checking that users can log in to {env.name} ...")
    try:
        progress.health = state_health(env, tofu, HealthRequest(), say)
    except HubopsError as exc:  # fail closed: a check that cannot run proves nothing
        progress.health = HealthResult(name=env.domain or "?", error=str(exc))
    if progress.health is None:
        say(
            f"Health: not checked: the state of {env.name} has no health_check output (a tree "
            "from before the check)."
        )
        return
    say(progress.health.headline(env.name))
    if not progress.health.healthy:
        result.outcome = Outcome.UNHEALTHY
