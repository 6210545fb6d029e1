"""Run records beside the state: one S3 object per run, shared history, failures not dropped."""

import json

import boto3
import pytest

from hubops.backend import ensure_backend
from hubops.environments import load_environment
from hubops.errors import RecordError
from hubops.records import S3RecordStore

BUCKET = "cae-dev-tofu-state-123456789012"


@pytest.fixture
def cae_dev(project_repo, aws_env):
    env = load_environment(project_repo.path, "cae-dev")
    ensure_backend(env)
    # moto's server speaks plain http, which the bucket's TLS-only policy refuses exactly as S3
    # would; these tests are about the records, so that policy is lifted here.
    boto3.client("s3", region_name="us-west-2").delete_bucket_policy(Bucket=BUCKET)
    return env


def record(started_at, exit_status=0):
    return {
        "environment": "cae-dev",
        "commit": "0123456789abcdef",
        "started_at": started_at,
        "exit_status": exit_status,
    }


def test_a_record_goes_to_the_state_bucket_as_its_own_object(cae_dev):
    location = S3RecordStore(cae_dev).write(record("2026-11-26T07:00:00Z"))

    assert location.startswith(f"s3://{BUCKET}/hubops-records/cae-dev/20261126T070000Z-")
    key = location.removeprefix(f"s3://{BUCKET}/")
    stored = boto3.client("s3", region_name="us-west-2").get_object(Bucket=BUCKET, Key=key)
    assert json.loads(stored["Body"].read())["exit_status"] == 0
    assert stored["ServerSideEncryption"] == "aws:kms"
    [listed] = S3RecordStore(cae_dev).list("cae-dev")
    assert (listed["source"], listed["location"]) == ("s3", location)


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
        "ENV` shows who you are). The run itself is over; its record is in the local store if "
        "that was written."
    )


def test_a_record_whose_answer_was_lost_is_written_once(cae_dev, fault_proxy):
    fault_proxy.inject("drop_after", match="^PUT /[^?]*/hubops-records/")

    location = S3RecordStore(cae_dev).write(record("2026-11-26T07:00:00Z"))

    assert len(S3RecordStore(cae_dev).list("cae-dev")) == 1
    assert S3RecordStore(cae_dev).list("cae-dev")[0]["location"] == location
