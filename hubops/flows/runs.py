"""One recorded run (apply or destroy): its record, and the frame that makes every outcome end in
a record.

Inside `recorded_run`, a stop signal (Ctrl-C, SIGTERM, a closed terminal's SIGHUP) raises where
the task is, an error or a bug is caught, and then, with further signals held, the closing work
(the routing verdict of an apply) runs and the record is written, whatever happened.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from hubops.adapters import records
from hubops.adapters.clock import now
from hubops.adapters.signals import RunInterrupted, stops_held, stops_raise
from hubops.adapters.tofu import Interrupted
from hubops.facts.environments import Environment
from hubops.facts.errors import HubopsError, RecordError
from hubops.facts.run_record import KINDS, RunRecord
from hubops.facts.verdict import EXIT_FAILED, EXIT_OK


@dataclass
class RunResult:
    exit_status: int
    record: RunRecord
    error: HubopsError | None = None
    record_locations: list[str] = field(default_factory=list)
    record_error: RecordError | None = None


def new_record(env: Environment, operation: str, commit: str, **facts) -> RunResult:
    """A run's result, its record (of the operation's kind) started with `facts`."""
    record = KINDS[operation](
        environment=env.name,
        supervised=env.supervised,
        commit=commit,
        operator=records.operator(),
        started_at=now(),
        **facts,
    )
    return RunResult(exit_status=EXIT_OK, record=record)


@contextmanager
def recorded_run(
    root: Path,
    env: Environment,
    result: RunResult,
    say: Callable[[str], None],
    closing: Callable[[], None] | None = None,
):
    """Run the body; every outcome is kept in `result`, `closing` runs, the record is written."""
    with stops_held(say):
        try:
            with stops_raise():
                yield
        except (KeyboardInterrupt, RunInterrupted) as exc:
            reason = str(exc) if isinstance(exc, RunInterrupted) else "Interrupted by SIGINT."
            _fail(result, HubopsError(f"{reason} No more was done."), interrupted=True)
        except HubopsError as exc:
            _fail(result, exc, interrupted=isinstance(exc, Interrupted))
        except Exception as exc:  # a bug: still close and record the run truthfully
            _fail(result, HubopsError(f"unexpected {type(exc).__name__}: {exc}"), interrupted=False)
        finally:
            if closing is not None:
                closing()
            _finish(root, env, result)


def _fail(result: RunResult, error: HubopsError, *, interrupted: bool) -> None:
    result.error = error
    result.exit_status = EXIT_FAILED
    result.record.error = str(error)
    result.record.interrupted = interrupted


def _finish(root: Path, env: Environment, result: RunResult) -> None:
    record = result.record
    record.finished_at = now()
    record.exit_status = result.exit_status
    try:
        result.record_locations = records.write_record(root, env, record)
    except RecordError as exc:
        result.record_error = exc
        if result.exit_status == EXIT_OK:
            result.exit_status = EXIT_FAILED
