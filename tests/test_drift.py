"""`invoke drift`: a refresh-only plan and the routing check, changing nothing.

Through the real parts: moto's server (the hub's load balancer, the state backend), the loopback
DNS server, the fake tofu answering `plan -refresh-only` in OpenTofu's plan JSON, held to the
format by OpenTofu's own sample and, where installed, by the real engine, which also runs
`invoke drift` itself against a load balancer changed behind its back.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import boto3
import pytest

from tests.support.invoking import run_invoke
from tests.support.moto_server import TEST_REGION
from tests.test_fake_tofu_conformance import (
    TERRAFORM_ONLY,
    is_terraform,
    run,
    sample,
    scenario_like,
    shape_problems,
)

NODE_GROUP = 'module.eks.aws_eks_node_group.this["main"]'
DRIFT = [
    {"address": NODE_GROUP, "actions": ["update"]},
    {"address": "module.users.aws_efs_file_system.home", "actions": ["delete"]},
]
EKS_403 = (
    "reading EKS Cluster (cae-testing): operation error EKS: DescribeCluster, https response "
    "error StatusCode: 403, RequestID: 5a1b, api error AccessDeniedException: not authorized"
)


def drift_world(hub, drift=(), **plan) -> None:
    """The fake's refresh finds `drift` (resource_drift entries); the state has the hub's output."""
    hub.fake_tofu.scenario(
        {
            "outputs": {"hub_load_balancer_hostname": hub.hostname},
            "plan": {"resource_drift": list(drift), **plan},
        }
    )


def run_drift(hub, tmp_path: Path, *extra: str):
    """`invoke drift --env ENV` as a GitHub job runs it: (result, the job summary's text)."""
    summary = tmp_path / "step-summary.md"
    summary.touch()
    hub.environ["GITHUB_STEP_SUMMARY"] = str(summary)
    result = hub.invoke("drift", "--env", hub.env_name, *extra)
    return result, summary.read_text()


def state_files(fake_tofu) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(fake_tofu.state_dir.glob("*"))}


def refresh_call(hub) -> list[str]:
    [call] = [c for c in hub.fake_tofu.calls() if c[0] == "plan"]
    return call


def assert_changed_nothing(hub, state_before: dict[str, str]) -> None:
    """Read-only: no apply, no plan but a refresh-only one, the state untouched, no plan left."""
    calls = hub.fake_tofu.calls()
    assert [c for c in calls if c[0] == "apply"] == []
    assert all("-refresh-only" in c for c in calls if c[0] == "plan")
    assert state_files(hub.fake_tofu) == state_before
    assert list((hub.root / ".hubops" / "plans" / hub.env_name).iterdir()) == []


def routing_ok_line(hub) -> str:
    served = f"Routing unchanged: {hub.env_name} is served by {hub.hostname}"
    return served + (f" and {hub.domain} points at it." if hub.domain else ".")


# -- the outcomes ---------------------------------------------------------------------------------


def test_drift_exits_0_when_the_real_objects_match_the_state_and_routing_holds(hub_world, tmp_path):
    hub = hub_world("cae")
    drift_world(hub)
    before = state_files(hub.fake_tofu)

    result, summary = run_drift(hub, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(
        "\nNo changes. Your infrastructure still matches the configuration.\n\n"
        "OpenTofu has checked that the real remote objects still match the result of\n"
        "your most recent changes, and found no differences.\n"
        "\n"
        "No drift: the real objects of cae match its state.\n"
        f"{routing_ok_line(hub)}\n"
    )
    plan_file = refresh_call(hub)[-2].removeprefix("-out=")
    assert hub.fake_tofu.calls() == [
        ["version", "-json"],
        [
            "init", "-no-color", "-input=false", "-reconfigure",
            "-backend-config=environments/cae/backend.hcl",
        ],
        [
            "plan", "-no-color", "-refresh-only", "-input=false", "-lock-timeout=0s",
            "-var-file=environments/cae/terraform.tfvars",
            "-var-file=environments/cae/promotion.tfvars", f"-out={plan_file}",
            "-detailed-exitcode",
        ],
        ["show", "-no-color", "-json", plan_file],
        ["output", "-no-color", "-json"],
    ]  # fmt: skip
    assert plan_file.startswith(".hubops/plans/cae/") and plan_file.endswith(".tfplan")
    assert_changed_nothing(hub, before)
    assert summary == (
        "### Drift of cae: no drift, routing holds\n\n"
        "The real objects match the state.\n\n"
        "Routing:\n\n"
        f"    {routing_ok_line(hub)}\n\n"
    )


def test_drift_exits_2_and_lists_each_drifted_address_with_its_action(hub_world, tmp_path):
    hub = hub_world("cae-dev")
    drift_world(hub, DRIFT)
    before = state_files(hub.fake_tofu)

    result, summary = run_drift(hub, tmp_path)

    assert result.returncode == 2, result.stderr
    assert result.stdout.endswith(
        "record the updated values in the OpenTofu state without changing any remote\nobjects.\n"
        "\n"
        "Drift: 2 resources of cae-dev changed outside OpenTofu (the state no longer describes "
        "them):\n"
        f"  update  {NODE_GROUP}\n"
        "  delete  module.users.aws_efs_file_system.home\n"
        "Nothing was changed. `invoke plan --env cae-dev` shows what an apply would do about it; "
        "or change the configuration to match.\n"
        f"{routing_ok_line(hub)}\n"
    )
    assert "error" not in result.stderr
    assert_changed_nothing(hub, before)
    assert summary == (
        "### Drift of cae-dev: 2 resources changed outside OpenTofu\n\n"
        "| resource | drift |\n"
        "|---|---|\n"
        f"| `{NODE_GROUP}` | update |\n"
        "| `module.users.aws_efs_file_system.home` | delete |\n\n"
        "Routing:\n\n"
        f"    {routing_ok_line(hub)}\n\n"
    )


def test_a_move_without_a_change_is_not_drift(hub_world, tmp_path):
    # In a refresh-only plan, OpenTofu lists moved objects in resource_drift with "no-op".
    hub = hub_world("cae-testing")
    drift_world(hub, [{"address": "aws_security_group.hub", "actions": ["no-op"]}])

    result, _ = run_drift(hub, tmp_path)

    assert result.returncode == 0, result.stderr
    assert "No drift: the real objects of cae-testing match its state.\n" in result.stdout


def test_drift_exits_3_when_dns_points_elsewhere_and_still_lists_the_drift(hub_world, tmp_path):
    hub = hub_world("cae-dev")
    drift_world(hub, DRIFT[:1])
    hub.dns.set_cname("hub-dev.example.org", "stale-lb.example.net")
    before = state_files(hub.fake_tofu)

    result, summary = run_drift(hub, tmp_path)

    assert result.returncode == 3
    routing = (
        "Routing changed or could not be verified for cae-dev:\n"
        "  - DNS for hub-dev.example.org points at stale-lb.example.net, not at the load "
        f"balancer {hub.hostname}\n"
        "Set this DNS record by hand so that users can log in:\n"
        f"  hub-dev.example.org CNAME {hub.hostname}  (was stale-lb.example.net)\n"
    )
    assert result.stdout.endswith(
        "\nDrift: 1 resource of cae-dev changed outside OpenTofu (the state no longer describes "
        "them):\n"
        f"  update  {NODE_GROUP}\n"
        "Nothing was changed. `invoke plan --env cae-dev` shows what an apply would do about it; "
        "or change the configuration to match.\n" + routing
    )
    assert_changed_nothing(hub, before)
    assert summary.startswith(
        "### Drift of cae-dev: the routing does not hold: update DNS by hand\n\n"
        "| resource | drift |\n|---|---|\n"
        f"| `{NODE_GROUP}` | update |\n\n"
        "Routing:\n\n"
        "    Routing changed or could not be verified for cae-dev:\n"
    )
    assert f"      hub-dev.example.org CNAME {hub.hostname}  (was stale-lb.example.net)\n" in (
        summary
    )


def test_a_refresh_that_errors_exits_1_with_tofus_error(hub_world, tmp_path):
    hub = hub_world("cae-testing")
    drift_world(
        hub,
        DRIFT,
        resource_changes=[{"address": "module.eks.aws_eks_cluster.this", "actions": ["update"]}],
        refresh_error={"summary": EKS_403, "address": "module.eks.aws_eks_cluster.this"},
    )
    before = state_files(hub.fake_tofu)

    result, summary = run_drift(hub, tmp_path)

    assert result.returncode == 1
    # The command is named as it was asked for, without the -no-color added for a pipe.
    command = shlex.join(["tofu", *(arg for arg in refresh_call(hub) if arg != "-no-color")])
    tofus_error = (
        "╷\n"
        "│ Error: reading EKS Cluster (cae-testing): operation error EKS: DescribeCluster, https "
        "response error StatusCode: 403, RequestID: 5a1b, api error AccessDeniedException: not "
        "authorized\n"
        "│\n"
        "│   with module.eks.aws_eks_cluster.this,\n"
        "╵"
    )
    assert result.stderr.endswith(
        f"error: `{command}` failed with exit status 1 (its errors are above)\n"
        "Fix what tofu reports above, then run again.\n"
    )
    assert result.stderr.count(tofus_error) == 1  # as the engine drew it, once
    # The routing is still checked: a broken one would be exit 3.
    assert result.stdout.endswith(
        "\nDrift of cae-testing: not known, the refresh-only plan failed (below).\n"
        f"{routing_ok_line(hub)}\n"
    )
    assert [c[0] for c in hub.fake_tofu.calls()] == ["version", "init", "plan", "output"]
    assert_changed_nothing(hub, before)
    assert summary == (
        "### Drift of cae-testing: the refresh failed\n\n"
        "The refresh-only plan failed:\n\n"
        + "\n".join(
            f"    {line}"
            for line in (
                f"`{command}` failed with exit status 1; its last lines of stderr:\n"
                f"{tofus_error}\nFix what tofu reports above, then run again."
            ).splitlines()
        )
        + "\n\nRouting:\n\n"
        f"    {routing_ok_line(hub)}\n\n"
    )


def test_a_held_state_lock_is_a_failed_refresh_with_the_lock_named(hub_world, tmp_path):
    hub = hub_world("cae-dev")
    hub.fake_tofu.scenario(
        {
            "outputs": {"hub_load_balancer_hostname": hub.hostname},
            "lock": {
                "id": "5f1c-lock",
                "who": "operator@laptop",
                "operation": "OperationTypeApply",
            },
        }
    )

    result, summary = run_drift(hub, tmp_path, "--lock-timeout", "2s")

    assert result.returncode == 1
    assert "-lock-timeout=2s" in refresh_call(hub)
    assert result.stderr.endswith(
        "The state of cae-dev is locked by another run (ID: 5f1c-lock, Operation: "
        "OperationTypeApply, Who: operator@laptop, Created: "
        + result.stderr.split("Created: ")[-1].split(")")[0]
        + "). Wait for it to finish, or rerun with --lock-timeout=10m to wait for the lock. If "
        "that run is dead, agree with its owner, then `tofu force-unlock 5f1c-lock`.\n"
    )
    assert summary.startswith("### Drift of cae-dev: the refresh failed\n\n")


def test_drift_without_aws_credentials_exits_4_and_concludes_nothing(hub_world, tmp_path):
    hub = hub_world("cae-dev")
    drift_world(hub, DRIFT)
    summary = tmp_path / "step-summary.md"
    env = {**hub.process_env(), "GITHUB_STEP_SUMMARY": str(summary)}
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(name, None)

    result = run_invoke("drift", "--env", "cae-dev", cwd=hub.root, env=env)

    assert result.returncode == 4
    assert result.stdout == ""
    no_credentials = (
        "AWS get_caller_identity failed: no usable AWS credentials. Set AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) for the environment's account and try again."
    )
    assert result.stderr == (
        f"error: could not look at cae-dev: {no_credentials}\n"
        "Nothing was concluded about drift or DNS: fix the AWS access (`invoke whoami --env "
        "cae-dev`), then run drift again.\n"
    )
    assert hub.fake_tofu.calls() == [["version", "-json"]]  # the tools check only
    assert summary.read_text() == (
        "### Drift of cae-dev: could not look (AWS could not be asked)\n\n"
        f"AWS could not be asked:\n\n    {no_credentials}\n\n"
        "Nothing was concluded about drift or DNS: fix the role's access, then run the check "
        "again.\n\n"
    )


def test_a_precondition_that_fails_is_named_in_the_job_summary_too(hub_world, tmp_path):
    hub = hub_world("cae")
    hub.environ["HUBOPS_TOFU_BIN"] = str(tmp_path / "no-such-tofu")

    result, summary = run_drift(hub, tmp_path)

    assert result.returncode == 1
    [message] = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert summary == (
        "### Drift of cae: not checked\n\n" + f"    {message.removeprefix('error: ')}\n\n"
    )
    assert hub.fake_tofu.calls() == []


# -- the fake's refresh-only plan, held to OpenTofu's format ---------------------------------------


def fake_refresh_only_json(fake_tofu, tmp_path: Path, scenario: dict) -> tuple[int, dict]:
    fake_tofu.scenario(scenario)
    (tmp_path / "backend.hcl").write_text('bucket = "state"\nkey = "drift.tfstate"\n')
    (tmp_path / "vars.tfvars").write_text("")
    run(fake_tofu, tmp_path, "init", "-input=false", "-backend-config=backend.hcl")
    planned = run(
        fake_tofu,
        tmp_path,
        "plan",
        "-refresh-only",
        "-input=false",
        "-var-file=vars.tfvars",
        "-out=plan.bin",
        "-detailed-exitcode",
    )
    return planned.returncode, json.loads(
        run(fake_tofu, tmp_path, "show", "-json", "plan.bin").stdout
    )


def test_the_fakes_refresh_only_plan_has_opentofus_resource_drift_and_no_change(
    fake_tofu, tmp_path
):
    real = sample("plan-update-in-place-with-drift.json")

    status, fake = fake_refresh_only_json(fake_tofu, tmp_path, scenario_like(real))

    assert shape_problems(real["resource_drift"], fake["resource_drift"]) == []
    assert (
        fake["resource_drift"][0]["change"]["after"] == real["resource_drift"][0]["change"]["after"]
    )
    # Refresh-only plans plan no change (OpenTofu's planner refuses one that does), and OpenTofu
    # 1.10 exits 0 under -detailed-exitcode even so (opentofu/opentofu#3107).
    assert "resource_changes" not in fake
    assert status == 0
    # The refreshed state is the prior state: the real object's values.
    [prior] = fake["prior_state"]["values"]["root_module"]["resources"]
    assert prior["values"] == real["resource_drift"][0]["change"]["after"]


def test_the_fake_refuses_a_refresh_only_destroy_as_opentofu_does(fake_tofu, tmp_path):
    (tmp_path / "backend.hcl").write_text('bucket = "state"\nkey = "drift.tfstate"\n')
    run(fake_tofu, tmp_path, "init", "-input=false", "-backend-config=backend.hcl")

    result = run(fake_tofu, tmp_path, "plan", "-refresh-only", "-destroy", check=False)

    assert result.returncode == 1
    assert "Error: Incompatible plan mode options" in result.stderr


# -- the real engine ----------------------------------------------------------------------------


def tag_load_balancer_behind_the_engines_back(hub) -> None:
    elb = boto3.client("elb", region_name=TEST_REGION)
    [described] = [
        d
        for d in elb.describe_load_balancers()["LoadBalancerDescriptions"]
        if d["DNSName"].lower() == hub.hostname
    ]
    elb.add_tags(
        LoadBalancerNames=[described["LoadBalancerName"]],
        Tags=[{"Key": "owner", "Value": "someone-by-hand"}],
    )


def engine_refresh_only_json(hub) -> dict:
    """The engine's own refresh-only plan of the committed files (no lock taken)."""
    hub.engine(
        "init",
        "-input=false",
        "-reconfigure",
        "-backend-config=environments/cae/backend.hcl",
        data_dir="own-refresh",
    )
    plan = hub.work / "refresh.tfplan"
    hub.engine(
        "plan",
        "-refresh-only",
        "-input=false",
        "-lock=false",
        "-var-file=environments/cae/terraform.tfvars",
        f"-out={plan}",
        data_dir="own-refresh",
    )
    return json.loads(hub.engine("show", "-json", str(plan), data_dir="own-refresh").stdout)


def test_the_real_engine_drift_of_the_hubs_load_balancer_is_exit_2_with_its_address(engine_hub):
    hub = engine_hub
    served = (
        f"Routing unchanged: cae is served by {hub.hostname} and hub.example.org points at it.\n"
    )

    unchanged = hub.invoke("drift", "--env", "cae")
    # Terraform exits 2 from this refresh-only plan although nothing drifted: only the plan's
    # resource_drift is read.
    assert unchanged.returncode == 0, unchanged.stdout[-3000:] + unchanged.stderr[-3000:]
    assert unchanged.stdout.endswith(
        "\nNo drift: the real objects of cae match its state.\n" + served
    )

    tag_load_balancer_behind_the_engines_back(hub)
    drifted = hub.invoke("drift", "--env", "cae")

    assert drifted.returncode == 2, drifted.stdout[-3000:] + drifted.stderr[-3000:]
    assert drifted.stdout.endswith(
        "\nDrift: 1 resource of cae changed outside OpenTofu (the state no longer describes "
        "them):\n"
        "  update  aws_elb.hub\n"
        "Nothing was changed. `invoke plan --env cae` shows what an apply would do about it; "
        "or change the configuration to match.\n" + served
    )
    assert list((hub.root / ".hubops" / "plans" / "cae").iterdir()) == []
    # Nothing was changed: the tag is still there, the state still lacks it.
    assert [r["change"]["actions"] for r in engine_refresh_only_json(hub)["resource_drift"]] == [
        ["update"]
    ]


@pytest.mark.parametrize("drifted", [False, True], ids=["no-drift", "drift"])
def test_the_fakes_refresh_only_plan_has_the_shape_of_the_real_engines(
    engine_hub, fake_tofu, tmp_path, drifted
):
    if drifted:
        tag_load_balancer_behind_the_engines_back(engine_hub)
    real = engine_refresh_only_json(engine_hub)
    if is_terraform(engine_hub.real_engine.binary):
        real = {k: v for k, v in real.items() if k not in TERRAFORM_ONLY}

    _, fake = fake_refresh_only_json(fake_tofu, tmp_path, scenario_like(real))

    # What a refresh-only plan holds, key for key. The fake models the state's resources only as
    # far as its scenario names them (the drifted ones), so the configuration's and the prior
    # state's lists of resources are compared for their top-level keys only.
    aside = {"configuration", "prior_state", "variables"}
    assert set(real) - aside == set(fake) - aside
    for key in set(real) - aside:
        assert shape_problems(real[key], fake[key], f"$.{key}") == [], key
    assert ("resource_drift" in real) is drifted
