"""Issue 21, the operator's habits: output for pipes and files, confirmations, plans for scripts."""

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import boto3
import pytest

from hubops.adapters.environment_files import load_environment
from tests.support import aws_world
from tests.support.hub_world import HUB_ADDRESS, NODE_GROUP_REPLACEMENT
from tests.support.invoking import invoke_command, run_invoke


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


def test_cae_testing_apply_without_a_terminal_or_yes_refuses_in_one_line(hub_world):
    hub = hub_world("cae-testing")

    result = hub.invoke("apply", "--env", "cae-testing", input="")

    assert result.returncode == 1
    assert result.stderr == (
        "error: applying cae-testing asks for confirmation, but no terminal is attached: pass "
        "--yes to apply without asking. Nothing was applied.\n"
    )
    assert hub.fake_tofu.calls() == []


def test_cae_dev_apply_asks_on_a_terminal_as_tofu_does_and_only_yes_applies(hub_world):
    hub = hub_world("cae-dev")
    hub.replace_node_group()

    refused = hub.invoke_on_terminal("apply", "--env", "cae-dev", typed="y\n")

    assert refused.returncode == 1
    assert "Do you want to perform these actions? Only 'yes' will be accepted: " in refused.stdout
    assert refused.stderr.endswith("error: You typed 'y', not 'yes': nothing was applied.\n")
    assert not [call for call in hub.fake_tofu.calls() if call[0] == "apply"]

    accepted = hub.invoke_on_terminal("apply", "--env", "cae-dev", typed="yes\n")

    assert accepted.returncode == 0, accepted.stderr
    assert [call[0] for call in hub.fake_tofu.calls()].count("apply") == 1


def test_plan_for_scripts_exits_2_with_changes_and_prints_one_json_document(hub_world):
    hub = hub_world("cae-testing")
    hub.replace_node_group()

    result = hub.invoke("plan", "--env", "cae-testing", "--detailed-exitcode", "--json")

    assert result.returncode == 2, result.stderr
    document = json.loads(result.stdout)
    plan_file = Path(document["plan_file"])
    assert document == {
        "environment": "cae-testing",
        "changes": True,
        "summary": {
            "add": [],
            "change": [],
            "destroy": [],
            "replace": ['module.eks.aws_eks_node_group.this["main"]'],
            "replace_reasons": {
                'module.eks.aws_eks_node_group.this["main"]': "replace_because_cannot_update"
            },
            "outputs_changed": [],
            "moved": {},
            "imported": [],
            "forgotten": [],
            "rolls": {},
        },
        "forecast": {"risk": "low", "reasons": {}},
        "plan_file": str(plan_file),
        "plan_sha256": hashlib.sha256(plan_file.read_bytes()).hexdigest(),
    }
    assert "Plan: 1 to add, 0 to change, 1 to destroy.\n" in result.stderr  # tofu's, beside it


def test_plan_with_detailed_exitcode_exits_0_without_changes(hub_world):
    hub = hub_world("cae-testing")

    result = hub.invoke("plan", "--env", "cae-testing", "--detailed-exitcode")

    assert result.returncode == 0, result.stderr
    assert "Plan: no changes.\n" in result.stdout


def test_hubops_tofu_bin_may_name_a_command_on_path_and_the_echo_names_it(hub_world):
    hub = hub_world("cae-testing")
    shutil.copy(hub.fake_tofu.bin_dir / "tofu", hub.fake_tofu.bin_dir / "terraform")
    hub.environ["HUBOPS_TOFU_BIN"] = "terraform"

    result = hub.invoke("plan", "--env", "cae-testing")

    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(
        "$ terraform init -input=false -reconfigure "
        "-backend-config=environments/cae-testing/backend.hcl\n"
    )


def test_hubops_tofu_bin_naming_no_command_is_refused_in_one_line(hub_world):
    hub = hub_world("cae-testing")
    hub.environ["HUBOPS_TOFU_BIN"] = "no-such-engine"

    result = hub.invoke("plan", "--env", "cae-testing")

    assert result.returncode == 1
    assert result.stderr == (
        "error: HUBOPS_TOFU_BIN=no-such-engine names no command on PATH: install it, point "
        "HUBOPS_TOFU_BIN at the binary's path, or unset it to use `tofu` on PATH.\n"
    )


@pytest.mark.parametrize(
    "task",
    [
        ("plan",),
        ("apply", "--yes"),
        ("drift",),
        ("destroy", "--confirm", "cae-testing"),
    ],
)
def test_a_lock_timeout_without_its_unit_is_refused_before_anything_runs(hub_world, task):
    hub = hub_world("cae-testing")

    result = hub.invoke(*task, "--env", "cae-testing", "--lock-timeout", "10")

    assert result.returncode == 1
    assert result.stderr == (
        "error: --lock-timeout 10 is not a duration: give its unit, e.g. 10s or 5m "
        "(0s: do not wait).\n"
    )
    assert hub.fake_tofu.calls() == []


def test_a_lock_timeout_with_its_unit_reaches_the_engine(hub_world):
    hub = hub_world("cae-testing")

    result = hub.invoke("plan", "--env", "cae-testing", "--lock-timeout", "1m30s")

    assert result.returncode == 0, result.stderr
    [plan] = [call for call in hub.fake_tofu.calls() if call[0] == "plan"]
    assert "-lock-timeout=1m30s" in plan


def test_whoami_with_aws_out_of_reach_fails_on_the_short_bound_saying_it_retried(
    project_repo, aws_env
):
    env = {
        **os.environ,
        "HUBOPS_ROOT": str(project_repo.path),
        "AWS_ENDPOINT_URL": "https://127.0.0.1:9",
    }
    env.pop("HUBOPS_AWS_RETRY_SECONDS")  # the default bound, 60s, is kept for throttling and 5xx

    result = run_invoke("whoami", "--env", "cae-testing", cwd=project_repo.path, env=env)

    assert result.returncode == 1
    *retries, error = result.stderr.splitlines()
    assert retries and all(
        line.startswith("AWS get_caller_identity: EndpointConnectionError (attempt ")
        for line in retries
    )
    assert error == (
        "error: AWS get_caller_identity failed: Could not connect to the endpoint URL: "
        '"https://127.0.0.1:9/" (after retrying for 8s). Check your network and AWS settings '
        "(AWS_ENDPOINT_URL, AWS_DEFAULT_REGION) and try again."
    )


def test_providers_that_cannot_be_installed_are_named_with_how_to_supply_them(hub_world):
    hub = hub_world("cae-testing")
    hub.fake_tofu.scenario({"init": {"unavailable_providers": ["hashicorp/helm", "hashicorp/tls"]}})

    result = hub.invoke("plan", "--env", "cae-testing")

    assert result.returncode == 1
    assert "│   - /usr/share/tofu/plugins\n╵\n" in result.stderr  # the engine's error, once
    assert result.stderr.endswith(
        "-backend-config=environments/cae-testing/backend.hcl` failed with exit status 1 (its "
        "errors are above)\n"
        "tofu could not install hashicorp/helm, hashicorp/tls (no network to their registry, and "
        "not in a filesystem mirror or plugin cache): supply them, e.g. `tofu providers mirror "
        "DIR` on a machine with network, then a `provider_installation { filesystem_mirror { path "
        '= "DIR" } }` block in the CLI configuration (TF_CLI_CONFIG_FILE) or TF_PLUGIN_CACHE_DIR '
        "holding them, then run again.\n"
    )
    assert "invoke backend" not in result.stderr
    assert [call[0] for call in hub.fake_tofu.calls()] == ["version", "init"]


def test_history_whose_records_cannot_be_read_does_not_say_there_are_none(hub_world):
    hub = hub_world("cae-testing")
    bucket = load_environment(hub.root, "cae-testing").backend.bucket
    s3 = boto3.client("s3", region_name="us-west-2")
    for version in s3.list_object_versions(Bucket=bucket).get("Versions", []):  # the marker
        s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
    s3.delete_bucket(Bucket=bucket)

    result = hub.invoke("history", "--env", "cae-testing")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"warning: Could not read the run records in s3://{bucket}/hubops-records/cae-testing/: "
        "AWS list_objects_v2 failed: NoSuchBucket: The specified bucket does not exist\n"
        "error: the run records of cae-testing could not all be read (above), and none that "
        "could shows a run: whether cae-testing has runs is not known. Fix the access (`invoke "
        "whoami --env cae-testing`), then run history again.\n"
    )


def test_history_names_each_runs_operation_a_destroy_too(hub_world):
    hub = hub_world("cae-testing")
    hub.invoke("apply", "--env", "cae-testing", "--yes")
    hub.invoke("destroy", "--env", "cae-testing", "--confirm", "cae-testing")

    lines = hub.invoke("history", "--env", "cae-testing").stdout.splitlines()

    assert [line.split("  ")[4] for line in lines[1:]] == ["destroy", "apply"]


def test_status_in_one_stream_shows_its_heading_before_the_tofu_command(hub_world):
    hub = hub_world("cae-testing")
    hub.invoke("plan", "--env", "cae-testing")  # initialised: status asks tofu for its outputs

    result = subprocess.run(
        invoke_command("status", "--env", "cae-testing"),
        cwd=hub.root,
        env=hub.process_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith(
        "Environment: cae-testing (unsupervised)\n$ tofu output -json\n"
        f"Load balancer: {hub.hostname} (elbv2; addresses {HUB_ADDRESS})\n"
        f"tofu output hub_load_balancer_hostname: {hub.hostname}\n"
    )


def test_whoami_with_rejected_keys_says_what_to_change_not_to_run_itself(
    project_repo, aws_env, moto_server
):
    moto_server.reject_credentials()
    env = {**os.environ, "HUBOPS_ROOT": str(project_repo.path)}

    result = run_invoke("whoami", "--env", "cae-dev", cwd=project_repo.path, env=env)

    assert result.returncode == 1
    assert result.stderr == (
        "error: AWS get_caller_identity failed: InvalidClientTokenId: The security token included "
        "in the request is invalid. AWS did not accept your shell's credentials: set valid ones "
        "for the environment's account (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
        "AWS_PROFILE; `aws configure list` shows which are in use) and try again.\n"
    )


def test_doctor_does_not_report_a_lock_in_a_bucket_that_does_not_exist(project_repo, aws_env):
    backend = load_environment(project_repo.path, "cae-testing").backend
    env = {**os.environ, "HUBOPS_ROOT": str(project_repo.path)}

    result = run_invoke("doctor", "--env", "cae-testing", cwd=project_repo.path, env=env)

    assert result.returncode == 1
    assert "lock: S3 lock file" in result.stdout
    assert "found    lock" not in result.stdout
    assert (
        f"  problem  lock: S3 lock file s3://{backend.bucket}/{backend.key}.tflock needs S3 "
        f"bucket {backend.bucket}, which is not usable (above)\n"
    ) in result.stdout


def test_dns_check_of_a_cae_testing_never_applied_says_there_is_no_hub_yet(project_repo, aws_env):
    from hubops.bootstrap.backend import ensure_backend

    ensure_backend(load_environment(project_repo.path, "cae-testing"))
    env = {**os.environ, "HUBOPS_ROOT": str(project_repo.path)}

    result = run_invoke("dns-check", "--env", "cae-testing", cwd=project_repo.path, env=env)
    shown = run_invoke("status", "--env", "cae-testing", cwd=project_repo.path, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "No hub yet: no load balancer is tagged for cae-testing's hub, and its run records show "
        "no apply since it was created or last destroyed, so there is no routing to check. "
        "`invoke apply --env cae-testing` builds it.\n"
    )
    # status says the same, never "NOT OK" for a hub that was never built.
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(
        "Environment: cae-testing (unsupervised)\nLoad balancer: none found\n"
    )
    assert shown.stdout.endswith(
        "Routing: none to check (no hub yet: its run records show no apply since it was created "
        "or last destroyed; `invoke apply --env cae-testing` builds it)\n"
        "Last run: none recorded\n"
    )


def test_dns_check_of_a_hub_applied_whose_load_balancer_vanished_still_exits_3(hub_world):
    hub = hub_world("cae-testing")
    hub.replace_node_group()
    assert hub.invoke("apply", "--env", "cae-testing", "--yes").returncode == 0
    aws_world.delete_hub_load_balancers(
        cluster_name=hub.cluster_name, hub_namespace=hub.hub_namespace, region=hub.region
    )

    result = hub.invoke("dns-check", "--env", "cae-testing")

    assert result.returncode == 3
    assert result.stdout.startswith("Routing changed or could not be verified for cae-testing:\n")
