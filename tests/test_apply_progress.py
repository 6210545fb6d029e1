"""What the operator reads while `invoke apply` runs: progress from the engine's `apply -json`,
and its errors (a held lock included), which arrive in that mode as messages on stdout."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

NODE_GROUP = 'module.eks.aws_eks_node_group.this["main"]'
CERTIFICATE = "module.hub.aws_acm_certificate.hub"


def scenario(hub, apply: dict) -> dict:
    return {
        "outputs": {"hub_load_balancer_hostname": hub.hostname},
        "plan": {
            "resource_changes": [
                {"address": NODE_GROUP, "actions": ["delete", "create"]},
                {"address": CERTIFICATE, "actions": ["create"]},
            ]
        },
        "apply": apply,
    }


def test_apply_shows_each_resource_as_it_starts_and_completes_and_times_the_slow_ones(hub_world):
    hub = hub_world("cae-testing")
    hub.fake_tofu.scenario(scenario(hub, {"elapsed_seconds": {NODE_GROUP: 95, CERTIFICATE: 45}}))

    result = hub.invoke("apply", "--env", "cae-testing", "--yes")

    assert result.returncode == 0, result.stderr
    assert (
        f"  destroying {NODE_GROUP}\n"
        f"  still destroying {NODE_GROUP} (30s elapsed)\n"
        f"  still destroying {NODE_GROUP} (1m00s elapsed)\n"
        f"  still destroying {NODE_GROUP} (1m30s elapsed)\n"
        f"  destroyed {NODE_GROUP} after 1m35s\n"
        f"  creating {NODE_GROUP}\n"
        f"  still creating {NODE_GROUP} (30s elapsed)\n"
        f"  still creating {NODE_GROUP} (1m00s elapsed)\n"
        f"  still creating {NODE_GROUP} (1m30s elapsed)\n"
        f"  created {NODE_GROUP} after 1m35s (1 of 2)\n"
        f"  creating {CERTIFICATE}\n"
        f"  still creating {CERTIFICATE} (30s elapsed)\n"
        f"  created {CERTIFICATE} after 45s (2 of 2)\n"
        "Apply complete: 2 added, 0 changed, 1 destroyed; resources done: 2 of 2.\n"
        "Recording the routing of cae-testing after the run ...\n"
    ) in result.stdout
    assert '{"@level"' not in result.stdout + result.stderr  # no raw JSON reaches the operator
    [apply] = [call for call in hub.fake_tofu.calls() if call[0] == "apply"]
    assert "-json" in apply


def test_a_failing_apply_names_what_failed_and_keeps_the_engines_error(hub_world):
    hub = hub_world("cae-testing")
    failure = {"summary": "waiting for EKS Node Group create: timeout", "address": NODE_GROUP}
    hub.fake_tofu.scenario(scenario(hub, {"fail": failure}))

    result = hub.invoke("apply", "--env", "cae-testing", "--yes")

    assert result.returncode == 1
    assert f"  FAILED creating {NODE_GROUP} after 0s\n" in result.stdout
    assert (
        f"Apply did not complete; resources done: 1 of 2; failed: {NODE_GROUP}.\n"
    ) in result.stdout
    box = f"╷\n│ Error: waiting for EKS Node Group create: timeout\n│\n│   with {NODE_GROUP},\n╵\n"
    assert box in result.stderr  # as it happened, once: the error message points at it
    assert result.stderr.count(box) == 1
    assert "failed with exit status 1 (its errors are above)\n" in result.stderr
    [record] = hub.records()
    assert "waiting for EKS Node Group create: timeout" in record["error"]


def test_a_lock_taken_between_plan_and_apply_says_who_holds_it(hub_world, tmp_path):
    hub = hub_world("cae-testing")
    hub.fake_tofu.scenario(scenario(hub, {}))
    plan_file = tmp_path / "reviewed.tfplan"
    planned = hub.invoke("plan", "--env", "cae-testing", "--out", str(plan_file))
    assert planned.returncode == 0, planned.stderr
    held = {"who": "alice@laptop", "id": "5f5c0e4b"}
    hub.fake_tofu.scenario({**scenario(hub, {}), "lock": held})
    digest = hashlib.sha256(Path(plan_file).read_bytes()).hexdigest()

    result = hub.invoke(
        "apply", "--env", "cae-testing", "--plan-file", str(plan_file), "--plan-sha256", digest,
        "--yes",
    )  # fmt: skip

    assert result.returncode == 1
    assert "│ Error: Error acquiring the state lock\n" in result.stderr
    assert (
        "The state of cae-testing is locked by another run (ID: 5f5c0e4b, "
        "Operation: OperationTypeApply, Who: alice@laptop, Created: "
    ) in result.stderr
    assert "rerun with --lock-timeout=10m to wait for the lock" in result.stderr
    assert "`tofu force-unlock 5f5c0e4b`" in result.stderr
    [record] = hub.records()
    assert record["applied"] is False  # the engine stopped at the lock: nothing was applied
    assert "is locked by another run" in json.dumps(record["error"])
