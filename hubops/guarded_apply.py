"""The drift-safety promise: preflight, routing baseline, saved plan, apply exactly that plan,
routing snapshot after (also after a failed or interrupted apply), verdict, record.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from hubops import records
from hubops.environments import Environment
from hubops.errors import HubopsError, PreflightError, RecordError
from hubops.plan_summary import PlanSummary, summarize
from hubops.preflight import preflight
from hubops.routing import Snapshot, take_snapshot
from hubops.tofu import Interrupted, Tofu
from hubops.verdict import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_ROUTING_CHANGED,
    Verdict,
    decide,
    routing_problems,
)


@dataclass
class RunResult:
    exit_status: int
    record: dict
    verdict: Verdict | None = None
    error: HubopsError | None = None
    record_locations: list[str] = field(default_factory=list)
    record_error: RecordError | None = None


def baseline_problems(env: Environment, before: Snapshot) -> list[str]:
    """Why a supervised apply must not start from this baseline (empty: it may)."""
    return routing_problems(env, before) if env.supervised else []


def guarded_apply(
    root: Path,
    env: Environment,
    *,
    confirm: Callable[[PlanSummary], None],
    say: Callable[[str], None],
    lock_timeout: str = "0s",
) -> RunResult:
    """Run one apply under the drift-safety promise.

    Raises before anything has started (preflight, init, an unverifiable baseline); from the
    baseline on, every outcome is returned as a `RunResult` with its record written.
    """
    tofu = Tofu(root, env, lock_timeout=lock_timeout)
    commit = preflight(root, env)
    tofu.init()

    say(f"Recording the routing baseline of {env.name} ...")
    before = take_snapshot(env, tofu)
    problems = baseline_problems(env, before)
    if problems and before.state_outputs == []:
        # The root module always has outputs once applied: an empty state is a new environment.
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
        )

    record = {
        "schema": records.SCHEMA,
        "environment": env.name,
        "supervised": env.supervised,
        "commit": commit,
        "operator": records.operator(),
        "started_at": records.now(),
        "plan": None,
        "applied": False,
        "interrupted": False,
        "before": before.to_dict(),
        "after": None,
        "verdict": None,
        "error": None,
    }
    result = RunResult(exit_status=EXIT_OK, record=record)
    try:
        has_changes = tofu.plan()
        summary = summarize(tofu.show_plan())
        record["plan"] = summary.to_dict()
        say(summary.render())
        if has_changes:
            confirm(summary)
            record["applied"] = True
            tofu.apply()
    except KeyboardInterrupt:
        _fail(result, HubopsError("Interrupted by Ctrl-C between steps."), interrupted=True)
    except HubopsError as exc:
        _fail(result, exc, interrupted=isinstance(exc, Interrupted))
    except Exception as exc:  # a bug: still record the run truthfully, then let it surface
        _fail(result, HubopsError(f"unexpected {type(exc).__name__}: {exc}"), interrupted=False)
        raise
    finally:
        with _deferred_interrupts(say):
            if record["applied"] or result.error is None:
                say(f"Recording the routing of {env.name} after the run ...")
                after = take_snapshot(env, tofu)
                record["after"] = after.to_dict()
                result.verdict = decide(env, before, after)
                record["verdict"] = result.verdict.to_dict()
                if result.verdict.changed and env.supervised:
                    result.exit_status = EXIT_ROUTING_CHANGED
            _finish(root, env, result)
    return result


def _fail(result: RunResult, error: HubopsError, *, interrupted: bool) -> None:
    result.error = error
    result.exit_status = EXIT_FAILED
    result.record["error"] = str(error)
    result.record["interrupted"] = interrupted


def _finish(root: Path, env: Environment, result: RunResult) -> None:
    record = result.record
    record["finished_at"] = records.now()
    record["exit_status"] = result.exit_status
    try:
        result.record_locations = records.write_record(root, env, record)
    except RecordError as exc:
        result.record_error = exc
        if result.exit_status == EXIT_OK:
            result.exit_status = EXIT_FAILED


@contextmanager
def _deferred_interrupts(say: Callable[[str], None]):
    """Ctrl-C must not cut the after-snapshot and the record short: hold it until they are done."""

    def hold(signum, frame):
        say("hubops: finishing the routing check and the run record first; one moment.")

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
