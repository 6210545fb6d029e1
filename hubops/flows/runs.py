"""One recorded run (apply, destroy, a routing restore): its result, and the stage of the run frame
that makes every outcome end in a record.

Inside `recorded_run`, a stop signal (Ctrl-C, SIGTERM, a closed terminal's SIGHUP) raises where
the task is, an error or a bug is caught, and then, with further signals held, the closing work
(the routing verdict of an apply) runs and the record is written, whatever happened: a closing
that fails too is recorded beside the run's own error, never instead of it.

A run keeps its own progress while it goes; its record is built once, whole, from that progress
when the run has ended (`build`), and the frame stamps how it ended (`dataclasses.replace`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from hubops.adapters import records
from hubops.adapters.clock import now
from hubops.adapters.signals import RunInterrupted, stops_held, stops_raise
from hubops.adapters.tofu import Interrupted
from hubops.facts.environments import Environment
from hubops.facts.errors import HubopsError, RecordError
from hubops.facts.outcome import Outcome
from hubops.facts.run_record import KINDS, RunRecord


@dataclass
class RunResult:
    # The record written once the run ended (None: not yet, or nothing recorded: a restore wait
    # records only a routing it verified).
    record: RunRecord | None = None
    outcome: Outcome = Outcome.OK
    error: HubopsError | None = None
    interrupted: bool = False  # a stop signal, or the engine's own interruption, ended it
    # The stop signal that ended the run, as words ("Interrupted by SIGTERM."); None: none did.
    interrupted_by: str | None = None
    record_locations: list[str] = field(default_factory=list)
    record_error: RecordError | None = None
    # The closing work's own fault (a plan file not removed, a malformed answer), beside the run's.
    closing_error: HubopsError | None = None

    @property
    def errors(self) -> list[HubopsError]:
        """Every fault of the run in the order met: its own, its closing's, its record's."""
        found = (self.error, self.closing_error, self.record_error)
        return [error for error in found if error is not None]

    @property
    def error_text(self) -> str | None:
        """The record's `error`: the run's own, then its closing's."""
        if self.error is None:
            return None
        then = f"; then {self.closing_error}" if self.closing_error is not None else ""
        return f"{self.error}{then}"


def run_record(
    env: Environment, operation: str, commit: str, started_at: str, **facts
) -> RunRecord:
    """A run's record of the operation's kind, built whole from what the run found (`facts`);
    how it ended is stamped by the frame."""
    return KINDS[operation](
        environment=env.name,
        supervised=env.supervised,
        commit=commit,
        operator=records.operator(),
        started_at=started_at,
        **facts,
    )


@contextmanager
def recorded_run(
    root: Path,
    env: Environment,
    result: RunResult,
    say: Callable[[str], None],
    build: Callable[[], RunRecord | None],
    closing: Callable[[], None] | None = None,
):
    """Run the body; every outcome is kept in `result`, `closing` runs, then the record `build`
    makes of the run's progress is stamped with its end and written (None: nothing to record).

    A `HubopsError` with an `outcome` of its own (e.g. could not look) ends the run with it.
    """
    with stops_held(say):
        try:
            with stops_raise():
                yield
        except (KeyboardInterrupt, RunInterrupted) as exc:
            reason = str(exc) if isinstance(exc, RunInterrupted) else "Interrupted by SIGINT."
            result.interrupted_by = reason
            _fail(result, HubopsError(f"{reason} No more was done."), interrupted=True)
        except HubopsError as exc:
            _fail(result, exc, interrupted=isinstance(exc, Interrupted))
        except Exception as exc:  # a bug: still close and record the run truthfully
            _fail(result, HubopsError(f"unexpected {type(exc).__name__}: {exc}"), interrupted=False)
        finally:
            if closing is not None:
                _close(closing, result)
            _finish(root, env, result, build)


def _close(closing: Callable[[], None], result: RunResult) -> None:
    """Run the closing work; a fault of its own is kept beside the run's, never instead of it,
    and never keeps the record from being written."""
    try:
        closing()
    except Exception as exc:  # a bug included: the record must still be written
        detail = str(exc) if isinstance(exc, HubopsError) else f"{type(exc).__name__}: {exc}"
        fault = HubopsError(f"closing the run failed: {detail}")
        if result.error is None:
            _fail(result, fault, interrupted=False)
        else:
            result.closing_error = fault


def _fail(result: RunResult, error: HubopsError, *, interrupted: bool) -> None:
    result.error = error
    result.outcome = getattr(error, "outcome", Outcome.FAILED)
    result.interrupted = interrupted


def _finish(
    root: Path, env: Environment, result: RunResult, build: Callable[[], RunRecord | None]
) -> None:
    built = build()
    if built is None:
        return
    result.record = replace(
        built,
        finished_at=now(),
        outcome=result.outcome,
        error=result.error_text,
        interrupted=result.interrupted,
    )
    try:
        result.record_locations = records.write_record(root, env, result.record)
    except RecordError as exc:
        result.record_error = exc
        if result.outcome is Outcome.OK:
            result.outcome = Outcome.FAILED
