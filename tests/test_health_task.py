"""`invoke health` as an operator runs it: its refusals, and a state that has nothing to check
against. (Against a real hub: tests/test_health_live.py.)"""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--journey", "--quick"), "error: --journey or --quick, not both.\n"),
        (
            ("--expiry-days", "soon"),
            "error: --expiry-days soon is not a whole number of days (0 or more).\n",
        ),
        (
            ("--lock-timeout", "10"),
            "error: --lock-timeout 10 is not a duration: give its unit, e.g. 10s or 5m (0s: do "
            "not wait).\n",
        ),
    ],
    ids=["journey-and-quick", "expiry-not-a-number", "lock-timeout-without-unit"],
)
def test_bad_flags_are_refused_before_anything_runs(project_repo, args, message):
    from tests.support.invoking import run_invoke

    result = run_invoke("health", "--env", "cae", *args, cwd=project_repo.path, env={})

    assert (result.returncode, result.stderr) == (1, message)
    assert result.stdout == ""


def test_a_state_without_a_health_check_output_is_refused_naming_what_to_do(hub_world):
    hub = hub_world("cae-dev")

    result = hub.invoke("health", "--env", "cae-dev")

    assert result.returncode == 1
    assert result.stderr.endswith(
        "error: the state of cae-dev has no health_check output, so there is nothing to check "
        "against: apply the tree first (`invoke apply --env cae-dev`), which adds it.\n"
    )
