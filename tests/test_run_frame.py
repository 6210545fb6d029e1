"""The run frame's own stages, without a world: the lock it holds, and a recorded run that has
nothing to record yet (a restore wait) keeping its outcome all the same."""

from __future__ import annotations

import signal
from types import SimpleNamespace

import pytest

from hubops.adapters.run_lock import environment_run_lock
from hubops.adapters.signals import RunInterrupted
from hubops.facts.errors import HubopsError, PreflightError
from hubops.facts.outcome import Outcome
from hubops.flows.restore import CouldNotLook
from hubops.flows.run_frame import run_frame
from hubops.flows.runs import RunResult, recorded_run

ENV = SimpleNamespace(name="cae-testing")  # the lock and a record-less run need only its name


def test_the_frame_holds_the_environments_run_lock_for_as_long_as_the_verb_runs(tmp_path):
    with run_frame(tmp_path, ENV, "drift"):
        with pytest.raises(PreflightError, match=r"\(pid \d+, `invoke drift --env cae-testing`"):
            with environment_run_lock(tmp_path, ENV.name, "apply"):
                pass
    with environment_run_lock(tmp_path, ENV.name, "apply"):  # released once the verb is done
        pass


@pytest.mark.parametrize(
    ("raised", "outcome", "interrupted_by"),
    [
        (RunInterrupted("Interrupted by SIGTERM."), Outcome.FAILED, "Interrupted by SIGTERM."),
        (CouldNotLook("no server answered"), Outcome.COULD_NOT_LOOK, None),
        (HubopsError("refused"), Outcome.FAILED, None),
    ],
    ids=["stopped", "could-not-look", "failed"],
)
def test_a_run_with_nothing_to_record_keeps_its_outcome_and_writes_nothing(
    tmp_path, raised, outcome, interrupted_by
):
    result, closed = RunResult(), []

    with recorded_run(tmp_path, ENV, result, print, _nothing, lambda: closed.append(True)):
        raise raised

    assert (result.outcome, result.interrupted_by, closed) == (outcome, interrupted_by, [True])
    assert result.record_locations == [] and not list(tmp_path.iterdir())


def test_a_stop_signal_in_the_body_ends_it_and_the_closing_still_runs(tmp_path):
    result, closed = RunResult(), []

    with recorded_run(tmp_path, ENV, result, print, _nothing, lambda: closed.append(True)):
        signal.raise_signal(signal.SIGTERM)

    assert result.interrupted_by == "Interrupted by SIGTERM." and closed == [True]


@pytest.fixture
def local_records_only(tmp_path, monkeypatch):
    """Records go to this machine's store alone (a folder of tmp_path): no bucket to write to."""
    from hubops.adapters import records

    store = records.LocalRecordStore(tmp_path / "records")
    monkeypatch.setattr(records, "stores", lambda root, env: [store])
    return store


def _record():
    from hubops.facts.run_record import DestroyRecord

    return DestroyRecord(environment=ENV.name, commit="0" * 40, started_at="2026-12-07T00:00:00Z")


def _nothing():
    return None  # a run that has nothing to record (a restore wait that restored nothing)


def _failing_closing():
    raise OSError(13, "Permission denied")


def test_a_closing_that_fails_after_the_run_failed_is_recorded_beside_the_runs_own_error(
    tmp_path, local_records_only
):
    result = RunResult()

    with recorded_run(tmp_path, ENV, result, print, _record, _failing_closing):
        raise HubopsError("the engine failed")

    assert str(result.error) == "the engine failed"
    assert [str(e) for e in result.errors] == [
        "the engine failed",
        "closing the run failed: PermissionError: [Errno 13] Permission denied",
    ]
    [stored] = local_records_only.list(ENV.name)
    assert stored.error == (
        "the engine failed; then closing the run failed: PermissionError: [Errno 13] Permission "
        "denied"
    )
    assert stored.outcome is Outcome.FAILED
    assert result.record == stored.__class__(**{**vars(stored), "source": None, "location": None})


def test_a_closing_that_fails_after_a_good_run_fails_the_run_and_is_recorded(
    tmp_path, local_records_only
):
    result = RunResult()

    with recorded_run(tmp_path, ENV, result, print, _record, _failing_closing):
        pass

    assert result.outcome is Outcome.FAILED
    assert [str(e) for e in result.errors] == [
        "closing the run failed: PermissionError: [Errno 13] Permission denied"
    ]
    [stored] = local_records_only.list(ENV.name)
    assert stored.error == "closing the run failed: PermissionError: [Errno 13] Permission denied"


def test_only_a_frame_that_passed_preflight_can_start_the_engine(tmp_path):
    from hubops.flows.run_frame import CheckedFrame, LockedFrame

    with run_frame(tmp_path, ENV, "drift") as frame:
        assert isinstance(frame, LockedFrame)
        assert not hasattr(frame, "engine")
    assert hasattr(CheckedFrame, "engine") and not hasattr(CheckedFrame, "preflight")
