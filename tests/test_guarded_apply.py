"""`invoke apply` under the drift-safety promise, run as an operator runs it."""

from __future__ import annotations

import hashlib
import json
import re
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from hubops.facts.outcome import Outcome
from tests.support.invoking import invoke_command
from tests.support.running import Running


def test_cae_apply_passes_when_routing_is_unchanged_and_runs_tofu_for_cae_only(hub_world):
    hub = hub_world("cae")
    hub.replace_node_group()

    result = hub.invoke("apply", "--env", "cae", "--yes")

    assert result.returncode == 0, result.stderr
    assert "Plan: 0 to add, 0 to change, 0 to destroy, 1 to replace." in result.stdout
    assert (
        f"Routing unchanged: cae is served by {hub.hostname} and hub.example.org points at it."
        in result.stdout
    )
    [record] = hub.records()
    assert record["exit_status"] == 0
    assert record["verdict"]["changed"] is False
    assert record["before"]["load_balancers"][0]["hostname"] == hub.hostname
    assert record["after"]["load_balancers"][0]["hostname"] == hub.hostname
    # The same run (one apply, checked twice over would cost a second): tofu ran for cae alone.
    calls = [call for call in hub.fake_tofu.calls() if call[0] in ("init", "plan", "apply")]
    plan_file = calls[2][-1]
    # Each run has its own plan file, removed afterwards: it holds variables and prior state.
    assert re.fullmatch(r"\.hubops/plans/cae/\d{8}T\d{6}Z-[0-9a-f]{8}\.tfplan", plan_file)
    assert not (hub.root / plan_file).exists()
    assert calls == [
        [
            "init",
            "-no-color",
            "-input=false",
            "-reconfigure",
            "-backend-config=environments/cae/backend.hcl",
        ],
        [
            "plan",
            "-no-color",
            "-input=false",
            "-lock-timeout=0s",
            "-var-file=environments/cae/terraform.tfvars",
            "-var-file=environments/cae/promotion.tfvars",
            f"-out={plan_file}",
            "-detailed-exitcode",
        ],
        ["apply", "-no-color", "-input=false", "-lock-timeout=0s", "-json", plan_file],
    ]
    for entry in [e for e in hub.fake_tofu.log() if e["argv"][0] != "version"]:
        assert entry["env"]["TF_DATA_DIR"] == str(hub.root / ".hubops" / "tofu-data" / "cae")
        assert entry["env"]["TF_IN_AUTOMATION"] == "1"


def test_cae_apply_fails_with_the_dns_record_when_the_load_balancer_is_replaced(hub_world):
    hub = hub_world("cae")
    hub.replace_node_group("replace_hub_load_balancer")

    result = hub.invoke("apply", "--env", "cae", "--yes")

    [new] = hub.hub_hostnames()
    assert new != hub.hostname
    assert result.returncode == 3
    assert f"  hub.example.org CNAME {new}  (was {hub.hostname})\n" in result.stdout
    assert f"  - load balancer replaced: was {hub.hostname}, now {new}\n" in result.stdout
    assert "error: the routing of cae changed: update DNS by hand (above)." in result.stderr
    [record] = hub.records()
    assert record["exit_status"] == 3
    assert record["verdict"]["dns_record"] == f"hub.example.org CNAME {new}  (was {hub.hostname})"


def apply_in_process(hub, monkeypatch, when_after_snapshot_starts):
    """guarded_apply in this process, with a hook run as the after-snapshot begins."""
    from hubops.adapters.environment_files import load_environment
    from hubops.flows.guarded_apply import guarded_apply

    for name, value in hub.environ.items():
        monkeypatch.setenv(name, value)
    said = []

    def say(line):
        said.append(line)
        if line.startswith("Recording the routing of"):
            when_after_snapshot_starts()

    env = load_environment(hub.root, hub.env_name)
    result = guarded_apply(hub.root, env, confirm=lambda summary, forecast: None, say=say)
    return result, env


def test_cae_apply_fails_when_dns_no_longer_points_at_the_load_balancer(hub_world, monkeypatch):
    hub = hub_world("cae")
    hub.replace_node_group()

    result, env = apply_in_process(
        hub, monkeypatch, lambda: hub.dns.set_cname("hub.example.org", "old-hub.example.net")
    )

    assert result.outcome is Outcome.ROUTING_CHANGED
    assert result.record.verdict.lines(env) == [
        "Routing changed or could not be verified for cae:",
        f"  - DNS for hub.example.org points at old-hub.example.net, not at the load balancer "
        f"{hub.hostname}",
        "Set this DNS record by hand so that users can log in:",
        f"  hub.example.org CNAME {hub.hostname}  (was old-hub.example.net)",
    ]


def test_cae_apply_fails_closed_when_dns_times_out_after_apply(hub_world, monkeypatch):
    hub = hub_world("cae")
    hub.replace_node_group()

    result, env = apply_in_process(
        hub, monkeypatch, lambda: hub.dns.fail("hub.example.org", "timeout")
    )

    assert result.outcome is Outcome.ROUTING_CHANGED
    [finding] = result.record.verdict.findings
    assert finding.startswith(
        "DNS for hub.example.org could not be verified: domain=hub.example.org status=timeout"
    )
    assert result.record.outcome is Outcome.ROUTING_CHANGED


def test_cae_apply_does_not_start_when_dns_already_points_elsewhere(hub_world):
    hub = hub_world("cae")
    hub.dns.set_cname("hub.example.org", "somewhere-else.example.net")
    hub.dns.set_a("somewhere-else.example.net", "192.0.2.99")
    hub.replace_node_group()

    result = hub.invoke("apply", "--env", "cae", "--yes")

    assert result.returncode == 1
    assert (
        "error: cae is supervised and its routing baseline cannot be verified, so the apply does "
        "not start:\n"
        f"  - DNS for hub.example.org points at somewhere-else.example.net, not at the load "
        f"balancer {hub.hostname}\n"
    ) in result.stderr
    assert not [call for call in hub.fake_tofu.calls() if call[0] in ("plan", "apply")]
    assert hub.records() == []


def test_cae_apply_does_not_start_without_a_load_balancer(hub_world):
    hub = hub_world("cae")
    from tests.support import aws_world

    aws_world.delete_hub_load_balancers(**hub.effect())

    result = hub.invoke("apply", "--env", "cae", "--yes")

    assert result.returncode == 1
    assert (
        "  - no load balancer found for the hub (service=jupyterhub/proxy-public cluster=cae "
        "region=us-west-2)\n"
    ) in result.stderr


def test_a_failed_apply_still_records_the_after_snapshot(hub_world):
    hub = hub_world("cae")
    hub.replace_node_group("replace_hub_load_balancer", apply={"fail": True})

    result = hub.invoke("apply", "--env", "cae", "--yes")

    [new] = hub.hub_hostnames()
    assert result.returncode == 3
    assert re.search(
        r"`tofu apply -input=false -lock-timeout=0s -json \.hubops/plans/cae/\S+\.tfplan` "
        r"failed",
        result.stderr,
    )
    [record] = hub.records()
    assert record["applied"] is True
    assert record["error"].startswith("`tofu apply")
    assert record["after"]["load_balancers"][0]["hostname"] == new
    assert record["exit_status"] == 3


def test_cae_dev_reports_a_replaced_load_balancer_but_exits_zero(hub_world):
    hub = hub_world("cae-dev")
    hub.replace_node_group("replace_hub_load_balancer")

    result = hub.invoke("apply", "--env", "cae-dev", "--yes")

    [new] = hub.hub_hostnames()
    assert result.returncode == 0, result.stderr
    assert f"  hub-dev.example.org CNAME {new}  (was {hub.hostname})\n" in result.stdout
    [record] = hub.records()
    assert record["verdict"]["changed"] is True
    assert record["exit_status"] == 0


def test_cae_testing_reports_the_new_hub_address(hub_world):
    hub = hub_world("cae-testing")
    hub.replace_node_group("replace_hub_load_balancer")

    result = hub.invoke("apply", "--env", "cae-testing", "--yes")

    [new] = hub.hub_hostnames()
    assert result.returncode == 0, result.stderr
    assert f"The hub's address is now http://{new}\n" in result.stdout


def test_ctrl_c_is_forwarded_to_tofu_once_and_the_run_is_recorded(hub_world):
    hub = hub_world("cae")
    hub.replace_node_group(apply={"interrupt": True})
    run = Running(
        subprocess.Popen(
            invoke_command("apply", "--env", "cae", "--yes"),
            cwd=hub.root,
            env=hub.process_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    )
    deadline = time.monotonic() + 60
    while not any(call[0] == "apply" for call in hub.fake_tofu.calls()):
        assert time.monotonic() < deadline, "tofu apply never started"
        time.sleep(0.05)
    run.process.send_signal(signal.SIGINT)
    run.wait_for("passing an interrupt to tofu once")
    run.process.send_signal(signal.SIGINT)  # an impatient second Ctrl-C is held, not forwarded
    returncode, stdout, stderr = run.finish(timeout=60)

    apply_entry = [e for e in hub.fake_tofu.log() if e["argv"][0] == "apply"][0]
    assert apply_entry["signals"] == ["SIGINT"]
    assert "Interrupt received." in stdout
    assert "tofu was already asked to stop" in stderr
    assert returncode == 1
    [record] = hub.records()
    assert record["interrupted"] is True
    assert record["after"] is not None


def test_cae_apply_without_a_terminal_or_yes_refuses_at_once(hub_world):
    hub = hub_world("cae")

    result = hub.invoke("apply", "--env", "cae", input="")

    assert result.returncode == 1
    assert result.stderr == (
        "error: cae is supervised and asks for confirmation, but no terminal is attached: run it "
        "from a terminal, or pass --yes where a reviewed GitHub environment is the gate.\n"
    )
    assert hub.fake_tofu.calls() == []


def test_unknown_environment_lists_the_known_ones(hub_world):
    hub = hub_world("cae-testing")

    result = hub.invoke("apply", "--env", "prod", "--yes")

    assert result.returncode == 1
    assert result.stderr == (
        "error: Unknown environment 'prod': the known ones are cae-testing, cae-dev, cae "
        f"(folders under {hub.root / 'environments'}).\n"
    )


def test_missing_tofu_says_how_to_install_it(hub_world, tmp_path):
    hub = hub_world("cae-testing")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    hub.environ["PATH"] = str(empty)
    hub.environ["HUBOPS_TOFU_BIN"] = ""

    result = hub.invoke("apply", "--env", "cae-testing", "--yes")

    assert result.returncode == 1
    assert (
        "error: No `tofu` on PATH: install OpenTofu (https://opentofu.org/docs/intro/install/) "
        "or set HUBOPS_TOFU_BIN to its path." in result.stderr
    )


def test_a_held_state_lock_says_who_holds_it_and_how_to_wait(hub_world):
    hub = hub_world("cae-testing")
    hub.fake_tofu.scenario({"lock": {"who": "alice@laptop", "id": "5f5c0e4b"}})

    result = hub.invoke("plan", "--env", "cae-testing")

    assert result.returncode == 1
    assert (
        "The state of cae-testing is locked by another run (ID: 5f5c0e4b, "
        "Operation: OperationTypePlan, Who: alice@laptop, Created: "
    ) in result.stderr
    assert "rerun with --lock-timeout=10m to wait for the lock" in result.stderr


@pytest.mark.parametrize("env_name", ["cae-testing"])
def test_plan_summarises_replacements_with_their_addresses(hub_world, env_name):
    hub = hub_world(env_name)
    hub.replace_node_group()

    result = hub.invoke("plan", "--env", env_name)

    assert result.returncode == 0, result.stderr
    assert (
        "Plan: 0 to add, 0 to change, 0 to destroy, 1 to replace.\n"
        '  replace module.eks.aws_eks_node_group.this["main"] (replace_because_cannot_update)\n'
    ) in result.stdout
    saved = re.search(r"^Saved plan: (\S+) \(sha256 ([0-9a-f]{64})\)$", result.stdout, re.M)
    plan_file = Path(saved[1])
    assert plan_file.parent == hub.root / ".hubops" / "plans" / env_name
    assert hashlib.sha256(plan_file.read_bytes()).hexdigest() == saved[2]
    assert stat.S_IMODE(plan_file.stat().st_mode) == 0o600


def test_cae_apply_fails_when_tofu_output_disagrees_with_aws(hub_world):
    hub = hub_world("cae")
    hub.replace_node_group(apply={"outputs": {"hub_load_balancer_hostname": "stale.example.net"}})

    result = hub.invoke("apply", "--env", "cae", "--yes")

    assert result.returncode == 3
    assert (
        "  - tofu output hub_load_balancer_hostname=stale.example.net disagrees with AWS "
        f"(load balancer {hub.hostname})\n"
    ) in result.stdout


def test_cae_apply_asks_on_a_terminal_and_a_typo_applies_nothing(hub_world):
    hub = hub_world("cae")
    hub.replace_node_group()

    result = hub.invoke_on_terminal("apply", "--env", "cae", typed="cea\n")

    assert result.returncode == 1
    assert "error: You typed 'cea', not 'cae': nothing was applied." in result.stderr
    assert not [call for call in hub.fake_tofu.calls() if call[0] == "apply"]
    [record] = hub.records()
    assert record["applied"] is False and record["exit_status"] == 1


def test_apply_refuses_a_checkout_that_is_not_the_commit_ci_deploys(hub_world):
    hub = hub_world("cae-dev")
    hub.environ["GITHUB_SHA"] = "0123456789abcdef0123456789abcdef01234567"

    result = hub.invoke("apply", "--env", "cae-dev", "--yes")

    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=hub.root, capture_output=True, text=True
    ).stdout.strip()
    assert result.returncode == 1
    assert result.stderr == (
        f"error: HEAD is {commit[:12]}, but this workflow run deploys 0123456789ab (GITHUB_SHA): "
        "check out that commit.\n"
    )
    assert not [call for call in hub.fake_tofu.calls() if call[0] != "version"]


def test_credentials_in_tofus_errors_reach_neither_output_nor_records(hub_world):
    hub = hub_world("cae-dev")
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
    hub.environ["AWS_SECRET_ACCESS_KEY"] = secret
    hub.replace_node_group(
        apply={"fail": {"detail": f"signing with {secret} for AKIAIOSFODNN7EXAMPLE failed"}}
    )

    result = hub.invoke("apply", "--env", "cae-dev", "--yes")

    assert result.returncode == 1
    assert "│ signing with [redacted] for [redacted] failed\n" in result.stderr
    [record] = hub.records()
    s3_records = hub.invoke("history", "--env", "cae-dev", "--json").stdout
    for text in (result.stdout, result.stderr, json.dumps(record), s3_records):
        assert secret not in text
        assert "AKIAIOSFODNN7EXAMPLE" not in text


def test_terminal_control_sequences_from_the_engine_are_shown_not_obeyed(hub_world):
    hub = hub_world("cae-dev")
    # A retitled terminal, a clipboard write (OSC 52), the cursor up and the line erased.
    hostile = "\x1b]0;all clear\x07\x1b]52;c;cm0gLXJmIH4=\x07\x1b[1A\x1b[2K"
    hub.replace_node_group(apply={"fail": {"detail": f"provisioner said {hostile}done"}})

    result = hub.invoke("apply", "--env", "cae-dev", "--yes")

    assert result.returncode == 1
    shown = "\\x1b]0;all clear\\x07\\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b[1A\\x1b[2K"
    assert f"│ provisioner said {shown}done\n" in result.stderr
    for stream in (result.stdout, result.stderr):
        assert "\x07" not in stream and "\x1b]" not in stream and "\x1b[1A" not in stream


def test_colours_that_hide_text_and_bidi_overrides_from_the_engine_are_shown_not_obeyed(
    hub_world,
):
    hub = hub_world("cae-dev")
    # Concealed text, black on black with no reset, then a name reordered by a bidi override.
    hostile = "\x1b[8mhidden\x1b[30;40m dark \u202eevil.tf\u2066"
    hub.replace_node_group(apply={"fail": {"detail": f"provisioner said {hostile}"}})

    result = hub.invoke("apply", "--env", "cae-dev", "--yes")
    listed = hub.invoke("history", "--env", "cae-dev")

    assert result.returncode == 1
    shown = "\\x1b[8mhidden\\x1b[30;40m dark \\u202eevil.tf\\u2066"
    assert f"│ provisioner said {shown}\n" in result.stderr
    for stream in (result.stdout, result.stderr, listed.stdout):
        for code in ("\x1b[8m", "\x1b[30;40m", "\u202e", "\u2066"):
            assert code not in stream


def test_the_engines_own_colours_pass_and_a_colour_left_on_is_reset():
    from hubops.facts.text import visible

    assert visible("\x1b[0m\x1b[1mPlan:\x1b[0m \x1b[32m+\x1b[0m create\n") == (
        "\x1b[0m\x1b[1mPlan:\x1b[0m \x1b[32m+\x1b[0m create\n"
    )
    assert visible("\x1b[31mError: left red\n") == "\x1b[31mError: left red\x1b[0m\n"


def test_the_first_cae_apply_builds_it_and_names_the_dns_record_to_create(hub_world):
    hub = hub_world("cae")
    from tests.support import aws_world

    aws_world.delete_hub_load_balancers(**hub.effect())
    hub.dns.clear()
    hub.fake_tofu.scenario(
        {
            "plan": {
                "resource_changes": [
                    {"address": "module.eks.aws_eks_cluster.this", "actions": ["create"]}
                ]
            },
            "apply": {"effects": [{"create_hub_load_balancer": hub.effect()}]},
        }
    )

    result = hub.invoke("apply", "--env", "cae", "--yes")

    [new] = hub.hub_hostnames()
    assert result.returncode == 3
    assert (
        "cae has never been applied (its state has no outputs), so it has no routing to protect "
        "yet; the verdict will name the DNS record to set.\n"
    ) in result.stdout
    assert f"  - load balancer appeared: {new}\n" in result.stdout
    assert f"  hub.example.org CNAME {new}  (was not set)\n" in result.stdout


def test_plan_previews_uncommitted_changes_but_apply_refuses_them(hub_world):
    hub = hub_world("cae-testing")
    vars_file = hub.root / "environments" / "cae-testing" / "terraform.tfvars"
    vars_file.write_text(vars_file.read_text() + "# trying a change\n")

    planned = hub.invoke("plan", "--env", "cae-testing")
    applied = hub.invoke("apply", "--env", "cae-testing", "--yes")

    assert planned.returncode == 0, planned.stderr
    assert applied.returncode == 1
    assert applied.stderr == (
        "error: The working tree has uncommitted changes (environments/cae-testing/terraform.tfvars"
        "): commit or stash them first, so that what is applied is exactly a commit.\n"
    )
