"""The routing forecast, and the refactor lines of the plan summary, as the operator reads them."""

from __future__ import annotations

from hubops.facts.forecast import forecast
from hubops.facts.plan_summary import PlanSummary, summarize

HUB_RELEASE = "module.hub.helm_release.jupyterhub"
HUB_NODES = 'module.eks.aws_eks_node_group.this["hub"]'
USER_NODES = 'module.eks.aws_eks_node_group.this["main"]'
CERTIFICATE = "module.certificate[0].aws_acm_certificate.this"


def test_replacing_the_hub_release_is_high_risk_and_says_why():
    result = forecast(PlanSummary(replace=[HUB_RELEASE, USER_NODES], destroy=[HUB_NODES]))

    assert result.risk == "high"
    assert result.lines("cae", supervised=True) == [
        "Routing forecast: high",
        f"  high   {HUB_RELEASE}: the JupyterHub release owns the public proxy service and its "
        "load balancer",
        f"  medium {HUB_NODES}: the hub node group runs the proxy: replacing it interrupts the "
        "hub while its pods move",
        "Have DNS access ready before you confirm: if the load balancer changes, the apply exits 3 "
        "with the record to set.",
    ]


FRONT_DOOR = "module.edge[0].aws_lb.hub"
HTTPS_LISTENER = "module.edge[0].aws_lb_listener.https[0]"
TARGET_GROUP = "module.edge[0].aws_lb_target_group.proxy"


def test_replacing_or_deleting_the_front_door_its_listener_or_target_group_is_high_risk():
    result = forecast(
        PlanSummary(replace=[FRONT_DOOR, TARGET_GROUP], destroy=[HTTPS_LISTENER, CERTIFICATE])
    )

    assert result.risk == "high"
    assert result.lines("cae", supervised=True) == [
        "Routing forecast: high",
        f"  high   {FRONT_DOOR}: the hub's front door: a new application load balancer has a new "
        "DNS name, which the domain's record must follow",
        f"  high   {TARGET_GROUP}: the front door's target group: a new one is empty until the "
        "controller binds the proxy's pods to it again",
        f"  high   {HTTPS_LISTENER}: a listener of the hub's front door: without it the load "
        "balancer answers nothing on its port",
        f"  high   {CERTIFICATE}: the load balancer's https listener uses this certificate",
        "Have DNS access ready before you confirm: if the load balancer changes, the apply exits 3 "
        "with the record to set.",
    ]


def test_changing_the_front_door_in_place_is_low_risk():
    result = forecast(PlanSummary(change=[FRONT_DOOR, HTTPS_LISTENER, TARGET_GROUP]))

    assert result.risk == "low"


def test_replacing_the_user_node_group_only_is_low_risk():
    result = forecast(PlanSummary(replace=[USER_NODES], change=[HUB_RELEASE]))

    assert result.risk == "low"
    assert result.lines("cae-dev", supervised=False) == [
        "Routing forecast: low (no change of this plan is known to move cae-dev's traffic)."
    ]


def test_rolling_the_hub_nodes_onto_a_new_ami_is_medium_risk_and_says_why():
    roll = "AMI release 1.35.0-20260105 -> 1.35.2-20260301: every node is replaced, one at a time"
    result = forecast(PlanSummary(change=[HUB_NODES, USER_NODES], rolls={HUB_NODES: roll}))

    assert result.risk == "medium"
    assert result.lines("cae", supervised=True) == [
        "Routing forecast: medium",
        f"  medium {HUB_NODES}: the hub node group runs the proxy: rolling its nodes onto a new "
        "AMI interrupts the hub briefly while its pods move",
    ]


def test_rolling_the_user_and_dask_nodes_is_low_risk():
    roll = "AMI release 1.35.0-20260105 -> 1.35.2-20260301: every node is replaced, one at a time"
    dask_nodes = 'module.eks.aws_eks_node_group.this["dask-worker"]'
    summary = PlanSummary(
        change=[USER_NODES, dask_nodes], rolls={USER_NODES: roll, dask_nodes: roll}
    )

    assert forecast(summary).lines("cae", supervised=True) == [
        "Routing forecast: low (no change of this plan is known to move cae's traffic)."
    ]


def test_the_summary_shows_moves_imports_and_forgets():
    plan = {
        "resource_changes": [
            {
                "address": "module.network.aws_vpc.main",
                "previous_address": "module.network.aws_vpc.this",
                "change": {"actions": ["no-op"]},
            },
            {
                "address": "aws_s3_bucket.logs",
                "change": {"actions": ["no-op"], "importing": {"id": "logs"}},
            },
            {"address": "aws_iam_role.old", "change": {"actions": ["forget"]}},
        ]
    }

    summary = summarize(plan)

    assert summary.has_changes
    assert summary.render() == (
        "Plan: 0 to add, 0 to change, 0 to destroy, 0 to replace. 1 moved. 1 to import. "
        "1 to forget.\n"
        "  move module.network.aws_vpc.this -> module.network.aws_vpc.main\n"
        "  import aws_s3_bucket.logs\n"
        "  forget aws_iam_role.old (left running, no longer managed)"
    )


def test_a_high_risk_supervised_apply_asks_for_dns_readiness_in_the_confirmation(hub_world):
    hub = hub_world("cae")
    hub.fake_tofu.scenario(
        {
            "plan": {
                "resource_changes": [{"address": CERTIFICATE, "actions": ["create", "delete"]}]
            },
            "outputs": {"hub_load_balancer_hostname": hub.hostname},
        }
    )
    result = hub.invoke_on_terminal("apply", "--env", "cae", typed="cae\n")  # not enough here
    stdout, stderr = result.stdout, result.stderr

    assert "Routing forecast: high\n" in stdout, stderr
    assert "Type 'cae dns-ready' to apply it to cae (supervised): " in stdout, stderr
    assert result.returncode == 1
    assert "error: You typed 'cae', not 'cae dns-ready': nothing was applied." in stderr
    [record] = hub.records()
    assert record["forecast"]["risk"] == "high"
    history = hub.invoke("history", "--env", "cae")
    assert "forecast high, routing not checked" in history.stdout  # nothing was applied
