"""hubops's own settings (`HUBOPS_*` variables), declared once, and numbers from settings and flags,
parsed one way everywhere.

Every setting is declared in `SETTINGS` (its name, its default as the README's settings table
says it and, for a number, what it must be) and read through `hubops.adapters.settings`; a test
holds the README's table and the package's sources to this declaration. A malformed number is
refused in one wording, whichever setting it is.

`nan` and `inf` parse as floats, but a timeout of `nan` never ends and a bound of `inf` waits for
ever: only finite numbers in range are settings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Number:
    """What a numeric setting must be."""

    default: float
    wanted: str  # in words, for the refusal: "a number of seconds greater than 0"
    kind: type = float
    zero_ok: bool = False
    maximum: float | None = None

    def parse(self, raw: str) -> float | None:
        """`raw` as this number, or None where it is not one."""
        value = parse_number(raw, kind=self.kind, zero_ok=self.zero_ok)
        if value is None or (self.maximum is not None and value > self.maximum):
            return None
        return value


@dataclass(frozen=True)
class Setting:
    name: str
    default: str  # as the README says it
    number: Number | None = None  # None: not a number (a path, a list of servers)

    def refusal(self, raw: str) -> str:
        """Why `raw` is refused, and what to do (a numeric setting)."""
        return (
            f"{self.name}={raw!r} is malformed: give {self.number.wanted}, or unset it to use "
            f"the default ({self.default})."
        )


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
HEALTH_HTTPS_PORT = "HUBOPS_HEALTH_HTTPS_PORT"
HEALTH_HTTP_PORT = "HUBOPS_HEALTH_HTTP_PORT"
PORT = "a port from 1 to 65535"
SECONDS = "a number of seconds greater than 0"

SETTINGS = {
    setting.name: setting
    for setting in (
        Setting(TOFU_BIN, "`tofu` on PATH"),
        Setting(TOFU_TIMEOUT, "7200", Number(7200, SECONDS)),
        Setting(DNS_NAMESERVERS, "the system resolver"),
        Setting(
            DNS_AUTHORITATIVE_PORT,
            "53",
            Number(53, PORT, kind=int, maximum=65535),
        ),
        Setting(DNS_TIMEOUT, "3", Number(3, SECONDS)),
        Setting(DNS_ATTEMPTS, "3", Number(3, "a whole number of tries greater than 0", kind=int)),
        Setting(DNS_BACKOFF, "0.5", Number(0.5, SECONDS)),
        Setting(RECORDS_DIR, ".hubops/records"),
        Setting(RECORDS_FALLBACK_DIR, "a private folder in the system's temporary folder"),
        Setting(
            AWS_RETRY_SECONDS, "60", Number(60, "a number of seconds, 0 or more", zero_ok=True)
        ),
        Setting(ROOT, "the nearest folder upwards holding environments/"),
        Setting(HEALTH_HTTPS_PORT, "443", Number(443, PORT, kind=int, maximum=65535)),
        Setting(HEALTH_HTTP_PORT, "80", Number(80, PORT, kind=int, maximum=65535)),
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
