"""`invoke status`, `dns-check` and `history`: read-only views of the hub's routing."""

import json
import os
import shutil

import boto3

from tests.support import aws_world
from tests.support.hub_world import HUB_ADDRESS, record_successful_apply
from tests.support.invoking import run_invoke


def test_status_shows_the_load_balancer_dns_and_no_run_yet(hub_world):
    hub = hub_world("cae")

    result = hub.invoke("status", "--env", "cae")

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "Environment: cae (supervised)\n"
        f"Load balancer: {hub.hostname} (elbv2; addresses {HUB_ADDRESS})\n"
        "tofu output cross-check: skipped (not initialised here; `invoke plan --env cae` "
        "initialises it)\n"
        f"DNS hub.example.org: {hub.hostname} -> {HUB_ADDRESS}\n"
        "Routing: OK\n"
        "Last run: none recorded\n"
    )


def test_status_of_cae_testing_gives_the_hub_address(hub_world):
    hub = hub_world("cae-testing")

    result = hub.invoke("status", "--env", "cae-testing")

    assert f"Hub address: http://{hub.hostname}\n" in result.stdout


def test_status_cross_checks_the_tofu_output_once_initialised(hub_world):
    hub = hub_world("cae")
    hub.invoke("plan", "--env", "cae")

    result = hub.invoke("status", "--env", "cae")

    assert f"tofu output hub_load_balancer_hostname: {hub.hostname}\n" in result.stdout
    assert "Routing: OK\n" in result.stdout


def test_status_json_is_one_document_with_the_last_run(hub_world):
    hub = hub_world("cae-testing")
    hub.invoke("apply", "--env", "cae-testing", "--yes")

    document = json.loads(hub.invoke("status", "--env", "cae-testing", "--json").stdout)

    assert document["environment"] == "cae-testing"
    assert document["routing_ok"] is True
    assert document["snapshot"]["load_balancers"][0]["hostname"] == hub.hostname
    assert document["last_run"]["exit_status"] == 0
    assert document["last_run"]["source"] == "local+s3"


def test_dns_check_passes_when_dns_points_at_the_load_balancer(hub_world):
    hub = hub_world("cae")

    result = hub.invoke("dns-check", "--env", "cae")

    assert result.returncode == 0
    assert result.stdout == (
        f"Routing unchanged: cae is served by {hub.hostname} and hub.example.org points at it.\n"
    )
    assert hub.fake_tofu.calls() == []


def test_dns_check_exits_3_with_the_record_when_dns_points_elsewhere(hub_world):
    hub = hub_world("cae-dev")
    hub.dns.set_cname("hub-dev.example.org", "stale-lb.example.net")

    result = hub.invoke("dns-check", "--env", "cae-dev")

    assert result.returncode == 3
    assert result.stdout == (
        "Routing changed or could not be verified for cae-dev:\n"
        "  - DNS for hub-dev.example.org points at stale-lb.example.net, not at the load "
        f"balancer {hub.hostname}\n"
        "Set this DNS record by hand so that users can log in:\n"
        f"  hub-dev.example.org CNAME {hub.hostname}  (was stale-lb.example.net)\n"
    )


def test_dns_check_compares_by_address_when_dns_has_no_cname(hub_world):
    hub = hub_world("cae")
    hub.dns.clear()
    hub.dns.set_a(hub.hostname, HUB_ADDRESS, "192.0.2.11")
    hub.dns.set_a("hub.example.org", "192.0.2.11")

    assert hub.invoke("dns-check", "--env", "cae").returncode == 0

    hub.dns.set_a("hub.example.org", "192.0.2.200")
    result = hub.invoke("dns-check", "--env", "cae")
    assert result.returncode == 3
    assert (
        "  - DNS for hub.example.org answers 192.0.2.200, none of them an address of the load "
        f"balancer {hub.hostname} (192.0.2.10, 192.0.2.11)\n"
    ) in result.stdout


def test_dns_check_fails_closed_on_nxdomain_and_two_candidates(hub_world):
    hub = hub_world("cae")
    hub.dns.fail("hub.example.org", "nxdomain")

    result = hub.invoke("dns-check", "--env", "cae")
    assert result.returncode == 3
    assert "  - DNS for hub.example.org could not be verified: domain=hub.example.org " in (
        result.stdout
    )

    second = aws_world.create_hub_load_balancer(**hub.effect())
    result = hub.invoke("dns-check", "--env", "cae")
    assert result.returncode == 3
    assert "2 load balancers are tagged for the hub (" in result.stdout
    assert second in result.stdout
    assert "No single load balancer to point hub.example.org at" in result.stdout


def test_history_lists_runs_newest_first(hub_world):
    hub = hub_world("cae-testing")
    assert hub.invoke("history", "--env", "cae-testing").stdout == (
        "No recorded runs for cae-testing.\n"
    )
    hub.invoke("apply", "--env", "cae-testing", "--yes")
    hub.fake_tofu.scenario(
        {
            "apply": {"fail": True},
            "plan": {
                "resource_changes": [
                    {"address": "module.hub.helm_release.jupyterhub", "actions": ["update"]}
                ]
            },
        }
    )
    hub.invoke("apply", "--env", "cae-testing", "--yes")

    lines = hub.invoke("history", "--env", "cae-testing").stdout.splitlines()
    runs = json.loads(hub.invoke("history", "--env", "cae-testing", "--json").stdout)

    assert [run["exit_status"] for run in runs] == [1, 0]
    assert len(lines) == 3
    assert lines[0] == (
        "Runs of cae-testing, newest first (plan +/~/-/±: resources "
        "added/changed/destroyed/replaced):"
    )
    assert "  exit 1  " in lines[1] and "  apply  plan +/~/-/± 0/1/0/0" in lines[1]
    assert lines[2].endswith("[local+s3]")


def state_bucket(hub) -> str:
    from hubops.adapters.environment_files import load_environment

    return load_environment(hub.root, hub.env_name).backend.bucket


def test_an_apply_records_the_run_beside_the_state_and_history_shows_both_stores(hub_world):
    hub = hub_world("cae-testing")
    bucket = state_bucket(hub)

    result = hub.invoke("apply", "--env", "cae-testing", "--yes")

    assert result.returncode == 0, result.stderr
    [local] = (hub.records_dir / "cae-testing").glob("*.json")
    assert f"Run record: {local}\n" in result.stdout
    assert f"Run record: s3://{bucket}/hubops-records/cae-testing/{local.name}\n" in result.stdout
    _, line = hub.invoke("history", "--env", "cae-testing").stdout.splitlines()
    assert line.endswith("  forecast low, routing unchanged  [local+s3]")

    # Another machine (a CI runner) has no local copy: the shared history still has the run.
    shutil.rmtree(hub.records_dir)
    _, line = hub.invoke("history", "--env", "cae-testing").stdout.splitlines()
    assert line.endswith("  forecast low, routing unchanged  [s3]")
    [run] = json.loads(hub.invoke("history", "--env", "cae-testing", "--json").stdout)
    assert run["location"] == f"s3://{bucket}/hubops-records/cae-testing/{local.name}"


def refuse_records(bucket: str) -> None:
    """Beside the backend's own statement, a bucket policy refusing every record write."""
    s3 = boto3.client("s3", region_name="us-west-2")
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    policy["Statement"].append(
        {
            "Sid": "NoRecords",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/hubops-records/*",
        }
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def test_an_apply_whose_record_the_bucket_refuses_fails_and_says_where_the_record_is(hub_world):
    hub = hub_world("cae-testing")
    refuse_records(state_bucket(hub))

    result = hub.invoke("apply", "--env", "cae-testing", "--yes")

    assert result.returncode == 1
    assert f"Routing unchanged: cae-testing is served by {hub.hostname}" in result.stdout
    [local] = (hub.records_dir / "cae-testing").glob("*.json")
    assert "Run record:" not in result.stdout
    assert result.stderr.endswith(
        f"\nerror: Could not write the run record to s3://{state_bucket(hub)}/hubops-records/"
        f"cae-testing/{local.name}: AWS put_object failed: 403: Forbidden. The run itself is "
        f"over. Its record is only in {local}.\n"
    )
    assert json.loads(local.read_text())["exit_status"] == 0


def test_a_cae_apply_that_changed_routing_and_lost_its_record_exits_3_with_the_dns_record(
    hub_world,
):
    hub = hub_world("cae")
    hub.replace_node_group("replace_hub_load_balancer")
    refuse_records(state_bucket(hub))

    result = hub.invoke("apply", "--env", "cae", "--yes")

    [new] = hub.hub_hostnames()
    assert result.returncode == 3
    assert f"  hub.example.org CNAME {new}  (was {hub.hostname})\n" in result.stdout
    assert "error: Could not write the run record to s3://" in result.stderr
    assert result.stderr.endswith(
        "error: the routing of cae changed: update DNS by hand (above).\n"
    )
    [record] = hub.records()
    assert record["exit_status"] == 3


def test_status_still_shows_routing_when_the_records_cannot_be_read(hub_world):
    hub = hub_world("cae-testing")
    bucket = state_bucket(hub)
    s3 = boto3.client("s3", region_name="us-west-2")
    for version in s3.list_object_versions(Bucket=bucket).get("Versions", []):  # the marker
        s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
    s3.delete_bucket(Bucket=bucket)

    result = hub.invoke("status", "--env", "cae-testing")

    assert result.returncode == 0, result.stderr
    # As history says it: records that cannot be read are no proof that there are none.
    assert (
        f"Hub address: http://{hub.hostname}\nRouting: OK\n"
        "Last run: not known (the run records could not be read)\n"
    ) in result.stdout
    assert result.stdout.endswith(
        f"Run records could not be read: Could not read the run records in s3://{bucket}/"
        "hubops-records/cae-testing/: AWS list_objects_v2 failed: NoSuchBucket: The specified "
        "bucket does not exist\n"
    )


def test_history_limit_shows_at_most_that_many_runs(hub_world):
    hub = hub_world("cae-testing")
    for _ in range(2):
        record_successful_apply(hub.root, hub.records_dir, "cae-testing")

    shown = hub.invoke("history", "--env", "cae-testing", "--limit", "1")

    assert len(shown.stdout.splitlines()) == 2, shown.stdout + shown.stderr  # a heading, a run


def test_history_limit_must_be_a_whole_number(project_repo):
    result = run_invoke(
        "history", "--env", "cae-testing", "--limit", "x",
        cwd=project_repo.path, env={**os.environ, "HUBOPS_ROOT": str(project_repo.path)},
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == "error: --limit takes a whole number of runs, 1 or more, not 'x'.\n"


def test_history_and_status_show_the_overrides_a_run_was_given(hub_world):
    from hubops.adapters.clock import now
    from hubops.adapters.environment_files import load_environment
    from hubops.adapters.records import LocalRecordStore, S3RecordStore, record_name
    from hubops.facts.outcome import Outcome
    from hubops.facts.run_record import ApplyRecord, ParityCheck

    hub = hub_world("cae")
    emergency = ApplyRecord(
        "cae", "0123456789abcdef0123", now(), operator="oncall@laptop", supervised=True,
        applied=True, outcome=Outcome.OK, rollback="went back from fedcba987654 to 0123456789ab",
        parity=ParityCheck(untested=["modules/hub/main.tf (changed)"], override=True),
        acknowledged_destroys=["module.hub.helm_release.jupyterhub"],
    )  # fmt: skip
    name = record_name(emergency)
    LocalRecordStore(hub.records_dir).write(emergency, name)
    S3RecordStore(load_environment(hub.root, "cae")).write(emergency, name)

    history = hub.invoke("history", "--env", "cae")
    status = hub.invoke("status", "--env", "cae")

    overrides = (
        "  (overrides: --rollback, --untested-shared-tree, --allow-destroy "
        "'module.hub.helm_release.jupyterhub')  [local+s3]"
    )
    [line] = [line for line in history.stdout.splitlines() if "oncall@laptop" in line]
    assert line.endswith(overrides), history.stdout
    [last] = [line for line in status.stdout.splitlines() if line.startswith("Last run:")]
    assert last.endswith(overrides), status.stdout
