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
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from hubops.adapters import aws
from hubops.facts.backend_rules import broken_rules
from hubops.facts.environments import BACKEND_FILE, Environment
from hubops.facts.errors import AwsError, PreflightError
from hubops.flows.reviewed_plan import PREFIX as PLANS_PREFIX
from hubops.bootstrap.state_identity import (
    StateIdentity,
    contradictions,
    environment_named_by_state,
    marker_url,
    read_marker,
    write_marker,
)

PLAN_EXPIRY_DAYS = 14
PLAN_EXPIRY_RULE = {
    "ID": "hubops-reviewed-plans-expire",
    "Status": "Enabled",
    "Filter": {"Prefix": f"{PLANS_PREFIX}/"},
    "Expiration": {"Days": PLAN_EXPIRY_DAYS},
    # The bucket is versioned: a plan's older versions go a day after they stop being current.
    "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
}

FOUND, CREATED, FIXED, PROBLEM = "found", "created", "fixed", "problem"
ENVIRONMENT_TAG = "hubops:environment"
POLICY_SID = "DenyInsecureTransport"
_SECURE_TRANSPORT = "aws:SecureTransport"
_KMS_ARN = re.compile(r"^arn:aws[\w-]*:kms:([\w-]+):(\d{12}):(alias/.+|key/.+)$")
_MISSING_BUCKET = {"404", "NoSuchBucket", "NotFound"}
_FORBIDDEN_BUCKET = {"403", "AccessDenied", "Forbidden"}
# A deleted key's alias survives for nothing: AWS deletes aliases with keys, so a week's wait
# is the shortest window that still lets an operator cancel a mistaken deletion.
_ORPHAN_KEY_DELETION_DAYS = 7


@dataclass(frozen=True)
class ReportLine:
    status: str  # found | created | fixed | problem
    text: str
    fixable: bool = True  # for problems: whether `invoke backend` can put it right

    def render(self) -> str:
        return f"{self.status:<8} {self.text}"


@dataclass
class BackendReport:
    """What the backend inspection found, created, fixed, and what is wrong."""

    environment: str
    lines: list[ReportLine] = field(default_factory=list)
    # What the marker beside the state says this state is (None: not read or not there).
    identity: StateIdentity | None = None

    def add(self, status: str, text: str, *, fixable: bool = True) -> None:
        self.lines.append(ReportLine(status, text, fixable))

    def _with(self, status: str) -> list[str]:
        return [line.text for line in self.lines if line.status == status]

    @property
    def found(self) -> list[str]:
        return self._with(FOUND)

    @property
    def created(self) -> list[str]:
        return self._with(CREATED) + self._with(FIXED)

    @property
    def problems(self) -> list[str]:
        return self._with(PROBLEM)

    @property
    def unfixable(self) -> list[str]:
        return [line.text for line in self.lines if line.status == PROBLEM and not line.fixable]

    def next_step(self, env_name: str) -> str:
        if self.unfixable:
            return f"fix by hand what is marked above, then run `invoke backend --env {env_name}`"
        return f"run `invoke backend --env {env_name}` to create it"

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self) -> str:
        return "\n".join(line.render() for line in self.lines)


@dataclass(frozen=True)
class KeySpec:
    """The `kms_key_id` of backend.hcl, taken apart."""

    configured: str
    region: str
    account: str | None
    alias: str | None  # "alias/NAME" when the key is named by alias


def key_spec(env: Environment) -> KeySpec:
    configured = env.backend.kms_key_id or ""
    match = _KMS_ARN.match(configured)
    if match:
        region, account, resource = match.groups()
        alias = resource if resource.startswith("alias/") else None
        return KeySpec(configured, region, account, alias)
    alias = configured if configured.startswith("alias/") else None
    return KeySpec(configured, env.backend.region, None, alias)


def insecure_transport_statement(bucket: str) -> dict:
    return {
        "Sid": POLICY_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _is_false(value) -> bool:
    values = _as_list(value)
    return bool(values) and all(str(v).lower() == "false" for v in values)


def insecure_transport_gap(statement: dict, bucket: str) -> str | None:
    """Why a statement that refuses non-TLS access does not refuse all of it; None when it does.

    It counts only when it denies every principal every S3 action on the bucket and on all its
    objects whenever aws:SecureTransport is false, and nothing else narrows it (no further
    condition, no NotPrincipal, NotAction or NotResource). Statements that do not mention
    aws:SecureTransport at all are not asked (the caller skips them).
    """
    if statement.get("Effect") != "Deny":
        return "it does not deny"
    narrowing = [k for k in ("NotPrincipal", "NotAction", "NotResource") if k in statement]
    if narrowing:
        return f"it uses {', '.join(narrowing)}"
    principal = statement.get("Principal")
    if principal != "*" and not (
        isinstance(principal, dict)
        and set(principal) == {"AWS"}
        and "*" in _as_list(principal["AWS"])
    ):
        return "it does not cover every principal"
    actions = [str(a).lower() for a in _as_list(statement.get("Action", []))]
    if not any(fnmatchcase("s3:*", a) for a in actions):
        return "it does not cover every S3 action (s3:*)"
    resources = [str(r) for r in _as_list(statement.get("Resource", []))]
    for arn, what in (
        (f"arn:aws:s3:::{bucket}", "the bucket"),
        (f"arn:aws:s3:::{bucket}/*", "its objects"),
    ):
        if not any(fnmatchcase(arn, r) for r in resources):
            return f"it does not cover {what} ({arn})"
    condition = statement.get("Condition", {})
    booleans = condition.get("Bool", {}) if isinstance(condition, dict) else {}
    if not _is_false(booleans.get(_SECURE_TRANSPORT)):
        return f"its condition is not Bool {_SECURE_TRANSPORT} = false"
    if set(condition) != {"Bool"} or set(booleans) != {_SECURE_TRANSPORT}:
        return "further conditions narrow it"
    return None


def mentions_secure_transport(statement: dict) -> bool:
    return _SECURE_TRANSPORT in json.dumps(statement.get("Condition", {}))


def denies_insecure_transport(statement: dict, bucket: str) -> bool:
    return (
        mentions_secure_transport(statement) and insecure_transport_gap(statement, bucket) is None
    )


class _Backend:
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

    def _kms_key(self) -> str | None:
        """The key's ARN (None when it does not exist and this pass only reads)."""
        kms = self._client("kms", self.key.region)
        name = self.key.alias or self.key.configured
        try:
            meta = aws.call(kms.describe_key, KeyId=self.key.configured)["KeyMetadata"]
        except AwsError as exc:
            if exc.code != "NotFoundException":
                raise
            if not self.key.alias:
                self._problem(
                    f"KMS key {name} does not exist, and only a key named by an alias can be "
                    f"created: set kms_key_id in {self.file} to an alias ARN "
                    f'("arn:aws:kms:{self.key.region}:{self.env.account_id}:alias/NAME").',
                    fixable=False,
                )
                return None
            if not self.fix:
                self._problem(f"KMS key {name} does not exist")
                return None
            return self._create_key(kms)
        key_id = meta["KeyId"]
        if meta.get("KeyState") != "Enabled":
            self._problem(
                f"KMS key {name} ({key_id}) is {meta.get('KeyState')}, not Enabled: make it usable "
                f"again (`aws kms cancel-key-deletion --key-id {key_id}`, then `aws kms enable-key "
                f"--key-id {key_id}`) or point kms_key_id in {self.file} at another alias.",
                fixable=False,
            )
            return meta["Arn"]
        rotating = aws.call(kms.get_key_rotation_status, KeyId=key_id)["KeyRotationEnabled"]
        if rotating:
            self.report.add(FOUND, f"KMS key {name} ({key_id}), enabled, rotated yearly")
        elif self.fix:
            aws.call(kms.enable_key_rotation, KeyId=key_id)
            self._made(f"yearly rotation of KMS key {name} ({key_id})", new=False)
        else:
            self._problem(f"KMS key {name} ({key_id}) is not rotated")
        return meta["Arn"]

    def _create_key(self, kms) -> str:
        """A key with the alias and rotation on, made once whatever answers are lost.

        KMS's CreateKey has no idempotency token: a lost answer, retried, would make a second key
        and leave the first without its alias for ever. So each attempt first looks for a key
        this environment's earlier attempt made (its tag and description, no alias) and adopts
        it; further such keys are scheduled for deletion. A key whose alias fails is not left.
        """
        alias = self.key.alias

        def list_keys():  # named for the error message: "AWS list_keys failed: ..."
            return self._aliasless_keys(kms)

        earlier = aws.call(list_keys)
        if earlier:
            meta, note = earlier[0], " (made by an earlier run whose answer was lost)"
        else:
            attempts = []

            def create_key(**kwargs):
                if attempts and (made := self._aliasless_keys(kms)):
                    return made[0]  # the attempt whose answer was lost made it
                attempts.append(1)
                return kms.create_key(**kwargs)["KeyMetadata"]

            meta, note = (
                aws.call(
                    create_key,
                    Description=self._key_description(),
                    KeyUsage="ENCRYPT_DECRYPT",
                    Tags=[{"TagKey": ENVIRONMENT_TAG, "TagValue": self.env.name}],
                ),
                "",
            )
        key_id = meta["KeyId"]
        try:
            aws.call(kms.create_alias, AliasName=alias, TargetKeyId=key_id)
        except AwsError as exc:
            # Without its alias no later run could find this key: remove it, or say how to.
            try:
                aws.call(
                    kms.schedule_key_deletion,
                    KeyId=key_id,
                    PendingWindowInDays=_ORPHAN_KEY_DELETION_DAYS,
                )
                after = f"the new key {key_id} has been scheduled for deletion"
            except AwsError:
                after = (
                    f"the new key {key_id} could not be removed: remove it with "
                    f"`aws kms schedule-key-deletion --key-id {key_id}`"
                )
            raise AwsError(f"{exc} ({after})", code=exc.code) from exc
        # From here the alias finds the key, so a failure below is finished by the next run.
        aws.call(kms.enable_key_rotation, KeyId=key_id)
        self._made(f"KMS key {alias} ({key_id}), rotated yearly{note}", new=True)
        for extra in (m for m in earlier if m["KeyId"] != key_id):
            aws.call(
                kms.schedule_key_deletion,
                KeyId=extra["KeyId"],
                PendingWindowInDays=_ORPHAN_KEY_DELETION_DAYS,
            )
            self._made(
                f"KMS key {extra['KeyId']}, made for {alias} by an earlier run but left without "
                f"it: scheduled for deletion in {_ORPHAN_KEY_DELETION_DAYS} days",
                new=False,
            )
        return meta["Arn"]

    def _key_description(self) -> str:
        return f"OpenTofu state of {self.env.name} ({self.key.alias})"

    def _aliasless_keys(self, kms) -> list[dict]:
        """Enabled keys an attempt to create this environment's key made, without an alias;
        oldest first. Raw client calls: the caller's `aws.call` retries them."""
        aliased = {
            alias.get("TargetKeyId")
            for page in kms.get_paginator("list_aliases").paginate()
            for alias in page["Aliases"]
        }
        found = []
        for page in kms.get_paginator("list_keys").paginate():
            for key in page["Keys"]:
                if key["KeyId"] in aliased:
                    continue
                meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
                if (
                    meta.get("KeyManager") != "CUSTOMER"
                    or meta.get("KeyState") != "Enabled"
                    or meta.get("Description") != self._key_description()
                ):
                    continue
                tags = kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags", [])
                if {"TagKey": ENVIRONMENT_TAG, "TagValue": self.env.name} in tags:
                    found.append(meta)
        return sorted(found, key=lambda meta: str(meta.get("CreationDate", "")))

    # -- S3 bucket ----------------------------------------------------------------------------

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

    # -- which environment the state belongs to (hubops.bootstrap.state_identity) ---------------------

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
