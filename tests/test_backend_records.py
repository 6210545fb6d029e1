"""Run records beside the state: one S3 object per run, shared history, failures not dropped."""

import json

import boto3
import pytest

from hubops.adapters.environment_files import load_environment
from hubops.adapters.records import S3RecordStore, history, write_record
from hubops.bootstrap.backend import ensure_backend
from hubops.facts.errors import RecordError
from hubops.facts.outcome import Outcome
from hubops.facts.run_record import ApplyRecord

BUCKET = "cae-dev-tofu-state-123456789012"


@pytest.fixture
def cae_dev(project_repo, aws_env):
    env = load_environment(project_repo.path, "cae-dev")
    ensure_backend(env)
    return env


def record(started_at, outcome=Outcome.OK) -> ApplyRecord:
    return ApplyRecord(
        environment="cae-dev",
        commit="0123456789abcdef",
        started_at=started_at,
        outcome=outcome,
    )


def test_a_record_goes_to_the_state_bucket_as_its_own_object(cae_dev):
    location = S3RecordStore(cae_dev).write(record("2026-11-26T07:00:00Z"))

    assert location.startswith(f"s3://{BUCKET}/hubops-records/cae-dev/20261126T070000Z-")
    key = location.removeprefix(f"s3://{BUCKET}/")
    stored = boto3.client("s3", region_name="us-west-2").get_object(Bucket=BUCKET, Key=key)
    assert json.loads(stored["Body"].read())["exit_status"] == 0
    assert stored["ServerSideEncryption"] == "aws:kms"
    [listed] = S3RecordStore(cae_dev).list("cae-dev")
    assert (listed.source, listed.location) == ("s3", location)


def test_a_record_the_bucket_refuses_fails_loudly(cae_dev, fault_proxy):
    fault_proxy.inject("deny", match="^PUT /[^?]*/hubops-records/", times=None)

    with pytest.raises(RecordError) as raised:
        S3RecordStore(cae_dev).write(record("2026-11-26T07:00:00Z"))

    assert str(raised.value).startswith(
        f"Could not write the run record to s3://{BUCKET}/hubops-records/cae-dev/20261126T070000Z-"
    )
    assert str(raised.value).endswith(
        ": AWS put_object failed: AccessDenied: Access Denied. Check that your shell's AWS "
        "credentials belong to the environment's account and may do this (`invoke whoami --env "
        "ENV` shows who you are). The run itself is over."
    )


def test_a_record_whose_answer_was_lost_is_written_once(cae_dev, fault_proxy):
    fault_proxy.inject("drop_after", match="^PUT /[^?]*/hubops-records/")

    location = S3RecordStore(cae_dev).write(record("2026-11-26T07:00:00Z"))

    assert len(S3RecordStore(cae_dev).list("cae-dev")) == 1
    assert S3RecordStore(cae_dev).list("cae-dev")[0].location == location


def test_the_state_bucket_refuses_records_over_plain_http(cae_dev, moto_server, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.plain_endpoint)

    with pytest.raises(RecordError) as raised:
        S3RecordStore(cae_dev).write(record("2026-11-26T07:00:00Z"))

    # moto answers a refusal by bucket policy with a bare 403, where S3 would say AccessDenied.
    assert str(raised.value).endswith(
        ": AWS put_object failed: 403: Forbidden. The run itself is over."
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    assert S3RecordStore(cae_dev).list("cae-dev") == []


def test_a_record_refused_by_s3_still_lands_locally_and_the_error_says_where(
    project_repo, aws_env, tmp_path, monkeypatch
):
    monkeypatch.setenv("HUBOPS_RECORDS_DIR", str(tmp_path / "records"))
    without_bucket = load_environment(project_repo.path, "cae-dev")  # its backend never made

    with pytest.raises(RecordError) as raised:
        write_record(project_repo.path, without_bucket, record("2026-11-26T07:00:00Z"))

    [local] = (tmp_path / "records" / "cae-dev").glob("*.json")
    assert str(raised.value).startswith(
        f"Could not write the run record to s3://{BUCKET}/hubops-records/cae-dev/20261126T070000Z-"
    )
    assert str(raised.value).endswith(
        ": AWS put_object failed: NoSuchBucket: The specified bucket does not exist. The run "
        f"itself is over. Its record is only in {local}."
    )


def test_history_merges_both_stores_and_says_where_each_record_is(
    cae_dev, project_repo, tmp_path, monkeypatch
):
    monkeypatch.setenv("HUBOPS_RECORDS_DIR", str(tmp_path / "records"))
    write_record(project_repo.path, cae_dev, record("2026-11-26T07:00:00Z"))
    S3RecordStore(cae_dev).write(record("2026-11-26T08:00:00Z", Outcome.ROUTING_CHANGED))  # from CI

    runs = history(project_repo.path, cae_dev)

    assert [(run.outcome, run.source) for run in runs] == [
        (Outcome.ROUTING_CHANGED, "s3"),
        (Outcome.OK, "local+s3"),
    ]


def test_a_record_the_local_folder_refuses_still_lands_in_s3_and_the_error_says_so(
    cae_dev, project_repo, tmp_path, monkeypatch
):
    not_a_folder = tmp_path / "records"
    not_a_folder.write_text("")
    monkeypatch.setenv("HUBOPS_RECORDS_DIR", str(not_a_folder))

    with pytest.raises(RecordError) as raised:
        write_record(project_repo.path, cae_dev, record("2026-11-26T07:00:00Z"))

    [stored] = S3RecordStore(cae_dev).list("cae-dev")
    assert str(raised.value) == (
        f"Could not write the run record under {not_a_folder / 'cae-dev'}: Not a directory. The "
        "run itself is over; set HUBOPS_RECORDS_DIR to a writable folder for the next one. Its "
        f"record is only in {stored.location}."
    )
