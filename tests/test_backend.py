"""The state backend against moto's server: inspected, created as configured, created only once."""

import json

import boto3
import pytest

from hubops.adapters.environment_files import load_environment
from hubops.bootstrap.backend import check_backend, ensure_backend, inspect_backend
from hubops.bootstrap.bucket_policy import denies_insecure_transport, insecure_transport_gap
from hubops.facts.errors import PreflightError

BUCKET = "cae-dev-tofu-state-123456789012"
ALIAS = "alias/cae-dev-tofu-state"
LOCKFILE = (
    f"found    lock: S3 lock file s3://{BUCKET}/cae-dev/terraform.tfstate.tflock "
    "(needs only the bucket)"
)
IDENTITY = f"identity: s3://{BUCKET}/cae-dev/terraform.tfstate.hubops-identity.json"
PLAN_EXPIRY = f"expiry of reviewed plans (plans/ after 14 days) on S3 bucket {BUCKET}"


@pytest.fixture
def cae_dev(project_repo, aws_env):
    return load_environment(project_repo.path, "cae-dev")


def with_backend_setting(repo, env_name, old, new):
    """Rewrite one line of an environment's backend.hcl in the test's copy of the project."""
    path = repo.path / "environments" / env_name / "backend.hcl"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return load_environment(repo.path, env_name)


def s3():
    return boto3.client("s3", region_name="us-west-2")


def kms():
    return boto3.client("kms", region_name="us-west-2")


def key_id_of(alias):
    return kms().describe_key(KeyId=alias)["KeyMetadata"]["KeyId"]


def test_inspect_of_a_new_environment_reports_the_missing_key_and_bucket(cae_dev):
    report = inspect_backend(cae_dev)

    assert report.render().splitlines() == [
        f"problem  KMS key {ALIAS} does not exist",
        f"problem  S3 bucket {BUCKET} does not exist (its versioning, encryption, public access "
        "block and TLS-only policy are set when it is created)",
        f"problem  lock: S3 lock file s3://{BUCKET}/cae-dev/terraform.tfstate.tflock needs S3 "
        f"bucket {BUCKET}, which is not usable (above)",
    ]
    assert s3().list_buckets()["Buckets"] == []


def test_check_backend_names_the_problems_and_the_command_to_run(cae_dev):
    with pytest.raises(PreflightError) as raised:
        check_backend(cae_dev)

    assert str(raised.value) == (
        "The state backend of cae-dev is not ready:\n"
        f"  KMS key {ALIAS} does not exist\n"
        f"  S3 bucket {BUCKET} does not exist (its versioning, encryption, public access block "
        "and TLS-only policy are set when it is created)\n"
        f"  lock: S3 lock file s3://{BUCKET}/cae-dev/terraform.tfstate.tflock needs S3 bucket "
        f"{BUCKET}, which is not usable (above)\n"
        "Nothing was changed; run `invoke backend --env cae-dev` to create it."
    )


def test_ensure_creates_the_key_bucket_and_settings_as_configured(cae_dev):
    report = ensure_backend(cae_dev)

    key_id = key_id_of(ALIAS)
    key = kms().describe_key(KeyId=key_id)["KeyMetadata"]
    assert report.render().splitlines() == [
        f"created  KMS key {ALIAS} ({key_id}), rotated yearly",
        f"created  S3 bucket {BUCKET} in us-west-2",
        f"created  versioning on S3 bucket {BUCKET}",
        f"created  default encryption of S3 bucket {BUCKET} with KMS key {ALIAS}",
        f"created  public access blocked on S3 bucket {BUCKET}",
        f"created  policy refusing non-TLS access to S3 bucket {BUCKET}",
        f"created  {PLAN_EXPIRY}",
        f"created  {IDENTITY} records cae-dev (unsupervised, domain hub-dev.example.org)",
        LOCKFILE,
    ]
    assert kms().get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    assert s3().get_bucket_location(Bucket=BUCKET)["LocationConstraint"] == "us-west-2"
    assert s3().get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    rule = s3().get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][
        0
    ]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": key["Arn"],
    }
    assert s3().get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    policy = json.loads(s3().get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert policy["Statement"] == [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]


def test_ensure_run_twice_creates_nothing_the_second_time(cae_dev):
    ensure_backend(cae_dev)

    second = ensure_backend(cae_dev)

    assert second.created == []
    assert second.problems == []
    assert len(second.found) == 9
    assert [k["KeyId"] for k in kms().list_keys()["Keys"]] == [key_id_of(ALIAS)]
    assert [b["Name"] for b in s3().list_buckets()["Buckets"]] == [BUCKET]


def test_check_backend_passes_once_the_backend_exists(cae_dev):
    ensure_backend(cae_dev)

    report = check_backend(cae_dev)

    assert report.ok
    assert report.created == []


def test_ensure_fixes_a_bucket_someone_made_without_its_settings(cae_dev):
    ensure_backend(cae_dev)
    s3().put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    s3().delete_bucket_encryption(Bucket=BUCKET)
    s3().delete_public_access_block(Bucket=BUCKET)
    s3().delete_bucket_policy(Bucket=BUCKET)
    kms().disable_key_rotation(KeyId=key_id_of(ALIAS))

    inspected = inspect_backend(cae_dev)
    fixed = ensure_backend(cae_dev)

    key_id = key_id_of(ALIAS)
    assert inspected.problems == [
        f"KMS key {ALIAS} ({key_id}) is not rotated",
        f"S3 bucket {BUCKET} has versioning Suspended",
        f"S3 bucket {BUCKET} is not encrypted by default with KMS key {ALIAS} "
        "(it uses no default encryption)",
        f"S3 bucket {BUCKET} does not block public access (BlockPublicAcls, IgnorePublicAcls, "
        "BlockPublicPolicy, RestrictPublicBuckets off)",
        f"S3 bucket {BUCKET} has no policy refusing non-TLS access",
    ]
    assert fixed.render().splitlines() == [
        f"fixed    yearly rotation of KMS key {ALIAS} ({key_id})",
        f"found    S3 bucket {BUCKET} in us-west-2",
        f"fixed    versioning on S3 bucket {BUCKET}",
        f"fixed    default encryption of S3 bucket {BUCKET} with KMS key {ALIAS}",
        f"fixed    public access blocked on S3 bucket {BUCKET}",
        f"fixed    policy refusing non-TLS access to S3 bucket {BUCKET}",
        f"found    {PLAN_EXPIRY}",
        f"found    {IDENTITY} records cae-dev (unsupervised, domain hub-dev.example.org)",
        LOCKFILE,
    ]
    assert check_backend(cae_dev).ok


def test_ensure_keeps_an_existing_bucket_policy_and_adds_the_tls_rule_beside_it(cae_dev):
    ensure_backend(cae_dev)
    reader = {
        "Sid": "CiReadsState",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:role/ci"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*",
    }
    s3().put_bucket_policy(
        Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [reader]})
    )

    ensure_backend(cae_dev)

    statements = json.loads(s3().get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["CiReadsState", "DenyInsecureTransport"]
    assert statements[0] == reader


def test_ensure_reencrypts_a_bucket_encrypted_with_another_key(cae_dev):
    ensure_backend(cae_dev)
    other = kms().create_key()["KeyMetadata"]["Arn"]
    s3().put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": other,
                    }
                }
            ]
        },
    )

    assert inspect_backend(cae_dev).problems == [
        f"S3 bucket {BUCKET} is not encrypted by default with KMS key {ALIAS} "
        f"(it uses aws:kms {other})"
    ]
    ensure_backend(cae_dev)
    assert inspect_backend(cae_dev).ok


def test_ensure_creates_a_dynamodb_lock_table_when_the_settings_name_one(project_repo, aws_env):
    env = with_backend_setting(
        project_repo, "cae-dev", "use_lockfile = true", 'dynamodb_table = "cae-dev-tofu-lock"'
    )

    report = ensure_backend(env)

    assert report.render().splitlines()[-1] == (
        "created  lock: DynamoDB table cae-dev-tofu-lock (hash key LockID, string)"
    )
    table = boto3.client("dynamodb", region_name="us-west-2").describe_table(
        TableName="cae-dev-tofu-lock"
    )["Table"]
    assert table["KeySchema"] == [{"AttributeName": "LockID", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "LockID", "AttributeType": "S"}]
    assert ensure_backend(env).render().splitlines()[-1] == (
        "found    lock: DynamoDB table cae-dev-tofu-lock (hash key LockID, string)"
    )


def test_ensure_refuses_a_lock_table_with_the_wrong_key_and_changes_nothing(project_repo, aws_env):
    env = with_backend_setting(
        project_repo, "cae-dev", "use_lockfile = true", 'dynamodb_table = "cae-dev-tofu-lock"'
    )
    boto3.client("dynamodb", region_name="us-west-2").create_table(
        TableName="cae-dev-tofu-lock",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )

    with pytest.raises(PreflightError) as raised:
        ensure_backend(env)

    assert str(raised.value) == (
        "The state backend of cae-dev needs fixing by hand first:\n"
        "  lock: DynamoDB table cae-dev-tofu-lock exists but its key is not LockID (string, hash "
        "only), which OpenTofu's lock needs: name another table in "
        "environments/cae-dev/backend.hcl.\n"
        "Nothing was changed; run `invoke backend --env cae-dev` again afterwards."
    )
    assert s3().list_buckets()["Buckets"] == []
    assert kms().list_keys()["Keys"] == []


def test_ensure_refuses_a_key_pending_deletion(cae_dev):
    ensure_backend(cae_dev)
    key_id = key_id_of(ALIAS)
    kms().schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)

    with pytest.raises(PreflightError) as raised:
        ensure_backend(cae_dev)

    assert str(raised.value) == (
        "The state backend of cae-dev needs fixing by hand first:\n"
        f"  KMS key {ALIAS} ({key_id}) is PendingDeletion, not Enabled: make it usable again "
        f"(`aws kms cancel-key-deletion --key-id {key_id}`, then `aws kms enable-key --key-id "
        f"{key_id}`) or point kms_key_id in environments/cae-dev/backend.hcl at another alias.\n"
        "Nothing was changed; run `invoke backend --env cae-dev` again afterwards."
    )


def test_settings_without_a_lock_are_a_problem_only_a_human_fixes(project_repo, aws_env):
    env = with_backend_setting(project_repo, "cae-dev", "use_lockfile = true", "")

    report = inspect_backend(env)

    assert report.unfixable == [
        "environments/cae-dev/backend.hcl: the state is not locked (neither use_lockfile = true "
        "nor dynamodb_table), so two runs could write it at once: set use_lockfile = true."
    ]


def test_settings_that_write_encrypt_as_a_string_are_refused_by_the_shared_rule(
    project_repo, aws_env
):
    env = with_backend_setting(project_repo, "cae-dev", "encrypt      = true", 'encrypt = "false"')

    assert inspect_backend(env).unfixable == [
        'environments/cae-dev/backend.hcl: encrypt is "false", but state holds secrets and must '
        "be encrypted: set encrypt = true."
    ]


def test_settings_with_a_missing_key_not_named_by_alias_cannot_be_created(project_repo, aws_env):
    key_arn = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    env = with_backend_setting(
        project_repo,
        "cae-dev",
        "arn:aws:kms:us-west-2:123456789012:alias/cae-dev-tofu-state",
        key_arn,
    )

    assert inspect_backend(env).unfixable == [
        f"KMS key {key_arn} does not exist, and only a key named by an alias can be created: set "
        "kms_key_id in environments/cae-dev/backend.hcl to an alias ARN "
        '("arn:aws:kms:us-west-2:123456789012:alias/NAME").'
    ]


def test_settings_with_a_key_in_another_account_are_refused(project_repo, aws_env):
    env = with_backend_setting(
        project_repo,
        "cae-dev",
        "arn:aws:kms:us-west-2:123456789012:",
        "arn:aws:kms:us-west-2:999988887777:",
    )

    assert inspect_backend(env).unfixable == [
        "environments/cae-dev/backend.hcl: kms_key_id is in account 999988887777, but cae-dev "
        "lives in account 123456789012: make them agree."
    ]


def test_a_bucket_in_another_region_is_refused(cae_dev):
    s3_east = boto3.client("s3", region_name="eu-west-1")
    s3_east.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )

    with pytest.raises(PreflightError) as raised:
        ensure_backend(cae_dev)

    assert (
        f"  S3 bucket {BUCKET} is in region eu-west-1, but environments/cae-dev/backend.hcl says "
        "us-west-2: set the region there to match, or choose another bucket name.\n"
    ) in str(raised.value)
    assert kms().list_keys()["Keys"] == []


def put_policy(*statements):
    s3().put_bucket_policy(
        Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
    )


def tls_deny(**changes):
    statement = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    statement.update(changes)
    return {k: v for k, v in statement.items() if v is not None}


@pytest.mark.parametrize(
    ("statement", "gap"),
    [
        (
            tls_deny(Resource=f"arn:aws:s3:::{BUCKET}/*"),
            f"it does not cover the bucket (arn:aws:s3:::{BUCKET})",
        ),
        (
            tls_deny(Resource=f"arn:aws:s3:::{BUCKET}"),
            f"it does not cover its objects (arn:aws:s3:::{BUCKET}/*)",
        ),
        (tls_deny(Action="s3:GetObject"), "it does not cover every S3 action (s3:*)"),
        (
            tls_deny(Principal={"AWS": "arn:aws:iam::123456789012:root"}),
            "it does not cover every principal",
        ),
        (
            tls_deny(
                Condition={
                    "Bool": {"aws:SecureTransport": "false"},
                    "StringEquals": {"aws:PrincipalAccount": "123456789012"},
                }
            ),
            "further conditions narrow it",
        ),
        (tls_deny(NotResource=f"arn:aws:s3:::{BUCKET}/public/*"), "it uses NotResource"),
        (tls_deny(Effect="Allow"), "it does not deny"),
    ],
    ids=["objects-only", "bucket-only", "one-action", "one-principal", "narrowed", "not", "allow"],
)
def test_a_tls_statement_that_covers_only_part_of_the_bucket_says_what_it_misses(statement, gap):
    assert insecure_transport_gap(statement, BUCKET) == gap
    assert not denies_insecure_transport(statement, BUCKET)


def test_a_tls_deny_of_the_objects_only_is_reported_and_replaced_by_the_whole_one(cae_dev):
    ensure_backend(cae_dev)
    put_policy(tls_deny(Resource=f"arn:aws:s3:::{BUCKET}/*"))

    inspected = inspect_backend(cae_dev)
    ensure_backend(cae_dev)

    assert inspected.problems == [
        f"S3 bucket {BUCKET} has no policy refusing non-TLS access (statement "
        "DenyInsecureTransport refuses it only in part: it does not cover the bucket "
        f"(arn:aws:s3:::{BUCKET}))"
    ]
    statements = json.loads(s3().get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
    assert statements == [tls_deny()]  # ours replaced the partial one of the same name
    assert inspect_backend(cae_dev).ok


def test_a_tls_deny_written_another_way_that_covers_everything_counts():
    statement = tls_deny(
        Sid="TlsOnly",
        Principal={"AWS": ["*"]},
        Action=["*"],
        Resource="arn:aws:s3:::*",
        Condition={"Bool": {"aws:SecureTransport": ["false"]}},
    )

    assert denies_insecure_transport(statement, BUCKET)


def test_reviewed_plans_expire_and_the_buckets_own_lifecycle_rules_are_kept(cae_dev):
    ensure_backend(cae_dev)
    logs = {"ID": "old-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
            "Expiration": {"Days": 90}}  # fmt: skip
    s3().put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [logs]})

    inspected = inspect_backend(cae_dev)
    fixed = ensure_backend(cae_dev)

    assert inspected.problems == [
        f"S3 bucket {BUCKET} keeps reviewed plans (plans/) for good: it has no rule expiring "
        "them after 14 days"
    ]
    assert fixed.created == [PLAN_EXPIRY]
    rules = s3().get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert [rule["ID"] for rule in rules] == ["old-logs", "hubops-reviewed-plans-expire"]
    [ours] = [rule for rule in rules if rule["ID"] == "hubops-reviewed-plans-expire"]
    assert ours["Filter"] == {"Prefix": "plans/"}
    assert ours["Expiration"] == {"Days": 14}
    assert ours["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    assert check_backend(cae_dev).ok
