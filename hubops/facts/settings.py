"""hubops's own settings (`HUBOPS_*` variables), declared once, and numbers from settings and flags,
parsed one way everywhere.

Every setting is declared in `SETTINGS` (its name, and its default as the README's settings table
says it) and read through `hubops.adapters.settings`; a test holds the README's table and the
package's sources to this declaration.

`nan` and `inf` parse as floats, but a timeout of `nan` never ends and a bound of `inf` waits for
ever: only finite numbers in range are settings. Each caller says in its own words what the
setting is for when one is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    default: str  # as the README says it


TOFU_BIN = "HUBOPS_TOFU_BIN"
TOFU_TIMEOUT = "HUBOPS_TOFU_TIMEOUT"
DNS_NAMESERVERS = "HUBOPS_DNS_NAMESERVERS"
DNS_AUTHORITATIVE_PORT = "HUBOPS_DNS_AUTHORITATIVE_PORT"
DNS_TIMEOUT = "HUBOPS_DNS_TIMEOUT"
DNS_ATTEMPTS = "HUBOPS_DNS_ATTEMPTS"
DNS_BACKOFF = "HUBOPS_DNS_BACKOFF"
RECORDS_DIR = "HUBOPS_RECORDS_DIR"
RECORDS_FALLBACK_DIR = "HUBOPS_RECORDS_FALLBACK_DIR"
AWS_RETRY_SECONDS = "HUBOPS_AWS_RETRY_SECONDS"
ROOT = "HUBOPS_ROOT"

SETTINGS = {
    setting.name: setting
    for setting in (
        Setting(TOFU_BIN, "`tofu` on PATH"),
        Setting(TOFU_TIMEOUT, "7200"),
        Setting(DNS_NAMESERVERS, "the system resolver"),
        Setting(DNS_AUTHORITATIVE_PORT, "53"),
        Setting(DNS_TIMEOUT, "3"),
        Setting(DNS_ATTEMPTS, "3"),
        Setting(DNS_BACKOFF, "0.5"),
        Setting(RECORDS_DIR, ".hubops/records"),
        Setting(RECORDS_FALLBACK_DIR, "a private folder in the system's temporary folder"),
        Setting(AWS_RETRY_SECONDS, "60"),
        Setting(ROOT, "the nearest folder upwards holding environments/"),
    )
}


def parse_number(raw, *, kind: type = float, zero_ok: bool = False) -> float | None:
    """`raw` as a finite `kind` above 0 (or 0 too with `zero_ok`); None when it is not one."""
    try:
        value = kind(str(raw).strip())
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
        return None
    return value
