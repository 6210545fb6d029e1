"""Issue 21, the operator's habits: output for pipes and files, confirmations, plans for scripts."""

from tests.support.hub_world import NODE_GROUP_REPLACEMENT


def test_plan_and_apply_into_a_file_carry_no_colour_codes_nor_do_records_or_history(hub_world):
    hub = hub_world("cae-testing")
    hub.fake_tofu.scenario(
        {
            "plan": {"resource_changes": NODE_GROUP_REPLACEMENT},
            "outputs": {"hub_load_balancer_hostname": hub.hostname},
        }
    )

    planned = hub.invoke("plan", "--env", "cae-testing")
    applied = hub.invoke("apply", "--env", "cae-testing", "--yes")
    history = hub.invoke("history", "--env", "cae-testing")

    assert planned.returncode == 0, planned.stderr
    assert "\nPlan: 1 to add, 0 to change, 1 to destroy.\n" in planned.stdout
    assert applied.returncode == 0, applied.stderr
    assert history.returncode == 0, history.stderr
    [record] = hub.records()
    for text in (planned.stdout, planned.stderr, applied.stdout, applied.stderr, str(record)):
        assert "\x1b" not in text
    assert "\x1b" not in history.stdout
    assert all(call[1] == "-no-color" for call in hub.fake_tofu.calls() if call[0] != "version")
