"""The state's KMS key: `kms_key_id` of backend.hcl taken apart, and the key found by its alias,
or created with the alias and yearly rotation where missing (the backend bootstrap's first step,
`hubops.bootstrap.backend`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hubops.adapters import aws
from hubops.bootstrap.report import FOUND
from hubops.facts.environments import Environment
from hubops.facts.errors import AwsError

# The key carries the environment it belongs to (a key without its alias is found by it).
ENVIRONMENT_TAG = "hubops:environment"
_KMS_ARN = re.compile(r"^arn:aws[\w-]*:kms:([\w-]+):(\d{12}):(alias/.+|key/.+)$")
# A deleted key's alias survives for nothing: AWS deletes aliases with keys, so a week's wait
# is the shortest window that still lets an operator cancel a mistaken deletion.
_ORPHAN_KEY_DELETION_DAYS = 7


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


class StateKey:
    """The key steps of the backend bootstrap (`_Backend` in `hubops.bootstrap.backend`, whose
    `env`, `fix`, `report`, `_client`, `_problem` and `_made` they use)."""

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
