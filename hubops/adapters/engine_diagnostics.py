"""The `Error:` diagnostics in an engine's human output, and which of them mean "a provider (or a
registry module) could not be fetched for lack of network or mirror" (`tofu init` says so;
`invoke validate` then validates module by module instead, naming what was not validated, and a
plan or an apply says how to supply the providers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The errors `init` reports when it cannot get a provider. They are "unavailable" (not a finding)
# only when the reason is the network or a mirror without the provider; a version that no
# source offers, a checksum mismatch or a typo in a source address stays a finding.
_INSTALL_SUMMARIES = (
    "Failed to query available provider packages",
    "Failed to install provider",
)
_UNREACHABLE = (
    "was not found in any of the search locations",
    "could not connect to",
    "failed to request discovery document",
    "no such host",
    "connection refused",
    "network is unreachable",
    "i/o timeout",
    "tls handshake timeout",
    "context deadline exceeded",
)
# The errors `init` reports when it cannot fetch a module from its registry (or a download).
_MODULE_SUMMARIES = ("Error accessing remote module registry", "Failed to download module")
_MODULE = re.compile(r'module "([^"]+)"')
_PROVIDER = re.compile(r"(?:for provider|installing) (?:[\w-]+(?:\.[\w-]+)+/)?([\w-]+/[\w-]+)")


@dataclass(frozen=True)
class EngineError:
    summary: str
    detail: str

    @property
    def unavailable_provider(self) -> str | None:
        """The provider (`hashicorp/helm`) this error says could not be installed for lack of
        network or mirror; None for any other error."""
        if self.summary not in _INSTALL_SUMMARIES:
            return None
        if not any(marker in self.detail.lower() for marker in _UNREACHABLE):
            return None
        match = _PROVIDER.search(self.detail)
        return match.group(1) if match else None

    @property
    def unavailable_module(self) -> str | None:
        """`module "vpc"` when this error says a module could not be fetched for lack of network;
        None for any other error (a wrong source or version stays a finding)."""
        if self.summary not in _MODULE_SUMMARIES:
            return None
        if not any(marker in self.detail.lower() for marker in _UNREACHABLE):
            return None
        match = _MODULE.search(self.detail)
        return f'module "{match.group(1)}"' if match else None

    @property
    def unavailable(self) -> str | None:
        """What this error says could not be fetched for lack of network: a provider or a
        module; None for any other error."""
        return self.unavailable_provider or self.unavailable_module

    def __str__(self) -> str:
        return f"{self.summary}: {self.detail}" if self.detail else self.summary


def parse_errors(text: str) -> list[EngineError]:
    """The `Error:` diagnostics in an engine's human output (-no-color, boxed or not)."""
    errors: list[EngineError] = []
    summary: str | None = None
    detail: list[str] = []

    def close():
        if summary is not None:
            errors.append(EngineError(summary, " ".join(" ".join(detail).split())))

    for raw in text.splitlines():
        line = raw.strip().lstrip("│╷╵").strip()
        if line.startswith(("Error: ", "Warning: ")):
            close()
            summary = line.removeprefix("Error: ") if line.startswith("Error: ") else None
            detail = []
        elif summary is not None:
            detail.append(line)
    close()
    return errors
