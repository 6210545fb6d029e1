"""The OpenTofu state backend of an environment: inspected, and created where it is missing.

`environments/ENV/backend.hcl` says where the state lives; this module makes sure that exists as
configured: the KMS key (found by its alias; created with the alias and yearly rotation when
missing), the S3 bucket (versioning on, default encryption with that key, public access blocked,
a policy refusing non-TLS access) and the lock (an S3 lock file needs only the bucket; a DynamoDB
table needs a `LockID` string hash key).

`inspect_backend` only reads. `ensure_backend` first inspects; if anything is wrong that it cannot
put right (a key pending deletion, a bucket in another region or account), it refuses before
changing anything. Otherwise it creates or fixes what is missing, in an order where a failure
part-way leaves only things the next run finds and finishes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from hubops.adapters import aws
from hubops.bootstrap.bucket_policy import (
    POLICY_SID,
    denies_insecure_transport,
    insecure_transport_gap,
    insecure_transport_statement,
    mentions_secure_transport,
)
from hubops.bootstrap.report import CREATED, FIXED, FOUND, PROBLEM, Report, ReportLine
from hubops.bootstrap.state_identity import (
    StateIdentity,
    contradictions,
    environment_named_by_state,
    marker_url,
    read_marker,
    write_marker,
)
from hubops.bootstrap.state_key import StateKey, key_spec
from hubops.facts.backend_rules import broken_rules
from hubops.facts.bucket_layout import PLANS_PREFIX
from hubops.facts.environments import BACKEND_FILE, Environment
from hubops.facts.errors import AwsError, PreflightError

PLAN_EXPIRY_DAYS = 14
PLAN_EXPIRY_RULE = {
    "ID": "hubops-reviewed-plans-expire",
    "Status": "Enabled",
    "Filter": {"Prefix": f"{PLANS_PREFIX}/"},
    "Expiration": {"Days": PLAN_EXPIRY_DAYS},
    # The bucket is versioned: a plan's older versions go a day after they stop being current.
    "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
}

_MISSING_BUCKET = {"404", "NoSuchBucket", "NotFound"}
_FORBIDDEN_BUCKET = {"403", "AccessDenied", "Forbidden"}


@dataclass
class BackendReport(Report):
    """What the backend inspection found, created, fixed, and what is wrong."""

    environment: str
    lines: list[ReportLine] = field(default_factory=list)
    # What the marker beside the state says this state is (None: not read or not there).
    identity: StateIdentity | None = None

    def next_step(self, env_name: str) -> str:
        if self.unfixable:
            return f"fix by hand what is marked above, then run `invoke backend --env {env_name}`"
        return f"run `invoke backend --env {env_name}` to create it"


class _Backend(StateKey):
    """One pass over the backend: reads only, or (fix=True) also creates and fixes."""

    def __init__(self, env: Environment, *, fix: bool):
        self.env = env
        self.settings = env.backend
        self.file = f"environments/{env.name}/{BACKEND_FILE}"
        self.fix = fix
        self.report = BackendReport(env.name)
        self.key = key_spec(env)
        self.new_bucket = False

    def run(self) -> BackendReport:
        if not self._settings_ok():
            return self.report
        key_arn = self._kms_key()
        bucket_ok = self._bucket()
        if bucket_ok:
            self._versioning()
            self._encryption(key_arn)
            self._public_access_block()
            self._policy()
            self._plan_expiry()
            self._identity()
        self._lock(bucket_ok)
        return self.report

    # -- helpers ----------------------------------------------------------------------------

    def _problem(self, text: str, *, fixable: bool = True) -> None:
        self.report.add(PROBLEM, text, fixable=fixable)

    def _made(self, text: str, *, new: bool) -> None:
        self.report.add(CREATED if new else FIXED, text)

    def _client(self, service: str, region: str | None = None):
        cache = self.__dict__.setdefault("_clients", {})
        region = region or self.settings.region
        if (service, region) not in cache:
            cache[service, region] = aws.client(service, region)
        return cache[service, region]

    # -- backend.hcl itself -----------------------------------------------------------------

    def _settings_ok(self) -> bool:
        """Settings hubops requires of every state backend; problems here only a human fixes."""
        s, key = self.settings, self.key
        for rule in broken_rules(s.settings):
            self._problem(f"{self.file}: {rule.problem(s.settings)}: {rule.fix}.", fixable=False)
        if not s.kms_key_id:
            return self.report.ok  # the table's rule has said so
        if key.account and key.account != self.env.account_id:
            self._problem(
                f"{self.file}: kms_key_id is in account {key.account}, but {self.env.name} lives "
                f"in account {self.env.account_id}: make them agree.",
                fixable=False,
            )
        elif key.region != s.region:
            self._problem(
                f"{self.file}: kms_key_id is in region {key.region}, but the bucket is in "
                f"{s.region} (S3 can only use a key of its own region): make them agree.",
                fixable=False,
            )
        return self.report.ok

    # -- KMS ----------------------------------------------------------------------------------

    def _bucket(self) -> bool:
        """Whether the bucket exists (or now exists) and is usable, so its settings can be read."""
        s3, bucket, region = self._client("s3"), self.settings.bucket, self.settings.region
        try:
            aws.call(s3.head_bucket, Bucket=bucket)
        except AwsError as exc:
            if exc.code in _FORBIDDEN_BUCKET:
                self._problem(
                    f"S3 bucket {bucket} exists but these credentials cannot use it (bucket names "
                    f"are global; it may belong to another account): check `invoke whoami --env "
                    f"{self.env.name}`, or choose another bucket name in {self.file}.",
                    fixable=False,
                )
                return False
            if exc.code not in _MISSING_BUCKET:
                raise
            if not self.fix:
                self._problem(
                    f"S3 bucket {bucket} does not exist (its versioning, encryption, public "
                    "access block and TLS-only policy are set when it is created)"
                )
                return False
            self._create_bucket(s3)
            return True
        location = aws.call(s3.get_bucket_location, Bucket=bucket).get("LocationConstraint")
        actual = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)
        if actual != region:
            self._problem(
                f"S3 bucket {bucket} is in region {actual}, but {self.file} says {region}: "
                "set the region there to match, or choose another bucket name.",
                fixable=False,
            )
            return False
        self.report.add(FOUND, f"S3 bucket {bucket} in {region}")
        return True

    def _create_bucket(self, s3) -> None:
        bucket, region = self.settings.bucket, self.settings.region
        kwargs = {"Bucket": bucket}
        if region != "us-east-1":  # us-east-1 refuses a location constraint naming itself
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            aws.call(s3.create_bucket, **kwargs)
        except AwsError as exc:
            if exc.code == "BucketAlreadyExists":
                raise PreflightError(
                    f"The S3 bucket name {bucket} is taken by another AWS account (bucket names "
                    f"are global): choose another name in {self.file}. Nothing else was created."
                ) from exc
            # BucketAlreadyOwnedByYou: an earlier attempt whose answer was lost made it.
            if exc.code != "BucketAlreadyOwnedByYou":
                raise
        self.new_bucket = True
        self._made(f"S3 bucket {bucket} in {region}", new=True)

    def _versioning(self) -> None:
        s3, bucket = self._client("s3"), self.settings.bucket
        status = aws.call(s3.get_bucket_versioning, Bucket=bucket).get("Status")
        if status == "Enabled":
            self.report.add(FOUND, f"versioning on S3 bucket {bucket}")
        elif self.fix:
            aws.call(
                s3.put_bucket_versioning,
                Bucket=bucket,
                VersioningConfiguration={"Status": "Enabled"},
            )
            self._made(f"versioning on S3 bucket {bucket}", new=self.new_bucket)
        else:
            self._problem(f"S3 bucket {bucket} has versioning {status or 'never enabled'}")

    def _encryption(self, key_arn: str | None) -> None:
        s3, bucket = self._client("s3"), self.settings.bucket
        name = self.key.alias or self.key.configured
        try:
            rules = aws.call(s3.get_bucket_encryption, Bucket=bucket)[
                "ServerSideEncryptionConfiguration"
            ]["Rules"]
        except AwsError as exc:
            if exc.code != "ServerSideEncryptionConfigurationNotFoundError":
                raise
            rules = []
        defaults = [rule.get("ApplyServerSideEncryptionByDefault", {}) for rule in rules]
        ours = {self.key.configured, self.key.alias, key_arn}
        if key_arn:
            ours.add(key_arn.rsplit("/", 1)[-1])
        if self.key.alias:
            ours.add(f"arn:aws:kms:{self.key.region}:{self.env.account_id}:{self.key.alias}")
        if any(
            d.get("SSEAlgorithm") == "aws:kms" and d.get("KMSMasterKeyID") in ours for d in defaults
        ):
            self.report.add(FOUND, f"default encryption of S3 bucket {bucket} with KMS key {name}")
        elif self.fix:
            aws.call(
                s3.put_bucket_encryption,
                Bucket=bucket,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": key_arn,
                            },
                            "BucketKeyEnabled": True,
                        }
                    ]
                },
            )
            self._made(
                f"default encryption of S3 bucket {bucket} with KMS key {name}", new=self.new_bucket
            )
        else:
            current = ", ".join(
                f"{d.get('SSEAlgorithm')} {d.get('KMSMasterKeyID') or ''}".strip() for d in defaults
            )
            self._problem(
                f"S3 bucket {bucket} is not encrypted by default with KMS key {name} "
                f"(it uses {current or 'no default encryption'})"
            )

    def _public_access_block(self) -> None:
        s3, bucket = self._client("s3"), self.settings.bucket
        wanted = {
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        }
        try:
            current = aws.call(s3.get_public_access_block, Bucket=bucket)[
                "PublicAccessBlockConfiguration"
            ]
        except AwsError as exc:
            if exc.code != "NoSuchPublicAccessBlockConfiguration":
                raise
            current = {}
        if all(current.get(k) for k in wanted):
            self.report.add(FOUND, f"public access blocked on S3 bucket {bucket}")
        elif self.fix:
            aws.call(
                s3.put_public_access_block, Bucket=bucket, PublicAccessBlockConfiguration=wanted
            )
            self._made(f"public access blocked on S3 bucket {bucket}", new=self.new_bucket)
        else:
            open_ = [k for k in wanted if not current.get(k)]
            self._problem(
                f"S3 bucket {bucket} does not block public access ({', '.join(open_)} off)"
            )

    def _policy(self) -> None:
        s3, bucket = self._client("s3"), self.settings.bucket
        try:
            policy = json.loads(aws.call(s3.get_bucket_policy, Bucket=bucket)["Policy"])
        except AwsError as exc:
            if exc.code != "NoSuchBucketPolicy":
                raise
            policy = {"Version": "2012-10-17", "Statement": []}
        statements = policy.get("Statement", [])
        if isinstance(statements, dict):
            statements = [statements]
        if any(denies_insecure_transport(s, bucket) for s in statements):
            self.report.add(FOUND, f"policy refusing non-TLS access to S3 bucket {bucket}")
        elif self.fix:
            # Added beside whatever the policy already says, never replacing it; only a partial
            # statement of our own name gives way (statement ids must be unique).
            kept = [s for s in statements if s.get("Sid") != POLICY_SID]
            policy["Statement"] = [*kept, insecure_transport_statement(bucket)]
            aws.call(s3.put_bucket_policy, Bucket=bucket, Policy=json.dumps(policy))
            self._made(f"policy refusing non-TLS access to S3 bucket {bucket}", new=self.new_bucket)
        else:
            partial = [
                f"statement {s.get('Sid') or 'without Sid'} refuses it only in part: "
                f"{insecure_transport_gap(s, bucket)}"
                for s in statements
                if mentions_secure_transport(s)
            ]
            detail = f" ({'; '.join(partial)})" if partial else ""
            self._problem(f"S3 bucket {bucket} has no policy refusing non-TLS access{detail}")

    # -- which environment the state belongs to (hubops.bootstrap.state_identity) -----------

    def _plan_expiry(self) -> None:
        """Reviewed plans (under plans/) hold prior state and planned values, secrets included:
        the bucket keeps them only as long as a review and its apply can take."""
        s3, bucket = self._client("s3"), self.settings.bucket
        what = (
            f"expiry of reviewed plans ({PLANS_PREFIX}/ after {PLAN_EXPIRY_DAYS} days) on S3 "
            f"bucket {bucket}"
        )
        try:
            rules = aws.call(s3.get_bucket_lifecycle_configuration, Bucket=bucket)["Rules"]
        except AwsError as exc:
            if exc.code != "NoSuchLifecycleConfiguration":
                raise
            rules = []
        ours = [rule for rule in rules if rule.get("ID") == PLAN_EXPIRY_RULE["ID"]]
        if ours and all(ours[0].get(k) == v for k, v in PLAN_EXPIRY_RULE.items()):
            self.report.add(FOUND, what)
        elif self.fix:
            # A lifecycle configuration is replaced whole: the bucket's other rules are kept.
            others = [rule for rule in rules if rule.get("ID") != PLAN_EXPIRY_RULE["ID"]]
            aws.call(
                s3.put_bucket_lifecycle_configuration,
                Bucket=bucket,
                LifecycleConfiguration={"Rules": [*others, PLAN_EXPIRY_RULE]},
            )
            self._made(what, new=self.new_bucket)
        else:
            self._problem(
                f"S3 bucket {bucket} keeps reviewed plans ({PLANS_PREFIX}/) for good: it has no "
                f"rule expiring them after {PLAN_EXPIRY_DAYS} days"
            )

    def _identity(self) -> None:
        s3, where = self._client("s3"), marker_url(self.env)
        identity = read_marker(s3, self.env)
        if isinstance(identity, str):
            self._problem(
                f"identity: {identity}: move it aside, then run `invoke backend`.", fixable=False
            )
            return
        written = False
        if identity is None:
            claimed_by = environment_named_by_state(s3, self.env)
            if claimed_by not in (None, self.env.name):
                identity = StateIdentity(claimed_by, supervised=False, domain=None)
            elif not self.fix:
                self._problem(f"identity: no marker {where} naming the environment of this state")
                return
            else:
                write_marker(s3, self.env)
                identity, written = StateIdentity.of(self.env), True
        problems = contradictions(self.env, identity)
        for problem in problems:
            self._problem(f"identity: {problem}.", fixable=False)
        if problems:
            return
        self.report.identity = identity
        if written:
            self._made(f"identity: {where} records {identity.describe()}", new=True)
        else:
            self.report.add(FOUND, f"identity: {where} records {identity.describe()}")

    # -- lock ---------------------------------------------------------------------------------

    def _lock(self, bucket_ok: bool) -> None:
        s = self.settings
        if s.use_lockfile and bucket_ok:
            self.report.add(
                FOUND, f"lock: S3 lock file s3://{s.bucket}/{s.key}.tflock (needs only the bucket)"
            )
        elif s.use_lockfile:  # a lock in a bucket that is not there (or not usable) is no lock
            self._problem(
                f"lock: S3 lock file s3://{s.bucket}/{s.key}.tflock needs S3 bucket {s.bucket}, "
                "which is not usable (above)"
            )
        if s.dynamodb_table:
            self._lock_table()

    def _lock_table(self) -> None:
        dynamodb, table = self._client("dynamodb"), self.settings.dynamodb_table
        try:
            described = aws.call(dynamodb.describe_table, TableName=table)["Table"]
        except AwsError as exc:
            if exc.code != "ResourceNotFoundException":
                raise
            if not self.fix:
                self._problem(f"lock: DynamoDB table {table} does not exist")
                return
            aws.call(
                dynamodb.create_table,
                TableName=table,
                AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
            )
            waiter = dynamodb.get_waiter("table_exists")
            aws.call(waiter.wait, TableName=table, WaiterConfig={"Delay": 2, "MaxAttempts": 60})
            self._made(f"lock: DynamoDB table {table} (hash key LockID, string)", new=True)
            return
        types = {a["AttributeName"]: a["AttributeType"] for a in described["AttributeDefinitions"]}
        schema = [(k["AttributeName"], k["KeyType"]) for k in described["KeySchema"]]
        if schema != [("LockID", "HASH")] or types.get("LockID") != "S":
            self._problem(
                f"lock: DynamoDB table {table} exists but its key is not LockID (string, hash "
                f"only), which OpenTofu's lock needs: name another table in {self.file}.",
                fixable=False,
            )
        else:
            self.report.add(FOUND, f"lock: DynamoDB table {table} (hash key LockID, string)")


def inspect_backend(env: Environment) -> BackendReport:
    """Read-only: what exists, and every problem (missing or misconfigured), as a report."""
    return _Backend(env, fix=False).run()


def check_backend(env: Environment) -> BackendReport:
    """The report when the backend is ready; `PreflightError` listing the problems otherwise."""
    report = inspect_backend(env)
    if not report.ok:
        problems = "\n".join(f"  {p}" for p in report.problems)
        raise PreflightError(
            f"The state backend of {env.name} is not ready:\n{problems}\n"
            f"Nothing was changed; {report.next_step(env.name)}."
        )
    return report


def ensure_backend(env: Environment) -> BackendReport:
    """Create or fix what is missing (nothing when all is in place) and report what was done.

    Refuses, changing nothing, when something is wrong that it cannot fix. A fault part-way
    leaves only things the next run finds and finishes; the error says so.
    """
    inspected = inspect_backend(env)
    if inspected.unfixable:
        problems = "\n".join(f"  {p}" for p in inspected.unfixable)
        raise PreflightError(
            f"The state backend of {env.name} needs fixing by hand first:\n{problems}\n"
            f"Nothing was changed; run `invoke backend --env {env.name}` again afterwards."
        )
    if inspected.ok:
        return inspected
    run = _Backend(env, fix=True)
    try:
        return run.run()
    except AwsError as exc:
        done = "; ".join(run.report.created) or "nothing"
        raise AwsError(
            f"{exc}\nCreated before the failure: {done}. Once the cause is fixed, run `invoke "
            f"backend --env {env.name}` again: it finishes what is left.",
            code=exc.code,
        ) from exc
