"""Production's protected resources: which deletions and replacements need --allow-destroy."""

from __future__ import annotations

import pytest

from hubops.facts.errors import ConfirmationError
from hubops.facts.plan_summary import PlanSummary
from hubops.facts.protected import endangered, require_acknowledged

FRONT_DOOR = "module.edge[0].aws_lb.hub"
LISTENER = "module.edge[0].aws_lb_listener.https[0]"


def test_replacing_the_front_door_needs_its_address_acknowledged():
    summary = PlanSummary(replace=[FRONT_DOOR, LISTENER])

    assert endangered(summary) == {
        FRONT_DOOR: "the hub's front door: its DNS name is what the domain points at"
    }
    with pytest.raises(ConfirmationError) as refused:
        require_acknowledged("cae", summary, [])
    assert f"--allow-destroy '{FRONT_DOOR}'" in str(refused.value)
    require_acknowledged("cae", summary, [FRONT_DOOR])  # acknowledged: no refusal


def test_a_listener_alone_is_not_protected():
    assert endangered(PlanSummary(destroy=[LISTENER])) == {}
