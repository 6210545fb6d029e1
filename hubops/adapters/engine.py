"""Which engine a check runs: OpenTofu, or Terraform accepted as a CLI-compatible one.

Plans and applies run `tofu` (`find_engine_binary`: `HUBOPS_TOFU_BIN`, else `tofu` on PATH).
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
from pathlib import Path

from hubops.adapters.settings import raw as read_setting
from hubops.facts import settings
from hubops.facts.errors import HubopsError, ToolMissing

BINARY_VARIABLE = settings.TOFU_BIN
INSTALL_HINT = (
    "install OpenTofu (https://opentofu.org/docs/intro/install/) or set HUBOPS_TOFU_BIN to its path"
)
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


class NoEngine(ToolMissing):
    """No engine on PATH, and none named by `HUBOPS_TOFU_BIN`: a check may skip the engine's
    part, where a wrong `HUBOPS_TOFU_BIN` must be fixed."""


def find_engine_binary(*, terraform_too: bool = False, root: Path | None = None) -> str:
    """The engine's binary: `HUBOPS_TOFU_BIN` (a path, or a command on PATH) if set, else `tofu`
    on PATH, else, with `terraform_too` (checks that only read the configuration), `terraform`.

    A `HUBOPS_TOFU_BIN` that names no executable raises `ToolMissing`; no engine at all raises
    `NoEngine`; an engine found through a relative PATH entry (an empty one is the folder the task
    runs in), or, given the repository's `root`, a file inside it, raises `ToolMissing`: the engine
    that applies is the one installed, never one a checkout carries. The one place
    HUBOPS_TOFU_BIN is honoured.
    """
    override = read_setting(BINARY_VARIABLE)
    if override:
        if os.sep not in override:  # a command name (`terraform`), looked up as a shell would
            found = shutil.which(override)
            if not found:
                raise ToolMissing(
                    f"{BINARY_VARIABLE}={override} names no command on PATH: install it, point "
                    f"{BINARY_VARIABLE} at the binary's path, or unset it to use `tofu` on PATH."
                )
        elif os.path.isfile(override) and os.access(override, os.X_OK):
            found = override
        else:
            raise ToolMissing(
                f"{BINARY_VARIABLE}={override} is not an executable file: point it at the tofu "
                "binary, or unset it to use `tofu` on PATH."
            )
    else:
        found = shutil.which("tofu") or (shutil.which("terraform") if terraform_too else None)
        if not found:
            raise NoEngine(f"No `tofu` on PATH: {INSTALL_HINT}.")
    _refuse_a_checkouts_engine(found, root)
    return found


def _refuse_a_checkouts_engine(found: str, root: Path | None) -> None:
    if not os.path.isabs(found):
        raise ToolMissing(
            f"The engine was found as {found!r}, through a relative PATH entry (an empty entry is "
            "the folder the task runs in): whatever a checkout holds there would run. Remove "
            f"empty and relative entries from PATH, or set {BINARY_VARIABLE} to the engine's "
            "absolute path."
        )
    if root is not None and Path(found).resolve().is_relative_to(Path(root).resolve()):
        raise ToolMissing(
            f"The engine {found} is inside the repository ({root}): a binary a checkout carries "
            f"is not the engine you installed: {INSTALL_HINT}, outside the checkout."
        )


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
