"""What every environment's `backend.hcl` must say: one table, read by `invoke validate`
(`hubops.tfcheck.rules`) and by `invoke backend` (`hubops.bootstrap.backend`), so the two never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class BackendRule:
    setting: str  # the backend.hcl setting a finding points at
    rule: str  # the rule's name, as `invoke validate` quotes it
    holds: Callable[[Mapping], bool]
    problem: Callable[[Mapping], str]  # what is wrong, given the settings
    fix: str  # what to write in backend.hcl


def _shown(settings: Mapping, name: str) -> str:
    return json.dumps(settings[name]) if name in settings else "not set"


BACKEND_RULES = (
    BackendRule(
        "encrypt",
        "encrypted state",
        lambda s: s.get("encrypt") is True,
        lambda s: (
            f"encrypt is {_shown(s, 'encrypt')}, but state holds secrets and must be encrypted"
        ),
        "set encrypt = true",
    ),
    BackendRule(
        "kms_key_id",
        "encrypted state",
        lambda s: isinstance(s.get("kms_key_id"), str) and bool(s["kms_key_id"]),
        lambda s: (
            "kms_key_id is not set, but state must be encrypted with the environment's own KMS key"
        ),
        "set kms_key_id to that key's ARN or alias",
    ),
    BackendRule(
        "use_lockfile",
        "locked state",
        lambda s: s.get("use_lockfile") is True or bool(s.get("dynamodb_table")),
        lambda s: (
            "the state is not locked (neither use_lockfile = true nor dynamodb_table), so "
            "two runs could write it at once"
        ),
        "set use_lockfile = true",
    ),
)


def broken_rules(settings: Mapping) -> list[BackendRule]:
    """The rules `settings` (backend.hcl's values) break, in the table's order."""
    return [rule for rule in BACKEND_RULES if not rule.holds(settings)]
