"""Every AWS call survives what real accounts do: throttling, 5xx and dropped connections.

Faults are injected by a loopback proxy between the client and moto's server, so the production
retry policy is exercised exactly as it runs against AWS.
"""

import os

import boto3
import pytest

from hubops.adapters import aws
from hubops.adapters.environment_files import load_environment
from hubops.adapters.secrets import redact
from hubops.bootstrap.backend import check_backend, ensure_backend
from hubops.facts.errors import AwsError, SettingError
from tests.support import invoking

BUCKET = "cae-dev-tofu-state-123456789012"
ALIAS = "alias/cae-dev-tofu-state"
FAKE_ACCESS_KEY = "AKIAFAKEHUBOPS0SECRET"
FAKE_SECRET_KEY = "hubops/Fake+Secret+Key/DoNotPrint0123456789ab"
FAKE_SESSION_TOKEN = "FwoGZXIvYXdzEHubopsFakeSessionTokenDoNotPrint//////////0123"


@pytest.fixture
def cae_dev(project_repo, fault_proxy, monkeypatch):
    # Long enough for a few injected faults in a row, short enough to keep the tests quick.
    monkeypatch.setenv("HUBOPS_AWS_RETRY_SECONDS", "5")
    return load_environment(project_repo.path, "cae-dev")


def kms():
    return boto3.client("kms", region_name="us-west-2")


def s3():
    return boto3.client("s3", region_name="us-west-2")


def test_bootstrap_completes_after_throttling_server_errors_and_dropped_connections(
    cae_dev, fault_proxy
):
    fault_proxy.inject("throttle", match="TrentService.DescribeKey", times=2)
    fault_proxy.inject("drop", match="TrentService.CreateKey")
    fault_proxy.inject("unavailable", match="TrentService.CreateAlias")
    fault_proxy.inject("throttle", match=f"^PUT /{BUCKET}$", times=2)
    fault_proxy.inject("drop", match=r"^PUT .*\?encryption")
    fault_proxy.inject("unavailable", match=r"^PUT .*\?policy", times=2)

    report = ensure_backend(cae_dev)

    assert len(fault_proxy.injected) == 9
    assert len(report.created) == 8  # key, bucket, versioning, encryption, access, policy,
    # plan expiry, identity
    fault_proxy.clear()
    assert check_backend(cae_dev).ok
    assert len(kms().list_keys()["Keys"]) == 1


def test_a_lost_answer_to_bucket_creation_is_retried_without_harm(cae_dev, fault_proxy):
    fault_proxy.inject("drop_after", match=f"^PUT /{BUCKET}$")

    report = ensure_backend(cae_dev)

    assert fault_proxy.injected == [f"drop_after PUT /{BUCKET}"]
    assert f"S3 bucket {BUCKET} in us-west-2" in report.created
    assert [b["Name"] for b in s3().list_buckets()["Buckets"]] == [BUCKET]


def test_access_denied_is_not_retried_and_names_the_operation(cae_dev, fault_proxy):
    fault_proxy.inject("deny", match=f"^PUT /{BUCKET}$", times=None)

    with pytest.raises(AwsError) as raised:
        ensure_backend(cae_dev)

    key_id = kms().describe_key(KeyId=ALIAS)["KeyMetadata"]["KeyId"]
    assert str(raised.value) == (
        "AWS create_bucket failed: AccessDenied: Access Denied. Check that your shell's AWS "
        "credentials belong to the environment's account and may do this (`invoke whoami --env "
        "ENV` shows who you are).\n"
        f"Created before the failure: KMS key {ALIAS} ({key_id}), rotated yearly. Once the cause "
        "is fixed, run `invoke backend --env cae-dev` again: it finishes what is left."
    )
    assert fault_proxy.seen.count(f"PUT /{BUCKET}") == 1


def test_a_permanent_fault_part_way_leaves_what_the_next_run_finishes(cae_dev, fault_proxy):
    fault_proxy.inject("deny", match=r"^PUT .*\?encryption", times=None)
    with pytest.raises(AwsError) as raised:
        ensure_backend(cae_dev)
    assert "AWS put_bucket_encryption failed: AccessDenied" in str(raised.value)
    fault_proxy.clear()

    second = ensure_backend(cae_dev)

    assert second.created == [
        f"identity: s3://{BUCKET}/cae-dev/terraform.tfstate.hubops-identity.json records cae-dev "
        "(unsupervised, domain hub-dev.example.org)",
        f"default encryption of S3 bucket {BUCKET} with KMS key {ALIAS}",
        f"public access blocked on S3 bucket {BUCKET}",
        f"policy refusing non-TLS access to S3 bucket {BUCKET}",
        f"expiry of reviewed plans (plans/ after 14 days) on S3 bucket {BUCKET}",
    ]
    assert check_backend(cae_dev).ok
    assert len(kms().list_keys()["Keys"]) == 1


def test_a_key_whose_alias_cannot_be_made_is_scheduled_for_deletion(cae_dev, fault_proxy):
    fault_proxy.inject("deny", match="TrentService.CreateAlias", times=None)

    with pytest.raises(AwsError) as raised:
        ensure_backend(cae_dev)

    [orphan] = kms().list_keys()["Keys"]
    assert kms().describe_key(KeyId=orphan["KeyId"])["KeyMetadata"]["KeyState"] == (
        "PendingDeletion"
    )
    assert f"(the new key {orphan['KeyId']} has been scheduled for deletion)" in str(raised.value)
    assert s3().list_buckets()["Buckets"] == []
    fault_proxy.clear()
    ensure_backend(cae_dev)
    assert kms().describe_key(KeyId=ALIAS)["KeyMetadata"]["KeyState"] == "Enabled"


def test_throttling_that_outlasts_the_bound_fails_with_a_clear_error(
    cae_dev, fault_proxy, monkeypatch
):
    # Long enough that a slow first reply on a loaded machine still leaves room for a retry.
    monkeypatch.setenv("HUBOPS_AWS_RETRY_SECONDS", "2")
    fault_proxy.inject("throttle", match="TrentService.DescribeKey", times=None)

    with pytest.raises(AwsError) as raised:
        ensure_backend(cae_dev)

    assert str(raised.value) == (
        "AWS describe_key failed: ThrottlingException: Rate exceeded (still failing after "
        "retrying for 2s; try again later)"
    )
    assert fault_proxy.seen.count("POST / TrentService.DescribeKey") >= 2
    assert kms().list_keys()["Keys"] == []


def test_an_unreachable_endpoint_fails_after_the_bound_with_what_to_check(
    cae_dev, fault_proxy, monkeypatch
):
    fault_proxy.stop()
    monkeypatch.setenv("HUBOPS_AWS_RETRY_SECONDS", "0.3")

    with pytest.raises(AwsError) as raised:
        check_backend(cae_dev)

    assert str(raised.value) == (
        "AWS describe_key failed: Could not connect to the endpoint URL: "
        f'"{fault_proxy.endpoint}/" '
        "(after retrying for 0.3s). Check your network and AWS settings (AWS_ENDPOINT_URL, "
        "AWS_DEFAULT_REGION) and try again."
    )


def test_a_bad_retry_bound_is_refused_with_what_to_set(monkeypatch, aws_env):
    monkeypatch.setenv("HUBOPS_AWS_RETRY_SECONDS", "soon")
    sts = aws.client("sts", "us-west-2")

    with pytest.raises(SettingError) as raised:
        aws.call(sts.get_caller_identity)

    assert str(raised.value) == (
        "HUBOPS_AWS_RETRY_SECONDS='soon' is malformed: give a number of seconds, 0 or more, or "
        "unset it to use the default (60)."
    )


def test_no_credentials_give_a_message_saying_what_to_set(monkeypatch, aws_env):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    sts = aws.client("sts", "us-west-2")

    with pytest.raises(AwsError) as raised:
        aws.call(sts.get_caller_identity)

    assert str(raised.value) == (
        "AWS get_caller_identity failed: no usable AWS credentials. Set AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) for the environment's account and try again."
    )


def test_redact_removes_the_shells_credentials_and_access_key_ids(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", FAKE_SESSION_TOKEN)

    text = redact(f"key AKIAIOSFODNN7EXAMPLE secret {FAKE_SECRET_KEY} token {FAKE_SESSION_TOKEN}")

    assert text == "key [redacted] secret [redacted] token [redacted]"


def run_invoke(project_repo, environ, *args):
    return invoking.run_invoke(
        *args,
        cwd=project_repo.path,
        env={**os.environ, **environ, "HUBOPS_ROOT": str(project_repo.path)},
    )


def test_no_secret_reaches_the_output_of_a_run_through_faults(
    project_repo, aws_env, fault_proxy, moto_server
):
    secrets = {
        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_KEY,
        "AWS_SESSION_TOKEN": FAKE_SESSION_TOKEN,
        "HUBOPS_AWS_RETRY_SECONDS": "5",
    }
    fault_proxy.inject("throttle", times=3)
    fault_proxy.inject("drop", match="TrentService.CreateKey")
    fault_proxy.inject("deny", match=r"^PUT .*\?policy", times=None)
    environ = {**aws_env, **secrets}

    runs = [
        run_invoke(project_repo, environ, "backend", "--env", "cae-dev"),
        run_invoke(project_repo, environ, "whoami", "--env", "cae-dev"),
        run_invoke(project_repo, environ, "doctor", "--env", "cae-dev"),
    ]
    moto_server.reject_credentials()
    runs.append(run_invoke(project_repo, environ, "whoami", "--env", "cae-dev"))

    assert [run.returncode for run in runs] == [1, 0, 1, 1]
    assert "AWS put_bucket_policy failed: AccessDenied" in runs[0].stderr
    assert "InvalidClientTokenId" in runs[3].stderr
    output = "".join(run.stdout + run.stderr for run in runs)
    for secret in (FAKE_ACCESS_KEY, FAKE_SECRET_KEY, FAKE_SESSION_TOKEN):
        assert secret not in output


def test_a_lost_answer_to_key_creation_leaves_one_key_with_its_alias(cae_dev, fault_proxy):
    fault_proxy.inject("drop_after", match="TrentService.CreateKey")

    report = ensure_backend(cae_dev)

    assert fault_proxy.injected == ["drop_after POST / TrentService.CreateKey"]
    [key] = kms().list_keys()["Keys"]
    assert kms().describe_key(KeyId=ALIAS)["KeyMetadata"]["KeyId"] == key["KeyId"]
    assert report.created[0] == f"KMS key {ALIAS} ({key['KeyId']}), rotated yearly"
    fault_proxy.clear()
    assert check_backend(cae_dev).ok


def test_a_key_an_earlier_run_made_but_never_aliased_is_adopted_and_extras_removed(
    cae_dev, fault_proxy
):
    # What two runs whose CreateKey answers were lost (and whose retries ran out) leave behind.
    made = [
        kms().create_key(
            Description=f"OpenTofu state of cae-dev ({ALIAS})",
            Tags=[{"TagKey": "hubops:environment", "TagValue": "cae-dev"}],
        )["KeyMetadata"]["KeyId"]
        for _ in range(2)
    ]
    unrelated = kms().create_key(Description="someone else's key")["KeyMetadata"]["KeyId"]

    report = ensure_backend(cae_dev)

    first, second = made
    assert report.render().splitlines()[:2] == [
        f"created  KMS key {ALIAS} ({first}), rotated yearly (made by an earlier run whose "
        "answer was lost)",
        f"fixed    KMS key {second}, made for {ALIAS} by an earlier run but left without it: "
        "scheduled for deletion in 7 days",
    ]
    assert kms().describe_key(KeyId=ALIAS)["KeyMetadata"]["KeyId"] == first
    assert kms().describe_key(KeyId=second)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    assert kms().describe_key(KeyId=unrelated)["KeyMetadata"]["KeyState"] == "Enabled"


def test_an_object_of_the_backend_that_cannot_be_read_is_named_by_bucket_and_key(
    cae_dev, fault_proxy
):
    ensure_backend(cae_dev)
    fault_proxy.inject("deny", match=r"GET \S*hubops-identity\.json", times=None)

    with pytest.raises(AwsError) as raised:
        check_backend(cae_dev)

    assert str(raised.value) == (
        f"Could not read s3://{cae_dev.backend.bucket}/{cae_dev.backend.key}.hubops-identity.json: "
        "AWS get_object failed: AccessDenied: Access Denied. Check that your shell's AWS "
        "credentials belong to the environment's account and may do this (`invoke whoami --env "
        "ENV` shows who you are)."
    )
