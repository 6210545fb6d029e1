"""The state bucket's policy statement that refuses every access without TLS, and how a statement
found in a bucket's policy is judged against it (`invoke backend` adds it where it is missing)."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

POLICY_SID = "DenyInsecureTransport"
_SECURE_TRANSPORT = "aws:SecureTransport"


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
