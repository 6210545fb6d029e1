"""`invoke apply` driving the real engine (Terraform or OpenTofu, `HUBOPS_TOFU_BIN`) end to end.

The hub's load balancer is made by the engine itself in moto's server (tests/engine_fixture/),
its state is in moto's S3 behind the backend `invoke backend` made, locked with the engine's own
S3 lock file; DNS is the loopback server. Skipped, with the reason, where no engine or provider
mirror is installed (tests/support/engine.py). Each engine command starts the AWS provider, so
these tests take tens of seconds each.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import time
from dataclasses import asdict
from pathlib import Path

from hubops.facts.plan_summary import summarize
from tests.support.engine_hub import DOMAIN, ENV_NAME

# Said by the engine when terraform_data.pause starts its `sleep` (the slow part of an apply).
PAUSE_STARTED = "terraform_data.pause (local-exec): Executing:"


def sleeps_running(seconds: int) -> list[int]:
    """Pids of `sleep SECONDS` processes (each test sleeps a number of its own)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[:2] == [b"sleep", str(seconds).encode()]:
            found.append(int(entry.name))
    return found


def sleeps_started(seconds: int, bound: float = 15) -> list[int]:
    """`sleeps_running`, given the moment between the engine saying it executes the provisioner
    and its shell exec'ing the sleep (long on a loaded machine)."""
    deadline = time.monotonic() + bound
    while not (found := sleeps_running(seconds)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def test_a_real_apply_that_changes_nothing_exits_0(engine_hub):
    hub = engine_hub

    result = hub.invoke("apply", "--env", ENV_NAME, "--yes")

    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        f"Routing unchanged: {ENV_NAME} is served by {hub.hostname} and {DOMAIN} points at it."
        in result.stdout
    )
    [record] = hub.records()
    assert record["applied"] is False
    assert record["exit_status"] == 0
    assert record["plan"] == asdict(summarize({"resource_changes": []}))  # no changes
    assert hub.s3_records() == [record]
    assert hub.lock_object() is None


def test_a_real_replacement_of_the_load_balancer_exits_3_with_the_dns_record(engine_hub):
    hub = engine_hub
    hub.commit_vars("The hub's load balancer, second generation", load_balancer_generation="2")
    planned = hub.own_plan_json()
    [change] = [rc for rc in planned["resource_changes"] if rc["address"] == "aws_elb.hub"]
    assert change["change"]["actions"] == ["delete", "create"]
    assert change["action_reason"] == "replace_because_cannot_update"
    assert ["name"] in change["change"]["replace_paths"]

    result = hub.invoke("apply", "--env", ENV_NAME, "--yes")

    new = hub.output_hostname()
    assert new != hub.hostname
    assert hub.aws_hostnames() == [new]
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"  {DOMAIN} CNAME {new}  (was {hub.hostname})\n" in result.stdout
    assert f"  - load balancer replaced: was {hub.hostname}, now {new}\n" in result.stdout
    assert f"error: the routing of {ENV_NAME} changed: update DNS by hand (above)." in (
        result.stderr
    )
    [record] = hub.records()
    assert record["applied"] is True
    assert record["exit_status"] == 3
    assert record["verdict"]["dns_record"] == f"{DOMAIN} CNAME {new}  (was {hub.hostname})"
    # What the run recorded as its plan is what the engine itself says the plan is.
    assert record["plan"] == asdict(summarize(planned))
    assert record["plan"]["replace"] == ["aws_elb.hub"]
    assert hub.s3_records() == [record]


def test_a_second_apply_while_the_first_holds_the_state_lock_says_who_holds_it(engine_hub):
    hub = engine_hub
    hub.commit_vars("A slow apply", pause_token="lock", apply_pause_seconds=1171)
    elsewhere = hub.clone("another-operator")
    first = hub.start_invoke("apply", "--env", ENV_NAME, "--yes")
    try:
        first.wait_for(PAUSE_STARTED)
        held = hub.lock_object()
        assert held is not None and held["Operation"] == "OperationTypeApply"

        second = hub.invoke("apply", "--env", ENV_NAME, "--yes", root=elsewhere)
    finally:
        first.stop()  # Ctrl-C: no need to sleep it out

    assert second.returncode == 1, second.stdout + second.stderr
    assert (
        f"The state of {ENV_NAME} is locked by another run (ID: {held['ID']}, "
        f"Operation: OperationTypeApply, Who: {held['Who']}, Created: "
    ) in second.stderr, second.stderr
    assert "rerun with --lock-timeout=10m to wait for the lock" in second.stderr
    assert f"force-unlock {held['ID']}" in second.stderr
    assert hub.lock_object() is None


def test_ctrl_c_during_a_real_apply_stops_the_engine_and_releases_the_lock(engine_hub):
    hub = engine_hub
    hub.commit_vars("A slow apply", pause_token="interrupted", apply_pause_seconds=1187)
    run = hub.start_invoke("apply", "--env", ENV_NAME, "--yes")
    try:
        run.wait_for(PAUSE_STARTED)
        assert hub.lock_object() is not None
        assert sleeps_started(1187)

        run.process.send_signal(signal.SIGINT)
        returncode, stdout, stderr = run.finish()
    finally:
        run.stop()

    assert returncode == 1, stdout + stderr
    assert "Interrupt received." in stdout + stderr  # the engine's own words: it got the signal
    assert sleeps_running(1187) == []
    assert hub.lock_object() is None
    [record] = hub.records()
    assert record["interrupted"] is True
    assert record["applied"] is True
    assert record["exit_status"] == 1
    assert record["after"]["load_balancers"][0]["hostname"] == hub.hostname
    assert record["verdict"]["changed"] is False
    assert hub.s3_records() == [record]

    hub.commit_vars("The pause, quick this time", pause_token="interrupted")
    again = hub.invoke("apply", "--env", ENV_NAME, "--yes")

    assert again.returncode == 0, again.stdout + again.stderr
    assert os.path.isfile(hub.root / ".terraform.lock.hcl")


def test_a_real_reviewed_plan_is_applied_only_with_the_variables_of_its_commit(
    engine_hub, tmp_path
):
    """The engine's plan holds every root variable (defaults too): all must be HEAD's."""
    hub = engine_hub
    out = tmp_path / "cae.tfplan"
    planned = hub.invoke("plan", "--env", ENV_NAME, "--out", str(out))
    assert planned.returncode == 0, planned.stdout + planned.stderr
    sha256 = re.search(r"^Saved plan: \S+ \(sha256 ([0-9a-f]{64})\)$", planned.stdout, re.M)[1]
    origin = json.loads(Path(f"{out}.json").read_text())
    committed = hub.vars_file.read_text()
    hub.vars_file.write_text(committed + 'load_balancer_generation = "2"\n')
    previewed = hub.invoke("plan", "--env", ENV_NAME)  # uncommitted: a preview
    hub.vars_file.write_text(committed)
    dirty, dirty_sha256 = re.search(
        r"^Saved plan: (\S+) \(sha256 ([0-9a-f]{64})\)$", previewed.stdout, re.M
    ).groups()
    Path(f"{dirty}.json").write_text(json.dumps({**origin, "plan_sha256": dirty_sha256}))

    refused = hub.invoke(
        "apply", "--env", ENV_NAME, "--plan-file", dirty, "--plan-sha256", dirty_sha256, "--yes"
    )
    applied = hub.invoke(
        "apply", "--env", ENV_NAME, "--plan-file", str(out), "--plan-sha256", sha256, "--yes"
    )

    assert refused.returncode == 1
    assert refused.stderr.endswith(
        f"error: the plan's variables differ from what commit {origin['commit'][:12]}'s "
        f"environments/{ENV_NAME}/terraform.tfvars and variables.tf give "
        "(load_balancer_generation): it was made from other files. Make a new plan from a clean "
        "checkout. Nothing was applied.\n"
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert [r["commit"] for r in hub.records()] == [origin["commit"]] * 2


def test_a_real_reviewed_plan_is_applied_only_with_the_configuration_of_its_commit(
    engine_hub, tmp_path
):
    """The engine's plan carries its configuration: an uncommitted .tf planned, then deleted, and
    the plan applied with the clean plan's origin would create its resource. Refused."""
    hub = engine_hub
    out = tmp_path / "cae.tfplan"
    planned = hub.invoke("plan", "--env", ENV_NAME, "--out", str(out))
    assert planned.returncode == 0, planned.stdout + planned.stderr
    origin = json.loads(Path(f"{out}.json").read_text())
    extra = hub.root / "zz.tf"
    extra.write_text('resource "terraform_data" "evil" {\n  input = "x"\n}\n')
    previewed = hub.invoke("plan", "--env", ENV_NAME)  # uncommitted: a preview
    extra.unlink()
    assert "terraform_data.evil" in previewed.stdout
    dirty, dirty_sha256 = re.search(
        r"^Saved plan: (\S+) \(sha256 ([0-9a-f]{64})\)$", previewed.stdout, re.M
    ).groups()
    Path(f"{dirty}.json").write_text(json.dumps({**origin, "plan_sha256": dirty_sha256}))

    refused = hub.invoke(
        "apply", "--env", ENV_NAME, "--plan-file", dirty, "--plan-sha256", dirty_sha256, "--yes"
    )

    assert refused.returncode == 1
    assert refused.stderr.endswith(
        f"error: the plan's configuration is not commit {origin['commit'][:12]}'s: zz.tf (not in "
        "the commit): it was made from other files. Make a new plan from a clean checkout. "
        "Nothing was applied.\n"
    )
    assert hub.records() == []


def test_a_supervised_real_engine_gets_hubops_cli_configuration_and_no_plugin_cache(
    engine_hub, tmp_path
):
    """Production's engine installs its providers from the operator's mirror, carried over into
    the configuration hubops writes, and never from (or into) the shell's plugin cache."""
    hub = engine_hub
    cache = tmp_path / "plugin-cache"
    cache.mkdir()
    # init installs the providers anew
    shutil.rmtree(hub.root / ".hubops/tofu-data" / ENV_NAME, ignore_errors=True)
    hub.environ["TF_PLUGIN_CACHE_DIR"] = str(cache)

    planned = hub.invoke("plan", "--env", ENV_NAME)

    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "hubops: ignoring TF_PLUGIN_CACHE_DIR from the shell" in planned.stderr
    assert list(cache.iterdir()) == []
    written = (hub.root / ".hubops/engine-config" / ENV_NAME / "hubops.tfrc").read_text()
    assert "filesystem_mirror {" in written
