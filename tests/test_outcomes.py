"""Outcomes become exit statuses in one place, the CLI's edge; records store them as they always
did (`exit_status`), and read back equal."""

from __future__ import annotations

import json

import pytest
from invoke import Exit

from hubops.cli.edge import EXIT_STATUS, conclude, task_edge
from hubops.facts.errors import HubopsError
from hubops.facts.outcome import Outcome
from hubops.facts.run_record import STORED_EXIT_STATUS, read_record
from hubops.facts.typed_json import ShapeError

# The README's exit statuses, as each task's help says them.
DOCUMENTED = {
    Outcome.OK: 0,
    Outcome.FAILED: 1,
    Outcome.CHANGES_PLANNED: 2,
    Outcome.DRIFTED: 2,
    Outcome.ROUTING_CHANGED: 3,
    Outcome.COULD_NOT_LOOK: 4,
    Outcome.UNHEALTHY: 5,
}


def test_every_outcome_maps_to_exactly_one_documented_exit_status():
    assert list(EXIT_STATUS) == list(Outcome)  # each once, none left out, none extra
    assert EXIT_STATUS == DOCUMENTED


def test_a_stored_exit_status_is_the_one_the_run_exited_with():
    # `history` shows a record's exit status; it must be what the process exited with.
    for outcome, stored in STORED_EXIT_STATUS.items():
        assert EXIT_STATUS[outcome] == stored, outcome
    assert len(set(STORED_EXIT_STATUS.values())) == len(STORED_EXIT_STATUS)  # read back one way


@pytest.mark.parametrize("outcome", list(Outcome), ids=lambda o: o.name)
def test_conclude_exits_with_the_outcomes_status_and_says_only_what_it_is_given(outcome):
    if EXIT_STATUS[outcome] == 0:
        assert conclude(outcome, "unused") is None
        return
    with pytest.raises(Exit) as raised:
        conclude(outcome, None, "error: one", "error: two")
    assert raised.value.code == EXIT_STATUS[outcome]
    assert raised.value.message == "error: one\nerror: two"


def test_conclude_redacts_and_shows_control_characters(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t-value-of-the-key")
    with pytest.raises(Exit) as raised:
        conclude(Outcome.FAILED, "error: tofu said s3cr3t-value-of-the-key\x1b]52;c;x\x07")
    assert raised.value.message == "error: tofu said [redacted]\\x1b]52;c;x\\x07"


def test_an_error_that_carries_its_outcome_exits_with_it():
    class CouldNotAsk(HubopsError):
        outcome = Outcome.COULD_NOT_LOOK

    with pytest.raises(Exit) as raised, task_edge():
        raise CouldNotAsk("AWS is out of reach")
    assert (raised.value.code, raised.value.message) == (4, "error: AWS is out of reach")
    with pytest.raises(Exit) as raised, task_edge():
        raise HubopsError("refused")
    assert (raised.value.code, raised.value.message) == (1, "error: refused")


@pytest.mark.parametrize("stored", [0, 1, 3, 4, None])
def test_a_record_stores_its_outcome_as_exit_status_and_reads_back_equal(stored):
    written_before = {
        "schema": 1,
        "environment": "cae",
        "commit": "0123456789abcdef",
        "started_at": "2026-11-26T07:00:00.000Z",
        "operation": "apply",
        "exit_status": stored,
        "newer_field": {"kept": True},
    }
    record = read_record(written_before)

    assert record.outcome == {
        0: Outcome.OK,
        1: Outcome.FAILED,
        3: Outcome.ROUTING_CHANGED,
        4: Outcome.COULD_NOT_LOOK,
    }.get(stored)
    again = record.to_json()
    assert "outcome" not in again
    assert {key: again[key] for key in written_before} == written_before
    assert json.loads(json.dumps(again)) == again


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        ("0", 'has exit_status="0", where a number or null belongs'),
        (2, "has exit_status=2, where 0, 1, 3, 4, 5 or null belongs"),
    ],
)
def test_a_record_with_an_exit_status_no_run_has_is_refused_naming_the_field(stored, message):
    data = {"environment": "cae", "commit": "0" * 16, "started_at": "x", "exit_status": stored}
    with pytest.raises(ShapeError, match=f"^{message}$"):
        read_record(data)
