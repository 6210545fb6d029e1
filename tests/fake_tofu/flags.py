"""Command-line flags, parsed as Go's flag package parses them."""

from __future__ import annotations

import re

from tests.fake_tofu.texts import Failure

BOOL, VALUE, MULTI = "bool", "value", "multi"
COMMON = {"no-color": BOOL}
LOCKING = {"lock": BOOL, "lock-timeout": VALUE, "input": BOOL}
FLAGS = {
    "version": {"json": BOOL},
    "init": {
        **LOCKING,
        "reconfigure": BOOL,
        "migrate-state": BOOL,
        "backend": BOOL,
        "backend-config": MULTI,
        "upgrade": BOOL,
        "get": BOOL,
        "lockfile": VALUE,
    },
    "plan": {
        **LOCKING,
        "var-file": MULTI,
        "var": MULTI,
        "out": VALUE,
        "destroy": BOOL,
        "refresh-only": BOOL,
        "detailed-exitcode": BOOL,
        "refresh": BOOL,
        "target": MULTI,
        "parallelism": VALUE,
        "compact-warnings": BOOL,
    },
    "show": {"json": BOOL},
    "apply": {
        **LOCKING,
        "auto-approve": BOOL,
        "parallelism": VALUE,
        "compact-warnings": BOOL,
        "json": BOOL,
    },
    "output": {"json": BOOL, "raw": BOOL},
    "validate": {"json": BOOL, "var-file": MULTI, "var": MULTI},  # docs: cli/commands/validate
    "fmt": {"check": BOOL, "recursive": BOOL, "diff": BOOL, "list": BOOL, "write": BOOL},
}
DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$|^0$")


def parse_flags(command: str, args: list[str]) -> tuple[dict, list[str]]:
    """Go's flag package: flags first, `-name`, `--name`, `-name=value` or `-name value`."""
    spec = {**COMMON, **FLAGS[command]}
    values: dict = {}
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            index += 1
            break
        if not arg.startswith("-") or arg == "-":
            break
        name, has_value, value = arg.lstrip("-").partition("=")
        kind = spec.get(name)
        if kind is None:
            raise Failure(
                "Failed to parse command-line flags",
                f"flag provided but not defined: -{name}",
                hint=f"\nFor more help on using this command, run:\n  tofu {command} -help",
            )
        if kind == BOOL:
            if has_value and value not in ("true", "false", "1", "0"):
                raise Failure(
                    "Failed to parse command-line flags",
                    f'invalid boolean value "{value}" for -{name}: parse error',
                )
            values[name] = value in ("true", "1") if has_value else True
        else:
            if not has_value:
                index += 1
                if index == len(args):
                    raise Failure(
                        "Failed to parse command-line flags", f"flag needs an argument: -{name}"
                    )
                value = args[index]
            if kind == MULTI:
                values.setdefault(name, []).append(value)
            else:
                values[name] = value
        index += 1
    if "lock-timeout" in values and not DURATION.match(values["lock-timeout"]):
        raise Failure(
            "Failed to parse command-line flags",
            f'invalid value "{values["lock-timeout"]}" for flag -lock-timeout: parse error',
        )
    return values, args[index:]
