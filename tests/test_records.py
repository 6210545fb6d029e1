"""Runs that lose their record: a record both stores refuse still reaches the operator whole, and
what a write cut short or a damaged record leaves behind never hides the other runs."""

import dataclasses
import json
import os
import stat
import tempfile
from pathlib import Path

import boto3
import pytest

from hubops.adapters.environment_files import load_environment
from hubops.adapters.records import (
    LocalRecordStore,
    S3RecordStore,
    fallback_dir,
    history,
    require_writable,
    write_record,
)
from hubops.bootstrap.backend import ensure_backend
from hubops.facts.dns_answer import DnsAnswer, DnsStatus, ServerAnswer, ZoneAnswers
from hubops.facts.errors import RecordError
from hubops.facts.forecast import Forecast
from hubops.facts.hub_load_balancers import LoadBalancer
from hubops.facts.outcome import Outcome
from hubops.facts.plan_summary import PlanSummary
from hubops.facts.routing import Snapshot
from hubops.facts.run_record import ApplyRecord, Incident, ParityCheck, RestoreRecord, RunRecord
from hubops.facts.verdict import Verdict
from tests.support.invoking import run_invoke

BUCKET = "cae-dev-tofu-state-123456789012"
FAKE_KEY_ID = "AKIAIOSFODNN7EXAMPLE"  # AWS's documented example, shaped like a real key id


@pytest.fixture
def cae_dev(project_repo, aws_env):
    """cae-dev with its state bucket."""
    env = load_environment(project_repo.path, "cae-dev")
    ensure_backend(env)
    return env


@pytest.fixture
def cae_dev_without_bucket(project_repo, aws_env):
    """cae-dev whose state bucket does not exist (never bootstrapped, or removed)."""
    return load_environment(project_repo.path, "cae-dev")


@pytest.fixture
def records(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "records"
    monkeypatch.setenv("HUBOPS_RECORDS_DIR", str(folder))
    return folder


@pytest.fixture
def unwritable_records(tmp_path, monkeypatch) -> Path:
    """A records folder nothing can be written under, even by root: the path is a regular file."""
    not_a_folder = tmp_path / "records"
    not_a_folder.write_text("")
    monkeypatch.setenv("HUBOPS_RECORDS_DIR", str(not_a_folder))
    return not_a_folder


def record(started_at, outcome=Outcome.OK, kind=ApplyRecord, **fields) -> RunRecord:
    facts = {"environment": "cae-dev", "commit": "0123456789abcdef", **fields}
    return kind(started_at=started_at, outcome=outcome, **facts)


def whole(record: RunRecord) -> str:
    return json.dumps(record.to_json(), indent=2, sort_keys=True)


def s3_refusal(name: str) -> str:
    return (
        f"Could not write the run record to s3://{BUCKET}/hubops-records/cae-dev/{name}: AWS "
        "put_object failed: NoSuchBucket: The specified bucket does not exist. The run itself is "
        "over."
    )


def local_refusal(folder: Path) -> str:
    return (
        f"Could not write the run record under {folder}: Not a directory. The run itself is "
        "over; set HUBOPS_RECORDS_DIR to a writable folder for the next one."
    )


# -- both stores refuse: the fallback file and the error carry the record whole -----------------


def test_a_record_both_stores_refuse_is_kept_in_a_private_file_and_shown_whole(
    cae_dev_without_bucket, project_repo, unwritable_records, tmp_path, monkeypatch
):
    monkeypatch.setenv("HUBOPS_RECORDS_FALLBACK_DIR", str(tmp_path / "fallback"))
    error = f"tofu said {FAKE_KEY_ID}"
    run = record("2026-11-26T07:00:00.000Z", Outcome.ROUTING_CHANGED, error=error)

    with pytest.raises(RecordError) as raised:
        write_record(project_repo.path, cae_dev_without_bucket, run)

    [kept] = (tmp_path / "fallback" / "cae-dev").iterdir()
    assert kept.name.startswith("20261126T070000.000Z-0123456789ab-")
    written = dataclasses.replace(run, error="tofu said [redacted]")
    assert json.loads(kept.read_text()) == written.to_json()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    assert str(raised.value) == (
        f"{local_refusal(unwritable_records / 'cae-dev')} {s3_refusal(kept.name)} Its record was "
        f"not written to either store; it is kept in {kept} (copy it to "
        f"{unwritable_records / 'cae-dev'}/ to have `invoke history` show it). The record:\n"
        f"{whole(written)}"
    )


def test_a_record_that_even_the_fallback_refuses_is_still_shown_whole(
    cae_dev_without_bucket, project_repo, unwritable_records, tmp_path, monkeypatch
):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("HUBOPS_RECORDS_FALLBACK_DIR", str(tmp_path / "a-file" / "fallback"))
    run = record("2026-11-26T07:00:00.000Z")

    with pytest.raises(RecordError) as raised:
        write_record(project_repo.path, cae_dev_without_bucket, run)

    message = str(raised.value)
    name = message.split(f"s3://{BUCKET}/hubops-records/cae-dev/", 1)[1].split(":", 1)[0]
    assert message == (
        f"{local_refusal(unwritable_records / 'cae-dev')} {s3_refusal(name)} Its record was not "
        f"written anywhere, not even to {tmp_path / 'a-file' / 'fallback'} (Not a directory); "
        f"here it is whole, keep it:\n{whole(run)}"
    )


def test_by_default_the_fallback_is_a_folder_of_this_user_alone_in_the_temporary_folder(
    cae_dev_without_bucket, project_repo, unwritable_records
):
    run = record("2026-11-26T07:00:00.000Z")

    with pytest.raises(RecordError) as raised:
        write_record(project_repo.path, cae_dev_without_bucket, run)

    top = Path(tempfile.gettempdir()) / f"hubops-records-fallback-{os.getuid()}"
    assert fallback_dir() == top
    name = str(raised.value).split(f"s3://{BUCKET}/hubops-records/cae-dev/", 1)[1].split(":")[0]
    kept = top / "cae-dev" / name
    try:
        assert f" it is kept in {kept} (copy it to " in str(raised.value)
        assert json.loads(kept.read_text()) == run.to_json()
        assert stat.S_IMODE(top.stat().st_mode) == 0o700
        assert top.stat().st_uid == os.getuid()
    finally:
        kept.unlink(missing_ok=True)


def test_a_record_one_store_takes_goes_to_no_fallback(
    cae_dev, project_repo, unwritable_records, tmp_path, monkeypatch
):
    monkeypatch.setenv("HUBOPS_RECORDS_FALLBACK_DIR", str(tmp_path / "fallback"))

    with pytest.raises(RecordError) as raised:
        write_record(project_repo.path, cae_dev, record("2026-11-26T07:00:00.000Z"))

    [stored] = S3RecordStore(cae_dev).list("cae-dev")
    assert str(raised.value) == (
        f"{local_refusal(unwritable_records / 'cae-dev')} Its record is only in {stored.location}."
    )
    assert not (tmp_path / "fallback").exists()


# -- reading: leftovers and damaged records are never read as runs, and never hide the others ---


def test_a_partial_record_left_by_a_write_cut_short_is_not_a_run(cae_dev, project_repo, records):
    [location] = [LocalRecordStore(records).write(record("2026-11-26T07:00:00.000Z"))]
    (records / "cae-dev" / ".partial-x.json").write_text('{"environment": "cae-d')
    (records / "cae-dev" / ".partial-y.json").write_text("")

    runs = history(project_repo.path, cae_dev)

    assert [run.location for run in runs] == [location]
    assert runs.problems == []


def test_a_malformed_record_is_skipped_and_named(cae_dev, project_repo, records):
    good = LocalRecordStore(records).write(record("2026-11-26T07:00:00.000Z"))
    folder = records / "cae-dev"
    (folder / "20261126T080000.000Z-a.json").write_text('{"environment": "cae-d')
    (folder / "20261126T090000.000Z-b.json").write_text('["not", "a", "record"]')
    (folder / "20261126T100000.000Z-c.json").write_text(
        json.dumps({**record("2026-11-26T10:00:00.000Z").to_json(), "exit_status": "0"})
    )
    (folder / "20261126T110000.000Z-d.json").write_text(
        json.dumps({**record("2026-11-26T11:00:00.000Z").to_json(), "plan": ["web"]})
    )

    runs = history(project_repo.path, cae_dev)

    assert [run.location for run in runs] == [good]
    assert runs.problems == [
        f'Run record {folder / "20261126T110000.000Z-d.json"} has plan=["web"], where an '
        "object or null belongs: skipped.",
        f'Run record {folder / "20261126T100000.000Z-c.json"} has exit_status="0", where a '
        "number or null belongs: skipped.",
        f"Run record {folder / '20261126T090000.000Z-b.json'} is not a JSON object (it holds "
        "list): skipped.",
        f"Run record {folder / '20261126T080000.000Z-a.json'} is not valid JSON (Unterminated "
        "string starting at: line 1 column 17 (char 16)): skipped.",
    ]


def test_a_record_damaged_deep_inside_is_skipped_and_the_field_named(
    cae_dev, project_repo, records
):
    good = LocalRecordStore(records).write(record("2026-11-26T07:00:00.000Z"))
    folder = records / "cae-dev"
    balancer = {"hostname": 5, "kind": "elb", "name": "hub", "identifier": "hub"}
    snapshot = {"taken_at": "2026-11-26T08:00:00.000Z", "load_balancers": [balancer]}
    (folder / "20261126T080000.000Z-a.json").write_text(
        json.dumps({**record("2026-11-26T08:00:00.000Z").to_json(), "before": snapshot})
    )
    without_commit = record("2026-11-26T09:00:00.000Z").to_json()
    del without_commit["commit"]
    (folder / "20261126T090000.000Z-b.json").write_text(json.dumps(without_commit))

    runs = history(project_repo.path, cae_dev)

    assert [run.location for run in runs] == [good]
    assert runs.problems == [
        f"Run record {folder / '20261126T090000.000Z-b.json'} has no commit, which it must "
        "have: skipped.",
        f"Run record {folder / '20261126T080000.000Z-a.json'} has "
        "before.load_balancers[0].hostname=5, where a string belongs: skipped.",
    ]


def test_fields_a_newer_hubops_wrote_are_kept_and_shown_by_history_json(
    cae_dev, project_repo, records, aws_env
):
    folder = records / "cae-dev"
    folder.mkdir(parents=True)
    stored = {**record("2026-11-26T07:00:00.000Z").to_json(), "approved_by": "reviewer"}
    (folder / "20261126T070000.000Z-a.json").write_text(json.dumps(stored))
    environ = {**os.environ, **aws_env, "HUBOPS_ROOT": str(project_repo.path)}

    result = run_invoke("history", "--env", "cae-dev", "--json", cwd=project_repo.path, env=environ)

    assert result.returncode == 0, result.stderr
    [shown] = json.loads(result.stdout)
    location = str(folder / "20261126T070000.000Z-a.json")
    assert shown == {**stored, "source": "local", "location": location}


def test_a_record_is_read_back_as_it_was_written_every_field_typed(cae_dev, project_repo, records):
    hostname = "hub-1.elb.us-west-2.amazonaws.com"
    snapshot = Snapshot(
        taken_at="2026-11-26T07:00:01.000Z",
        load_balancers=[LoadBalancer(hostname, "elb", "hub-1", "hub-1")],
        load_balancer_addresses={hostname: ["192.0.2.10"]},
        state_outputs=["hub_load_balancer_hostname"],
        domain="hub.example.org",
        dns=DnsAnswer(DnsStatus.OK, [hostname], ["192.0.2.10"], "domain=hub.example.org status=ok"),
    )
    answer = ServerAnswer(
        "ns1.example.org", "192.0.2.53", DnsStatus.OK, hostname, ("192.0.2.10",), 300
    )
    applied = record(
        "2026-11-26T07:00:00.000Z",
        outcome=Outcome.ROUTING_CHANGED,
        plan=PlanSummary(replace=["aws_elb.hub"], replace_reasons={"aws_elb.hub": "name"}),
        forecast=Forecast(risk="high", reasons={"aws_elb.hub": ["high", "it is the hub's LB"]}),
        before=snapshot,
        after=snapshot,
        verdict=Verdict(changed=True, findings=["replaced"], dns_record="hub CNAME x"),
        parity=ParityCheck(checked_against="s3://b/k.json", untested=["main.tf (changed)"]),
        shared_tree={"main.tf": "0" * 40},
    )
    restored = record(
        "2026-11-26T08:00:00.000Z",
        kind=RestoreRecord,
        after=snapshot,
        authoritative=ZoneAnswers("example.org", (answer,)),
        incident=Incident("a.json", "2026-11-25T07:00:00.000Z", "abc", None, "/r/a.json"),
        waited_seconds=1.5,
    )
    store = LocalRecordStore(records)
    written = [store.write(run) for run in (restored, applied)]

    read = history(project_repo.path, cae_dev)

    assert read == [
        dataclasses.replace(run, source="local", location=location)
        for run, location in zip((restored, applied), written, strict=True)
    ]


def test_skipped_records_do_not_count_towards_the_limit(cae_dev, project_repo, records):
    store = LocalRecordStore(records)
    older = store.write(record("2026-11-26T07:00:00.000Z"))
    newer = store.write(record("2026-11-26T08:00:00.000Z"))
    (records / "cae-dev" / "20261126T090000.000Z-x.json").write_text("{")

    runs = history(project_repo.path, cae_dev, limit=2)

    assert [run.location for run in runs] == [newer, older]
    assert len(runs.problems) == 1


def test_a_malformed_record_in_the_bucket_is_skipped_and_named(cae_dev, project_repo, records):
    location = S3RecordStore(cae_dev).write(record("2026-11-26T07:00:00.000Z"))
    key = "hubops-records/cae-dev/20261126T080000.000Z-x.json"
    boto3.client("s3", region_name="us-west-2").put_object(Bucket=BUCKET, Key=key, Body=b"1")

    runs = history(project_repo.path, cae_dev)

    assert [run.location for run in runs] == [location]
    assert runs.problems == [
        f"Run record s3://{BUCKET}/{key} is not a JSON object (it holds int): skipped."
    ]


def test_history_names_a_malformed_record_and_still_lists_the_runs(
    cae_dev, project_repo, records, aws_env
):
    LocalRecordStore(records).write(record("2026-11-26T07:00:00.000Z"))
    damaged = records / "cae-dev" / "20261126T080000.000Z-x.json"
    damaged.write_text("[]")
    environ = {**os.environ, **aws_env, "HUBOPS_ROOT": str(project_repo.path)}

    result = run_invoke("history", "--env", "cae-dev", cwd=project_repo.path, env=environ)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith(
        "2026-11-26T07:00:00.000Z  exit 0  0123456789ab  "
    )
    assert result.stderr == (
        f"warning: Run record {damaged} is not a JSON object (it holds list): skipped.\n"
    )


# -- a store that cannot be read: the other store's runs, and the failure named ------------------


def test_when_the_bucket_is_missing_the_local_runs_are_still_listed(
    cae_dev_without_bucket, project_repo, records
):
    location = LocalRecordStore(records).write(record("2026-11-26T07:00:00.000Z"))

    runs = history(project_repo.path, cae_dev_without_bucket)

    assert [(run.location, run.source) for run in runs] == [(location, "local")]
    assert runs.problems == [
        f"Could not read the run records in s3://{BUCKET}/hubops-records/cae-dev/: AWS "
        "list_objects_v2 failed: NoSuchBucket: The specified bucket does not exist"
    ]


def test_when_reading_the_bucket_is_denied_the_local_runs_are_still_listed(
    cae_dev, project_repo, records, fault_proxy
):
    location = LocalRecordStore(records).write(record("2026-11-26T07:00:00.000Z"))
    fault_proxy.inject("deny", match=r"^GET /[^ ]*list-type=2", times=None)

    runs = history(project_repo.path, cae_dev)

    assert [(run.location, run.source) for run in runs] == [(location, "local")]
    assert runs.problems == [
        f"Could not read the run records in s3://{BUCKET}/hubops-records/cae-dev/: AWS "
        "list_objects_v2 failed: AccessDenied: Access Denied. Check that your shell's AWS "
        "credentials belong to the environment's account and may do this (`invoke whoami --env "
        "ENV` shows who you are)."
    ]


def test_when_the_local_folder_cannot_be_read_the_bucket_runs_are_still_listed(
    cae_dev, project_repo, unwritable_records
):
    location = S3RecordStore(cae_dev).write(record("2026-11-26T07:00:00.000Z"))

    runs = history(project_repo.path, cae_dev)

    assert [(run.location, run.source) for run in runs] == [(location, "s3")]
    assert runs.problems == [
        f"Could not read the run records in {unwritable_records / 'cae-dev'}: Not a directory"
    ]


# -- before a production apply: can a record be written at all? ---------------------------------


def test_require_writable_leaves_a_ready_and_empty_records_folder(project_repo, records):
    require_writable(project_repo.path, load_environment(project_repo.path, "cae"))

    assert list((records / "cae").iterdir()) == []


def test_require_writable_refuses_a_folder_no_record_can_be_written_to(
    project_repo, unwritable_records
):
    with pytest.raises(RecordError) as raised:
        require_writable(project_repo.path, load_environment(project_repo.path, "cae"))

    assert str(raised.value) == (
        f"Run records cannot be written under {unwritable_records / 'cae'}: Not a directory. "
        "Nothing was changed; set HUBOPS_RECORDS_DIR to a writable folder (or make this one "
        "writable) and run again."
    )


def test_status_shows_the_last_local_run_and_names_the_bucket_it_could_not_read(
    hub_world, fault_proxy
):
    hub = hub_world("cae-testing")
    LocalRecordStore(hub.records_dir).write(
        record("2026-11-26T07:00:00.000Z", environment="cae-testing")
    )
    fault_proxy.inject("deny", match=r"^GET /[^ ]*list-type=2[^ ]*hubops-records", times=None)
    bucket = load_environment(hub.root, "cae-testing").backend.bucket

    result = hub.invoke("status", "--env", "cae-testing")

    assert result.returncode == 0, result.stderr
    assert "Last run: 2026-11-26T07:00:00.000Z" in result.stdout
    assert result.stdout.endswith(
        f"Run records could not be read: Could not read the run records in s3://{bucket}/"
        "hubops-records/cae-testing/: AWS list_objects_v2 failed: AccessDenied: Access Denied. "
        "Check that your shell's AWS credentials belong to the environment's account and may do "
        "this (`invoke whoami --env ENV` shows who you are).\n"
    )
