"""The command-line tools a run needs, their versions, and how to install what is missing.

`tofu` must be within the `required_version` range of the root `versions.tf` (the same range
OpenTofu itself enforces, checked here before anything starts); `aws` and `kubectl` are needed
only by the steps that call them. `invoke doctor` names the engine behind `tofu` (OpenTofu, or
Terraform, which hubops accepts as a CLI-compatible engine) from the binary's own answer.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hubops.adapters.engine import INSTALL_HINT as TOFU_HINT
from hubops.adapters.engine import OPENTOFU, TERRAFORM, find_engine_binary, identify
from hubops.adapters.engine_config import allowed_environ
from hubops.adapters.environment_files import parse_cache, read_hcl
from hubops.adapters.tofu import automation_environ
from hubops.facts.errors import HubopsError, ToolMissing

VERSIONS_FILE = "versions.tf"
KNOWN_TOOLS = ("tofu", "aws", "kubectl")
# What plan, apply and destroy run: tofu itself, and `aws eks get-token`, which the root module's
# kubernetes and helm providers call to reach the cluster. kubectl is for people, not for runs.
RUN_TOOLS = ("tofu", "aws")
TOFU_DOWNLOADS = "https://opentofu.org/docs/intro/install/"
INSTALL_HINTS = {
    "tofu": TOFU_HINT,
    "aws": "install the AWS CLI: "
    "https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html",
    "kubectl": "install kubectl: https://kubernetes.io/docs/tasks/tools/",
}
_VERSION_COMMANDS = {
    "tofu": ["version", "-json"],
    "aws": ["--version"],
    "kubectl": ["version", "--client", "-o", "json"],
}
_VERSION = re.compile(r"v?(\d+(?:\.\d+){0,2})(?:-([0-9A-Za-z.-]+))?")
_CONSTRAINT = re.compile(r"^\s*(~>|>=|<=|!=|=|>|<)?\s*(\S+)\s*$")
# A tool that does not answer `--version` within this many seconds counts as broken.
_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class ToolStatus:
    name: str
    path: str | None
    version: str | None
    problem: str | None  # None when the tool is present and acceptable
    engine: str | None = None  # tofu only: "OpenTofu" or "Terraform", when it was asked

    @property
    def ok(self) -> bool:
        return self.problem is None

    def line(self) -> str:
        if self.ok:
            if self.engine == TERRAFORM:
                return (
                    f"{self.name} {self.engine} {self.version} ({self.path}), accepted as a "
                    "CLI-compatible engine"
                )
            engine = f"{self.engine} " if self.engine else ""
            return f"{self.name} {engine}{self.version or 'present'} ({self.path})"
        return f"{self.name}: {self.problem}"


def parse_version(text: str) -> tuple[tuple[int, int, int], str]:
    """`1.8.3`, `v1.9.0-beta1` -> ((1, 8, 3), "") / ((1, 9, 0), "beta1"); missing parts are 0."""
    match = _VERSION.fullmatch(text.strip())
    if not match:
        raise ValueError(f"not a version: {text!r}")
    parts = [int(p) for p in match.group(1).split(".")]
    return (*parts, *[0] * (3 - len(parts))), match.group(2) or ""


def _key(version: tuple[tuple[int, int, int], str]) -> tuple:
    # A pre-release sorts before its release: 1.9.0-beta1 < 1.9.0.
    numbers, pre = version
    return (numbers, 0 if pre else 1, pre)


def satisfies(version: str, constraint: str) -> bool:
    """Whether `version` meets an OpenTofu version constraint (`>= 1.8.0, < 1.11.0`, `~> 1.8`).

    As in OpenTofu, a pre-release matches only a constraint that names it exactly.
    """
    have = parse_version(version)
    for part in constraint.split(","):
        match = _CONSTRAINT.match(part)
        if not match:
            raise ValueError(f"not a version constraint: {part.strip()!r}")
        operator, wanted_text = match.group(1) or "=", match.group(2)
        wanted = parse_version(wanted_text)
        if have[1] and (operator != "=" or have != wanted):
            return False
        a, b = _key(have), _key(wanted)
        if operator == "~>":
            # ~> 1.8 allows 1.x from 1.8; ~> 1.8.0 allows 1.8.x from 1.8.0.
            depth = max(wanted_text.count("."), 1)
            ok = a >= b and have[0][:depth] == wanted[0][:depth]
        else:
            ok = {
                "=": a == b,
                "!=": a != b,
                ">": a > b,
                ">=": a >= b,
                "<": a < b,
                "<=": a <= b,
            }[operator]
        if not ok:
            return False
    return True


def required_tofu_version(root: Path) -> str | None:
    """The `required_version` of the root module's `versions.tf`, or None when it sets none."""
    path = root / VERSIONS_FILE
    if not path.is_file():
        return None
    for block in read_hcl(path, parse_cache(root)).blocks_of("terraform"):
        required = block.attrs.get("required_version")
        if required and required.value:
            return str(required.value)
    return None


def _locate(root: Path, name: str) -> str:
    """The tool's path; `ToolMissing` saying how to install it."""
    if name == "tofu":
        return find_engine_binary(root=root)
    found = shutil.which(name)
    if not found:
        raise ToolMissing(f"No `{name}` on PATH: {INSTALL_HINTS[name]}.")
    return found


def _version_of(name: str, path: str) -> str:
    """Ask the tool for its version; HubopsError saying what it answered when that fails."""

    # tofu is asked with the variables a supervised run's engine gets alone (no TF_* of the shell)
    environ = allowed_environ(automation_environ(None)) if name == "tofu" else None
    try:
        result = subprocess.run(
            [path, *_VERSION_COMMANDS[name]],
            env=environ,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HubopsError(f"`{path}` could not be run to ask its version ({exc})") from None
    output = result.stdout.strip() or result.stderr.strip()
    if result.returncode != 0:
        tail = output.splitlines()[-1] if output else "no output"
        raise HubopsError(
            f"`{path} {' '.join(_VERSION_COMMANDS[name])}` failed with exit status "
            f"{result.returncode} ({tail})"
        )
    version = parse_tool_version(name, output)
    if version is None:
        first = output.splitlines()[0] if output else "no output"
        raise HubopsError(
            f"`{path}` answered its version in a form hubops does not understand ({first!r})"
        )
    return version


def parse_tool_version(name: str, output: str) -> str | None:
    """The version in a tool's answer to its version command; None when it is not there."""
    try:
        if name == "tofu":  # `tofu version -json`: {"terraform_version": "1.10.3", ...}
            return json.loads(output)["terraform_version"]
        if name == "kubectl":  # `kubectl version --client -o json`
            return json.loads(output)["clientVersion"]["gitVersion"].lstrip("v")
        # `aws --version`: "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64"
        return re.match(r"aws-cli/(\S+)", output).group(1)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def tool_status(root: Path, name: str, *, ask_version: bool = True) -> ToolStatus:
    """Whether `name` is present, its version, and (for tofu) whether versions.tf allows it.

    With `ask_version=False` a tool without a version rule is only looked for on PATH (asking
    `aws --version` costs more than half a second); tofu's version is always checked, and with
    `ask_version` the engine behind it is named (and a `terraform` on PATH mentioned when there
    is no `tofu`).
    """
    hint = INSTALL_HINTS[name]
    try:
        path = _locate(root, name)
    except ToolMissing as exc:
        problem = str(exc)
        if name == "tofu" and ask_version:
            problem += _terraform_instead()
        return ToolStatus(name, None, None, problem)
    if not ask_version and name != "tofu":
        return ToolStatus(name, path, None, None)
    try:
        version = _version_of(name, path)
    except HubopsError as exc:
        return ToolStatus(name, path, None, f"{exc}: {hint}.")
    engine = None
    if name == "tofu" and ask_version:
        try:
            engine = identify(path).name
        except HubopsError:
            engine = None  # its version is known; only its name is not
    if name == "tofu":
        wanted = required_tofu_version(root)
        try:
            allowed = wanted is None or satisfies(version, wanted)
        except ValueError as exc:
            return ToolStatus(
                name, path, version, f"{root / VERSIONS_FILE} has a bad required_version: {exc}."
            )
        if not allowed:
            return ToolStatus(
                name,
                path,
                version,
                f"`{path}` is {engine or OPENTOFU} {version}, but {VERSIONS_FILE} requires "
                f"{wanted}: install a version in that range ({TOFU_DOWNLOADS}) or point "
                "HUBOPS_TOFU_BIN at one.",
                engine,
            )
    return ToolStatus(name, path, version, None, engine)


def _terraform_instead() -> str:
    """What to say about a `terraform` on PATH when there is no `tofu` ("" when there is none)."""
    found = shutil.which("terraform")
    if not found:
        return ""
    try:
        engine = identify(found)
    except HubopsError:
        return ""
    return (
        f" Found {engine.name} {engine.version} at {found}, accepted as a CLI-compatible engine: "
        "`invoke validate` uses it; set HUBOPS_TOFU_BIN=terraform to plan and apply with it too."
    )


def require_tools(root: Path, names=("tofu",)) -> dict[str, str]:
    """name -> version (tofu) or path (tools that need only be present) for each tool.

    Raises `ToolMissing` listing every missing or unfit tool at once, with how to install each.
    """
    statuses = [tool_status(root, name, ask_version=False) for name in names]
    problems = [status.problem for status in statuses if not status.ok]
    if problems:
        raise ToolMissing(" ".join(problems))
    return {status.name: status.version or status.path for status in statuses}
