"""The commands: version, init, plan, show, apply, output, validate, fmt."""

from __future__ import annotations

import json
import os
import sys
import uuid
import zlib
from pathlib import Path

from tests.fake_tofu.apply import Apply, JsonUI
from tests.fake_tofu.call import Call
from tests.fake_tofu.files import (
    configuration_snapshot,
    data_dir,
    initialised_backend,
    read_flat_hcl,
    require_backend,
)
from tests.fake_tofu.flags import parse_flags
from tests.fake_tofu.output import bold, diagnostic, fake_id, hcl_value, out
from tests.fake_tofu.plans import (
    build_plan,
    load_plan,
    plan_has_changes,
    plan_json,
    render_plan,
    write_plan_file,
)
from tests.fake_tofu.state import State, check_lock
from tests.fake_tofu.texts import COLUMNS, DEFAULT_VERSION, REGISTRY, Failure, FakeError


def cmd_version(args: list[str], scenario: dict, call: Call) -> int:
    flags, _ = parse_flags("version", args)
    version = scenario.get("version", DEFAULT_VERSION)
    platform = "linux_amd64"
    if flags.get("json"):
        # internal/command/views/version.go: indented JSON; OpenTofu keeps `terraform_version`.
        out(
            json.dumps(
                {"terraform_version": version, "platform": platform, "provider_selections": {}},
                indent=2,
            )
        )
    else:
        out(f"OpenTofu v{version}\non {platform}")
    return 0


def cmd_init(args: list[str], scenario: dict, call: Call) -> int:
    flags, _ = parse_flags("init", args)
    directory = data_dir()
    if flags.get("backend", True):
        out("\nInitializing the backend...")
        config: dict = {}
        for item in flags.get("backend-config", []):
            if "=" in item:  # OpenTofu reads `key=value` items directly, anything else as a file
                key, _, value = item.partition("=")
                config[key] = value
            else:
                config.update(
                    read_flat_hcl(
                        Path(item), "Failed to read file", f'The file "{item}" could not be read.'
                    )
                )
        previous = initialised_backend()
        reconfigure = flags.get("reconfigure") or flags.get("migrate-state")
        if previous and previous.get("config") != config and not reconfigure:
            # internal/command/meta_backend.go (migrateOrReconfigDiag)
            raise Failure(
                "Backend configuration changed",
                "A change in the backend configuration has been detected, which may "
                "require migrating existing state.\n\nIf you wish to attempt automatic "
                'migration of the state, use "tofu init -migrate-state".\nIf you wish '
                "to store the current configuration with no changes to the state, use "
                '"tofu init -reconfigure".',
            )
        directory.mkdir(parents=True, exist_ok=True)
        record = {
            "version": 3,
            "serial": 1,
            "lineage": str(uuid.uuid4()),
            "backend": {
                "type": "s3",
                "config": config,
                "hash": zlib.crc32(json.dumps(config, sort_keys=True).encode()),
            },
        }
        (directory / "terraform.tfstate").write_text(json.dumps(record, indent=2))
        out(
            '\nSuccessfully configured the backend "s3"! OpenTofu will automatically\n'
            "use this backend unless the backend configuration changes."
        )
    directory.mkdir(parents=True, exist_ok=True)
    out("\nInitializing provider plugins...")
    unavailable = scenario.get("init", {}).get("unavailable_providers", [])
    if unavailable:  # one diagnostic per provider, as internal/command/init.go reports them
        *others, last = [not_in_mirror(provider) for provider in unavailable]
        for summary, detail in others:
            sys.stderr.write(diagnostic(summary, detail))
        raise Failure(*last)
    initialised = bold("OpenTofu has been successfully initialized!")
    out(f"\n{initialised}")
    if not os.environ.get("TF_IN_AUTOMATION"):
        out(
            '\nYou may now begin working with OpenTofu. Try running "tofu plan" to see\n'
            "any changes that are required for your infrastructure. All OpenTofu commands\n"
            "should now work."
        )
    return 0


def not_in_mirror(provider: str) -> tuple[str, str]:
    """The error of a provider that no installation method offers (no network, not mirrored)."""
    return (
        "Failed to query available provider packages",
        f"Could not retrieve the list of available versions for provider {provider}: provider "
        f"{REGISTRY}/{provider} was not found in any of the search locations\n\n"
        "  - /usr/share/tofu/plugins",
    )


def cmd_plan(args: list[str], scenario: dict, call: Call) -> int:
    flags, extra = parse_flags("plan", args)
    if extra:
        raise Failure(
            "Too many command line arguments",
            "To specify a working directory for the plan, use the global -chdir flag.",
        )
    variables: dict = {}
    for path in flags.get("var-file", []):
        variables.update(
            read_flat_hcl(
                Path(path),
                "Failed to read variables file",
                f"Given variables file {path} does not exist.",
            )
        )
    for item in flags.get("var", []):
        key, _, value = item.partition("=")
        variables[key] = value
    backend = require_backend()
    state = State(backend, scenario)
    if flags.get("lock", True):
        check_lock(scenario, state, "OperationTypePlan")
    destroy = bool(flags.get("destroy"))
    refresh_only = bool(flags.get("refresh-only"))
    if destroy and refresh_only:
        # internal/command/arguments/extended.go
        raise Failure(
            "Incompatible plan mode options",
            "The -destroy and -refresh-only options are mutually-exclusive.",
        )
    plan = build_plan(scenario, state, variables, backend, destroy, refresh_only)
    refreshed = {
        c["address"]
        for c in plan["resource_changes"] + plan["resource_drift"]
        if c["before"] is not None
    }
    for address in sorted(refreshed):
        out(f"{address}: Refreshing state... [id={fake_id(address)}]")
    refresh_error = scenario.get("plan", {}).get("refresh_error")
    if refresh_error:
        raise Failure(
            refresh_error["summary"],
            refresh_error.get("detail", ""),
            address=refresh_error.get("address"),
        )
    out(render_plan(plan))
    if flags.get("out"):
        target = Path(flags["out"])
        try:
            write_plan_file(target, plan, configuration_snapshot(Path.cwd()))
        except OSError as exc:
            raise Failure(
                "Failed to write plan file",
                f"The plan file could not be written: open {target}: {exc.strerror.lower()}.",
            ) from None
        if not os.environ.get("TF_IN_AUTOMATION"):
            # internal/command/views/operation.go (planHeaderYesOutput)
            out(
                "─" * COLUMNS + f"\n\nSaved the plan to: {target}\n\nTo perform exactly these "
                "actions, run the following command to apply:\n"
                f'    tofu apply "{target}"'
            )
    if flags.get("detailed-exitcode") and plan_has_changes(plan):
        return 2
    return 0


def cmd_show(args: list[str], scenario: dict, call: Call) -> int:
    flags, paths = parse_flags("show", args)
    if len(paths) != 1:
        raise FakeError("`show` without a plan file is not implemented by the fake")
    plan = load_plan(paths[0], show=True)
    if flags.get("json"):
        out(json.dumps(plan_json(plan), separators=(",", ":")))
    else:
        out(render_plan(plan))
    return 0


def cmd_apply(args: list[str], scenario: dict, call: Call) -> int:
    flags, paths = parse_flags("apply", args)
    if flags.get("json"):
        JsonUI.start(scenario.get("version", DEFAULT_VERSION))
    if not paths:
        raise FakeError(
            "apply without a saved plan file is not implemented by the fake: the "
            "project always applies exactly a saved plan"
        )
    plan = load_plan(paths[0], show=False)
    state = State(plan["backend"], scenario)
    if flags.get("lock", True):
        check_lock(scenario, state, "OperationTypeApply")
    if state.serial != plan["state_serial"]:
        # internal/plans/planfile: a plan made against an older state snapshot
        raise Failure(
            "Saved plan is stale",
            "The given plan file can no longer be applied because the state was "
            "changed by another operation after the plan was created.",
        )
    return Apply(plan, scenario.get("apply", {}), state, call).run()


def cmd_output(args: list[str], scenario: dict, call: Call) -> int:
    flags, names = parse_flags("output", args)
    state = State(require_backend(), scenario)
    outputs = state.outputs
    if names:
        name = names[0]
        if name not in outputs:
            raise Failure(
                f'Output "{name}" not found',
                "The output variable requested could not be found in the state file. "
                "If you recently added this to your configuration, be sure to run "
                "`tofu apply`, since the state won't be updated with new output "
                "variables until that command is run.",
            )
        value = outputs[name]["value"]
        if flags.get("raw") and isinstance(value, str):
            sys.stdout.write(value)
        else:
            out(json.dumps(value) if flags.get("json") or flags.get("raw") else hcl_value(value))
        return 0
    if flags.get("json"):
        out(json.dumps(outputs, indent=2))
    elif not outputs:
        # internal/command/output.go
        sys.stderr.write(
            diagnostic(
                "No outputs found",
                "The state file either has no outputs defined, or all the defined outputs are "
                "empty. Please define an output in your configuration with the `output` keyword "
                "and run `tofu refresh` for it to become available. If you are using "
                "interpolation, please verify the interpolated value is not empty. You can use "
                "the `tofu console` command to assist.",
                severity="Warning",
            )
        )
    else:
        for name, o in outputs.items():
            out(f"{name} = {'<sensitive>' if o['sensitive'] else hcl_value(o['value'])}")
    return 0


def cmd_validate(args: list[str], scenario: dict, call: Call) -> int:
    flags, _ = parse_flags("validate", args)
    diagnostics = [
        {"severity": "error", "detail": "", **d}
        for d in scenario.get("validate", {}).get("diagnostics", [])
    ]
    if not data_dir().is_dir():
        # internal/command/meta_providers.go: providers are only there after `tofu init`
        diagnostics.append(
            {
                "severity": "error",
                "summary": "Missing required provider",
                "detail": f"This configuration requires provider {REGISTRY}/hashicorp/aws, but "
                "that provider isn't available. You may be able to install it automatically by "
                "running:\n  tofu init",
            }
        )
    errors = sum(d["severity"] == "error" for d in diagnostics)
    if flags.get("json"):
        # internal/command/views/validate.go: format_version 1.0, indented
        out(
            json.dumps(
                {
                    "format_version": "1.0",
                    "valid": errors == 0,
                    "error_count": errors,
                    "warning_count": len(diagnostics) - errors,
                    "diagnostics": diagnostics,
                },
                indent=2,
            )
        )
    else:
        for d in diagnostics:
            sys.stderr.write(diagnostic(d["summary"], d["detail"]))
        if not errors:
            out("Success! The configuration is valid.\n")
    return 1 if errors else 0


def cmd_fmt(args: list[str], scenario: dict, call: Call) -> int:
    flags, _ = parse_flags("fmt", args)
    unformatted = scenario.get("fmt", {}).get("unformatted", [])
    for path in unformatted:
        out(path)
    return 3 if flags.get("check") and unformatted else 0


COMMANDS = {
    "version": cmd_version,
    "init": cmd_init,
    "plan": cmd_plan,
    "show": cmd_show,
    "apply": cmd_apply,
    "output": cmd_output,
    "validate": cmd_validate,
    "fmt": cmd_fmt,
}
