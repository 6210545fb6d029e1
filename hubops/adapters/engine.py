"""Which engine a check runs: OpenTofu, or Terraform accepted as a CLI-compatible one.

Plans and applies run `tofu` (`hubops.adapters.tofu.find_tofu`: `HUBOPS_TOFU_BIN`, else `tofu` on PATH).
Checks that only read the configuration (`invoke validate`) also accept `terraform` on PATH when
there is no `tofu`: the same HCL and type engine behind the same commands (`init`, `validate
-json`, `fmt -check`), except that Terraform's `validate` takes no `-var-file`. Which one a
binary is comes from its own answer to `version` ("OpenTofu v1.10.3" / "Terraform v1.11.4").
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from hubops.facts.errors import HubopsError, ToolMissing

OPENTOFU = "OpenTofu"
TERRAFORM = "Terraform"
_FIRST_LINE = re.compile(rf"^({OPENTOFU}|{TERRAFORM}) v(\S+)")
_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class Engine:
    path: str
    name: str  # OPENTOFU or TERRAFORM
    version: str

    @property
    def is_opentofu(self) -> bool:
        return self.name == OPENTOFU

    @property
    def command(self) -> str:
        """How the engine's own messages name it: `tofu` or `terraform`."""
        return "tofu" if self.is_opentofu else "terraform"

    @property
    def label(self) -> str:
        """`OpenTofu 1.10.3`, `Terraform 1.11.4 (CLI-compatible)`."""
        compatible = "" if self.is_opentofu else " (CLI-compatible)"
        return f"{self.name} {self.version}{compatible}"


def find_engine_binary() -> str | None:
    """`HUBOPS_TOFU_BIN`, else `tofu`, else `terraform` on PATH; None when there is none.

    A `HUBOPS_TOFU_BIN` that is not an executable raises `ToolMissing`.
    """
    from hubops.adapters.tofu import BINARY_VARIABLE, find_tofu

    try:
        return find_tofu()
    except ToolMissing:
        if os.environ.get(BINARY_VARIABLE):
            raise
    return shutil.which("terraform")


def identify(path: str) -> Engine:
    """The engine at `path`, from its answer to `version`; HubopsError when it is neither."""
    try:
        result = subprocess.run(
            [path, "version"],
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HubopsError(f"`{path}` could not be run to ask its version ({exc})") from None
    output = result.stdout.strip() or result.stderr.strip()
    match = _FIRST_LINE.match(output)
    if result.returncode != 0 or not match:
        first = output.splitlines()[0] if output else "no output"
        raise HubopsError(
            f"`{path} version` answered {first!r} (exit status {result.returncode}), not "
            "OpenTofu's or Terraform's version"
        )
    return Engine(path, match.group(1), match.group(2))
