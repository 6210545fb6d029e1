"""The project's fake `tofu`: answers like OpenTofu, in OpenTofu's real formats.

No OpenTofu binary can be installed where the tests run, so the `fake_tofu` fixture puts this
program first on PATH. It is the project's own code, written from OpenTofu's documented formats
and wording (each text cites where it was read), and it records every call so tests can assert
on the exact arguments the production code used.

Environment
  FAKE_TOFU_SCENARIO   path of the scenario JSON (below); a missing file means `{}`
  FAKE_TOFU_LOG        JSON-lines log: one `start` and one `end` line per call
  FAKE_TOFU_STATE_DIR  where the fake keeps "remote" state, one file per backend bucket/key
  TF_DATA_DIR          the data directory, as in OpenTofu (default `.terraform`)
  TF_IN_AUTOMATION     as in OpenTofu: hides the "run tofu apply" next-step hint

Commands: `version [-json]`, `init`, `plan`, `show [-json] PLANFILE`, `apply [-json] PLANFILE`,
`output [-json|-raw] [NAME]`, `validate [-json]`, `fmt [-check] [-recursive] [DIR]`, and the
global `-chdir=DIR`. Flags are parsed like Go's flag package (`-x=v`, `-x v`, `--x`); an unknown
flag or command fails like OpenTofu does, so a typo in production code fails its tests.

Scenario JSON (every key optional):
  version            the version `tofu version` reports (default below)
  outputs            {name: value}: root outputs in the state. The state starts from these; an
                     apply then changes it. Writing a scenario with different `outputs` resets
                     the state's outputs to them.
  sensitive_outputs  [name]: outputs marked sensitive
  lock               {id, who, operation, version, created, info}: present (even `{}`) = the
                     state lock is held, and `plan`/`apply` fail with OpenTofu's lock error
  init               {unavailable_providers: ["hashicorp/helm", ...]}: `init` cannot install
                     these (no network, not in a mirror): one error each, exit 1
  plan               what `plan` finds:
      resource_changes  [{address, actions, action_reason?, before?, after?, after_unknown?,
                        replace_paths?}], e.g. {"address": "module.eks.aws_eks_node_group.main",
                        "actions": ["delete", "create"]}
      resource_drift    the same, for what the refresh found changed outside OpenTofu:
                        {"address": ..., "actions": ["update"]} (`before` the state's values,
                        `after` the real object's) or ["delete"] (the object is gone). A plan
                        shows it beside its changes; `plan -refresh-only` plans no change at all
                        and, as OpenTofu 1.10 does, exits 0 under -detailed-exitcode all the same
                        (opentofu/opentofu#3107): resource_drift in `show -json` is the answer.
      refresh_error     {summary, detail?, address?}: the refresh fails (any plan refreshes):
                        "Refreshing state..." lines, then that Error diagnostic, exit 1
      outputs           {name: value} after the apply (default: unchanged)
      unknown_outputs   [name]: outputs only known after the apply
      providers         {local name: version constraint} for the configuration block
  destroy_plan       the same, for `plan -destroy` (default: no resources, every output removed)
  apply              what `apply` does with a saved plan:
      effects     [{"replace_hub_load_balancer": {...}} | {"create_hub_load_balancer": {...}}
                  | {"delete_hub_load_balancer": {...}}], run in order against moto's server
                  (tests/support/aws_world.py). Parameters: cluster_name, hub_namespace, region
                  (default: the plan's -var-file values cluster_name, hub_namespace,
                  aws_region), kind ("elbv2" or "elb"), output (the output that follows the
                  hostname, default "hub_load_balancer_hostname"; null leaves outputs alone).
      outputs     {name: value} set when the apply succeeds
      elapsed_seconds  {address: seconds}: the time the engine reports for that resource's
                  actions (with a "Still creating..." report every 10 seconds of it), without
                  waiting it out; default: the time it really took (0)
      fail        {after_effects?, summary?, detail?, address?} or true: run that many effects
                  (default all), then fail with an "Error:" diagnostic, exit 1
      interrupt   {after_effects?, timeout_seconds?, grace_seconds?} or true: run that many effects
                  (default 0), then wait for SIGINT/SIGTERM; on it print OpenTofu's interrupt
                  text, stop cleanly and exit 1. A second signal within grace_seconds exits
                  at once as OpenTofu does. No signal within timeout_seconds fails loudly.
                  `apply -json` says all of this in OpenTofu's machine-readable UI (JSON lines on
                  stdout, errors as `diagnostic` messages there too); see `JsonUI`.
  validate           {diagnostics: [{severity, summary, detail?, range?, snippet?}]}
  fmt                {unformatted: [path]}: `fmt -check` lists them and exits 3

A key the fake does not know fails the call ("fake tofu: scenario: unknown key ...").
Real plan files are zip archives only `tofu show` reads; this fake's plan file is its own JSON.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import signal
import sys
import textwrap
import time
import uuid
import zlib
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_VERSION = "1.10.6"
REGISTRY = "registry.opentofu.org"
HOSTNAME_OUTPUT = "hub_load_balancer_hostname"
COLUMNS = 78  # OpenTofu's width when its output is not a terminal (internal/terminal)

KNOWN_COMMANDS = {
    "apply", "console", "destroy", "env", "fmt", "force-unlock", "get", "graph", "import",
    "init", "login", "logout", "metadata", "output", "plan", "providers", "refresh", "show",
    "state", "taint", "test", "untaint", "validate", "version", "workspace",
}  # fmt: skip

# internal/command/views/operation.go (`interrupted`, `fatalInterrupt`)
INTERRUPTED = (
    "\nInterrupt received.\nPlease wait for OpenTofu to exit or data loss may occur.\n"
    "Gracefully shutting down...\n"
)
FATAL_INTERRUPT = (
    "\nTwo interrupts received. Exiting immediately. Note that data loss may have occurred.\n"
)
# internal/command/clistate/state.go (LockErrorMessage) and internal/states/statemgr/locker.go
# (LockInfo.String)
LOCK_ERROR = """Error message: {error}
Lock Info:
  ID:        {id}
  Path:      {path}
  Operation: {operation}
  Who:       {who}
  Version:   {version}
  Created:   {created}
  Info:      {info}


OpenTofu acquires a state lock to protect the state from being written
by multiple users at the same time. Please resolve the issue above and try
again. For most commands, you can disable locking with the "-lock=false"
flag, but this is not recommended."""
# The AWS SDK's errors for a held lock (internal/backend/remote-state/s3/client.go: s3Lock with
# If-None-Match, dynamoDBLock with a condition expression).
S3_LOCK_HELD = (
    "operation error S3: PutObject, https response error StatusCode: 412, RequestID: "
    "FAKE0REQUEST0ID, HostID: fake-host-id, api error PreconditionFailed: At least one of the "
    "pre-conditions you specified did not hold"
)
DYNAMODB_LOCK_HELD = (
    "operation error DynamoDB: PutItem, https response error StatusCode: 400, RequestID: "
    "FAKE0REQUEST0ID, ConditionalCheckFailedException: The conditional request failed"
)
# internal/command/meta_backend.go (errBackendInit)
BACKEND_INIT = """Reason: Initial configuration of the requested backend "s3"

The "backend" is the interface that OpenTofu uses to store state,
perform operations, etc. If this message is showing up, it means that the
OpenTofu configuration you're using is using a custom configuration for
the OpenTofu backend.

Changes to backend configurations require reinitialization. This allows
OpenTofu to set up the new configuration, copy existing state, etc. Please run
"tofu init" with either the "-reconfigure" or "-migrate-state" flags to
use the current configuration.

If the change reason above is incorrect, please verify your configuration
hasn't changed and try again. At this point, no changes to your existing
configuration or state have been made."""

ACTION_SYMBOLS = {  # internal/command/jsonformat: the plan legend, in OpenTofu's order
    ("create",): ("+", "create", "will be created"),
    ("delete",): ("-", "destroy", "will be destroyed"),
    ("update",): ("~", "update in-place", "will be updated in-place"),
    ("delete", "create"): ("-/+", "destroy and then create replacement", "must be replaced"),
    ("create", "delete"): ("+/-", "create replacement and then destroy", "must be replaced"),
    ("read",): ("<=", "read (data resources)", "will be read during apply"),
}


class Failure(Exception):
    """An error OpenTofu would report as a diagnostic box on stderr."""

    def __init__(
        self,
        summary: str,
        detail: str = "",
        *,
        address: str | None = None,
        exit_code: int = 1,
        hint: str = "",
    ):
        super().__init__(summary)
        self.summary, self.detail, self.address = summary, detail, address
        self.exit_code, self.hint = exit_code, hint


class FakeError(Exception):
    """Something the fake itself cannot do: never mistaken for OpenTofu's own output."""


# -- the call record -----------------------------------------------------------------------------


class Call:
    """One invocation: its log lines, and the signals it received."""

    def __init__(self, argv: list[str]):
        self.argv = argv
        self.id = uuid.uuid4().hex
        self.signals: list[str] = []
        self.effects: list[str] = []
        self._log = os.environ.get("FAKE_TOFU_LOG")

    def started(self) -> None:
        """Logged once the signal handlers are in place: a test that sees the call may signal it."""
        self._write({
            "event": "start", "id": self.id, "argv": self.argv, "cwd": os.getcwd(),
            "pid": os.getpid(),
            "env": {k: os.environ.get(k) for k in ("TF_DATA_DIR", "TF_IN_AUTOMATION", "TF_INPUT")},
            # Every TF_* name it was given (values may be secrets): what the shell passed on.
            "tf_variables": sorted(k for k in os.environ if k.startswith("TF_")),
        })  # fmt: skip

    def on_signal(self, signum, frame) -> None:
        # Only record here: printing from a signal handler can collide with a write in progress.
        self.signals.append(signal.Signals(signum).name)

    def finish(self, exit_code: int) -> None:
        self._write(
            {
                "event": "end",
                "id": self.id,
                "exit_code": exit_code,
                "signals": self.signals,
                "effects": self.effects,
            }
        )

    def _write(self, record: dict) -> None:
        if self._log:
            # One write per line in append mode, so concurrent calls never interleave a line.
            with open(self._log, "a", encoding="utf-8") as log:
                log.write(json.dumps(record) + "\n")


# -- output helpers ------------------------------------------------------------------------------


def out(text: str = "") -> None:
    print(text, flush=True)


# The engine colours its human output wherever it writes, a pipe included, unless `-no-color`.
COLOUR = True


def bold(text: str) -> str:
    """`[reset][bold]TEXT[reset]` as the engine's colorstring writes it."""
    return f"\x1b[0m\x1b[1m{text}\x1b[0m" if COLOUR else text


def diagnostic(
    summary: str, detail: str = "", address: str | None = None, severity: str = "Error"
) -> str:
    """A diagnostic box as internal/command/format/diagnostic.go draws it, without colours."""
    body = [f"{severity}: {summary}", ""]
    if address:
        body.append(f"  with {address},")
    for line in detail.split("\n") if detail else []:
        if line.startswith(" "):
            body.append(line)
        else:  # paragraphs wrap at the width less the left rule, as go-wordwrap does
            body.extend(
                textwrap.wrap(line, COLUMNS - 3, break_long_words=False, break_on_hyphens=False)
                or [""]
            )
    lines = ["╷", *(f"│ {line}" if line else "│" for line in body), "╵"]
    return "\n".join(lines) + "\n"


def go_time(moment: datetime) -> str:
    """Go's time.Time.String(), which LockInfo uses for Created."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f000 +0000 UTC")


def value_type(value):
    """The cty type OpenTofu reports for a JSON value in `output -json`."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return ["tuple", [value_type(v) for v in value]]
    if isinstance(value, dict):
        return ["object", {k: value_type(v) for k, v in value.items()}]
    return "dynamic"


def hcl_value(value) -> str:
    return json.dumps(value)


def fake_id(address: str, generation: int = 0) -> str:
    return f"fake-{zlib.crc32(f'{address}#{generation}'.encode()):08x}"


# -- files the fake reads ------------------------------------------------------------------------

ASSIGNMENT = re.compile(r'^\s*([A-Za-z_][\w-]*)\s*=\s*(".*"|true|false|-?\d+(?:\.\d+)?)\s*$')
# A list or map value, possibly over several lines: `name = [` / `name = {` ... until balanced.
COLLECTION_START = re.compile(r"^\s*[A-Za-z_][\w-]*\s*=\s*[\[{]")


def _bracket_depth(line: str) -> int:
    """Net opening brackets of a line, strings and trailing comments aside."""
    code = re.sub(r'"(?:[^"\\]|\\.)*"', '""', line).split("#")[0]
    return sum(code.count(c) for c in "[{") - sum(code.count(c) for c in "]}")


def read_flat_hcl(path: Path, summary: str, missing_detail: str) -> dict:
    """`name = value` files (backend.hcl, *.tfvars): scalar values are read; list and map values
    (which no fake behaviour depends on) are skipped whole."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise Failure(summary, missing_detail) from None
    values = {}
    depth = 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if depth:
            depth += _bracket_depth(line)
            continue
        if not stripped or stripped.startswith(("#", "//")):
            continue
        if COLLECTION_START.match(line):
            depth = _bracket_depth(line)
            continue
        match = ASSIGNMENT.match(line)
        if not match:
            raise FakeError(
                f"cannot read {path} line {number}: this fake reads only "
                '`name = "string" | number | true | false` lines and skips list and map values'
            )
        values[match[1]] = json.loads(match[2])
    return values


SCENARIO_KEYS = {
    "": {"version", "outputs", "sensitive_outputs", "lock", "init", "plan", "destroy_plan",
         "apply", "validate", "fmt"},
    "init": {"unavailable_providers"},
    "plan": {"resource_changes", "resource_drift", "relevant_attributes", "outputs",
             "unknown_outputs", "providers", "refresh_error"},
    "apply": {"effects", "outputs", "fail", "interrupt", "elapsed_seconds"},
    "validate": {"diagnostics"},
    "fmt": {"unformatted"},
}  # fmt: skip


def read_scenario() -> dict:
    """The scenario; a key the fake does not know is an error, never silently ignored."""
    path = os.environ.get("FAKE_TOFU_SCENARIO")
    if not path or not Path(path).is_file():
        return {}
    scenario = json.loads(Path(path).read_text(encoding="utf-8"))
    parts = [("", scenario)] + [
        ("plan" if name == "destroy_plan" else name, scenario[name])
        for name in ("init", "plan", "destroy_plan", "apply", "validate", "fmt")
        if name in scenario
    ]
    for section, part in parts:
        unknown = sorted(set(part) - SCENARIO_KEYS[section])
        if unknown:
            where = f"{section}." if section else ""
            raise FakeError(
                f"scenario: unknown key {where}{unknown[0]}; known: "
                f"{', '.join(sorted(SCENARIO_KEYS[section]))} (see tests/fake_tofu/fake_tofu.py)"
            )
    return scenario


def data_dir() -> Path:
    return Path(os.environ.get("TF_DATA_DIR") or ".terraform")


def initialised_backend() -> dict | None:
    """The backend `tofu init` recorded in the data directory, as OpenTofu keeps it there."""
    try:
        return json.loads((data_dir() / "terraform.tfstate").read_text())["backend"]
    except (OSError, ValueError, KeyError):
        return None


def require_backend() -> dict:
    backend = initialised_backend()
    if backend is None:
        raise Failure('Backend initialization required, please run "tofu init"', BACKEND_INIT)
    return backend


# -- state ---------------------------------------------------------------------------------------


class State:
    """The "remote" state of one backend: outputs and a serial, in FAKE_TOFU_STATE_DIR."""

    def __init__(self, backend: dict, scenario: dict):
        root = os.environ.get("FAKE_TOFU_STATE_DIR")
        if not root:
            raise FakeError("FAKE_TOFU_STATE_DIR is not set: run me through the fake_tofu fixture")
        config = backend.get("config", {})
        name = f"{config.get('bucket') or 'local'}/{config.get('key') or 'terraform.tfstate'}"
        self.path = Path(root) / (re.sub(r"[^\w.-]+", "_", name) + ".json")
        self.lock_path = f"{config.get('bucket')}/{config.get('key')}"
        self.uses_dynamodb = bool(config.get("dynamodb_table")) and not config.get("use_lockfile")
        seed = {
            "outputs": scenario.get("outputs", {}),
            "sensitive": sorted(scenario.get("sensitive_outputs", [])),
        }
        saved = json.loads(self.path.read_text()) if self.path.is_file() else None
        if saved is None or saved["seed"] != seed:
            saved = {
                "serial": 0,
                "lineage": str(uuid.uuid4()),
                "seed": seed,
                "outputs": {
                    name: {"value": value, "sensitive": name in seed["sensitive"]}
                    for name, value in seed["outputs"].items()
                },
            }
        self.data = saved

    @property
    def serial(self) -> int:
        return self.data["serial"]

    @property
    def outputs(self) -> dict:
        """{name: {sensitive, type, value}}, the shape `tofu output -json` prints."""
        return {
            name: {"sensitive": o["sensitive"], "type": value_type(o["value"]), "value": o["value"]}
            for name, o in sorted(self.data["outputs"].items())
        }

    def set_outputs(self, values: dict) -> None:
        for name, value in values.items():
            if value is None:
                self.data["outputs"].pop(name, None)
            else:
                old = self.data["outputs"].get(name, {})
                self.data["outputs"][name] = {
                    "value": value,
                    "sensitive": old.get("sensitive", False),
                }

    def replace_outputs(self, values: dict) -> None:
        self.data["outputs"] = {}
        self.set_outputs(values)

    def save(self) -> None:
        self.data["serial"] += 1
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.data, indent=2))
        temporary.replace(self.path)


def check_lock(scenario: dict, state: State, operation: str) -> None:
    held = scenario.get("lock")
    if held is None:
        return
    raise Failure(
        "Error acquiring the state lock",
        LOCK_ERROR.format(
            error=DYNAMODB_LOCK_HELD if state.uses_dynamodb else S3_LOCK_HELD,
            id=held.get("id", "9db590f1-b6fe-c5f2-2678-8804f089deba"),
            path=state.lock_path,
            operation=held.get("operation", operation),
            who=held.get("who", "runner@ci-host"),
            version=held.get("version", scenario.get("version", DEFAULT_VERSION)),
            created=held.get("created", go_time(datetime.now(UTC))),
            info=held.get("info", ""),
        ),
    )


# -- flags ---------------------------------------------------------------------------------------

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


# -- commands ------------------------------------------------------------------------------------


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
            target.write_text(json.dumps(plan, indent=2))
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


# -- plans ---------------------------------------------------------------------------------------


def build_plan(
    scenario: dict,
    state: State,
    variables: dict,
    backend: dict,
    destroy: bool,
    refresh_only: bool = False,
) -> dict:
    """The fake's plan file: what `show -json` and `apply` read back.

    A refresh-only plan changes nothing: OpenTofu's planner refuses one with resource changes
    (tofu/context_plan.go refreshOnlyPlan), and the outputs stay as the state has them.
    """
    wanted = scenario.get("destroy_plan" if destroy else "plan", {})
    prior = {name: o["value"] for name, o in state.outputs.items()}
    planned = prior if refresh_only else wanted.get("outputs", {} if destroy else prior)
    changes = (
        [] if refresh_only else [normalise_change(c) for c in wanted.get("resource_changes", [])]
    )
    drift = [normalise_change(c) for c in wanted.get("resource_drift", [])]
    for change in changes + drift:
        if tuple(change["actions"]) not in ACTION_SYMBOLS and change["actions"] != ["no-op"]:
            raise FakeError(f"scenario plan: unknown actions {change['actions']}")
    return {
        "fake_tofu_plan": 1,
        "destroy": destroy,
        "refresh_only": refresh_only,
        "version": scenario.get("version", DEFAULT_VERSION),
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "backend": backend,
        "state_serial": state.serial,
        "variables": variables,
        "providers": wanted.get("providers", {}),
        "resource_changes": sorted(changes, key=lambda c: c["address"]),
        "resource_drift": sorted(drift, key=lambda c: c["address"]),
        "relevant_attributes": wanted.get("relevant_attributes", []),
        "prior_outputs": state.outputs,
        "planned_outputs": planned,
        "unknown_outputs": [] if refresh_only else wanted.get("unknown_outputs", []),
    }


def normalise_change(change: dict) -> dict:
    address, actions = change["address"], list(change["actions"])
    old_id = fake_id(address)
    before = change.get("before", None if actions == ["create"] else {"id": old_id})
    default_after = {} if "create" in actions else {"id": old_id}
    after = change.get("after", None if actions == ["delete"] else default_after)
    unknown = change.get("after_unknown")
    if unknown is None:
        unknown = {"id": True} if after is not None and "id" not in after else {}
    normal = {
        "address": address,
        "actions": actions,
        "before": before,
        "after": after,
        "after_unknown": unknown,
        "before_sensitive": change.get("before_sensitive", False if before is None else {}),
        "after_sensitive": change.get("after_sensitive", False if after is None else {}),
    }
    if "delete" in actions and "create" in actions:
        normal["action_reason"] = change.get("action_reason", "replace_because_cannot_update")
    elif "action_reason" in change:
        normal["action_reason"] = change["action_reason"]
    if change.get("replace_paths"):
        normal["replace_paths"] = change["replace_paths"]
    return normal


def load_plan(path: str, *, show: bool) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        reason = f"open {path}: {exc.strerror.lower()}"
        if show:  # internal/command/show.go, when neither a state nor a plan could be read
            raise Failure(
                "Failed to read the given file as a state or plan file",
                f"State read error: Error loading statefile: {reason}\n\nPlan read "
                f"error: couldn't load the provided path as either a local plan file "
                f"({reason}) or a saved cloud plan ({reason})",
            ) from None
        raise Failure(f'Failed to load "{path}" as a plan file', f"Error: {reason}") from None
    try:
        plan = json.loads(text)
        assert plan["fake_tofu_plan"] == 1
    except (ValueError, KeyError, TypeError, AssertionError):
        raise Failure(
            f'Failed to load "{path}" as a plan file', "Error: zip: not a valid zip file"
        ) from None
    return plan


def plan_has_changes(plan: dict) -> bool:
    """What -detailed-exitcode reports as 2: a resource or output change. Drift alone is not one:
    OpenTofu 1.10 exits 0 from a refresh-only plan whatever it found (opentofu/opentofu#3107),
    so callers read resource_drift from the plan's JSON instead."""
    return any(c["actions"] != ["no-op"] for c in plan["resource_changes"]) or any(
        change["actions"] != ["no-op"] for change in output_changes(plan).values()
    )


def counts(changes: list[dict]) -> tuple[int, int, int]:
    add = sum("create" in c["actions"] for c in changes)
    change = sum(c["actions"] == ["update"] for c in changes)
    destroy = sum("delete" in c["actions"] for c in changes)
    return add, change, destroy


# internal/command/jsonformat/plan.go (renderHumanDiffDrift, and the empty refresh-only plan);
# paragraphs word-wrapped at the width, as format.WordWrap does.
def _wrapped(text: str) -> str:
    return textwrap.fill(text, COLUMNS, break_long_words=False, break_on_hyphens=False)


DRIFT_NOTE = "\nNote: Objects have changed outside of OpenTofu\n\n" + _wrapped(
    'OpenTofu detected the following changes made outside of OpenTofu since the last "tofu '
    'apply" which may have affected this plan:'
)
DRIFT_PHRASES = {("update",): ("~", "has changed"), ("delete",): ("-", "has been deleted")}
REFRESH_ONLY_NOTE = "\n" + _wrapped(
    "This is a refresh-only plan, so OpenTofu will not take any actions to undo these. If you "
    "were expecting these changes then you can apply this plan to record the updated values in "
    "the OpenTofu state without changing any remote objects."
)
NO_DRIFT = "\nNo changes. Your infrastructure still matches the configuration.\n\n" + _wrapped(
    "OpenTofu has checked that the real remote objects still match the result of your most "
    "recent changes, and found no differences."
)


def render_refresh_only(plan: dict) -> str:
    """The human refresh-only plan: the drift, or that the real objects still match."""
    drift = [c for c in plan["resource_drift"] if c["actions"] != ["no-op"]]
    if not drift:
        return NO_DRIFT
    lines = [DRIFT_NOTE]
    for c in drift:
        symbol, phrase = DRIFT_PHRASES.get(tuple(c["actions"]), ("~", "has changed"))
        kind, name = parse_address(c["address"])[2:]
        lines += ["", f"  # {c['address']} {phrase}", f'  {symbol} resource "{kind}" "{name}" {{']
        lines += [f"      {id_line(c)}", "    }"]
    lines.append(REFRESH_ONLY_NOTE)
    return "\n".join(lines)


def render_plan(plan: dict) -> str:
    """The human plan, shaped like internal/command/jsonformat's renderer (attributes elided)."""
    if plan.get("refresh_only"):
        return render_refresh_only(plan)
    changes = [c for c in plan["resource_changes"] if c["actions"] != ["no-op"]]
    outputs = {n: c for n, c in output_changes(plan).items() if c["actions"] != ["no-op"]}
    lines = []
    if not changes and not outputs:
        return (
            "\nNo changes. Your infrastructure matches the configuration.\n\nOpenTofu has "
            "compared your real infrastructure against your configuration and found no\n"
            "differences, so no changes are needed."
        )
    if changes:
        lines += [
            "",
            "OpenTofu used the selected providers to generate the following execution",
            "plan. Resource actions are indicated with the following symbols:",
        ]
        present = {tuple(c["actions"]) for c in changes}
        lines += [
            f"{symbol.rjust(3)} {legend}"
            for actions, (symbol, legend, _) in ACTION_SYMBOLS.items()
            if actions in present
        ]
        lines += ["", "OpenTofu will perform the following actions:", ""]
        for c in changes:
            symbol, _, phrase = ACTION_SYMBOLS[tuple(c["actions"])]
            kind, name = parse_address(c["address"])[2:]
            lines += [
                f"  # {c['address']} {phrase}",
                f'{symbol.rjust(3)} resource "{kind}" "{name}" {{',
                f"      {id_line(c)}",
                "    }",
                "",
            ]
        add, change, destroy = counts(changes)
        lines.append(f"{bold('Plan:')} {add} to add, {change} to change, {destroy} to destroy.")
    if outputs:
        lines += ["", "Changes to Outputs:"]
        for name, c in outputs.items():
            new = "(known after apply)" if c["after_unknown"] is True else hcl_value(c["after"])
            if c["actions"] == ["create"]:
                lines.append(f"  + {name} = {new}")
            elif c["actions"] == ["delete"]:
                lines.append(f"  - {name} = {hcl_value(c['before'])} -> null")
            else:
                lines.append(f"  ~ {name} = {hcl_value(c['before'])} -> {new}")
        if not changes:
            lines += [
                "",
                "You can apply this plan to save these new output values to the "
                "OpenTofu state, without changing any real infrastructure.",
            ]
    return "\n".join(lines)


def id_line(change: dict) -> str:
    """The one attribute the fake shows in a resource's block: its id."""
    before = hcl_value((change["before"] or {}).get("id"))
    after = (
        "(known after apply)"
        if change["after_unknown"].get("id")
        else hcl_value((change["after"] or {}).get("id"))
    )
    if change["actions"] == ["create"]:
        return f"+ id = {after}"
    if change["actions"] == ["delete"]:
        return f"- id = {before} -> null"
    if before == after:
        return f"  id = {before}"
    return f"~ id = {before} -> {after}"


def parse_address(address: str) -> tuple[str, str, str, str]:
    """(module_address, mode, type, name) of `module.a.aws_x.y` or `data.aws_x.y`."""
    parts = address.split(".")
    module = []
    while len(parts) > 2 and parts[0] == "module":
        module += parts[:2]
        parts = parts[2:]
    mode = "managed"
    if parts[0] == "data":
        mode, parts = "data", parts[1:]
    if len(parts) != 2:
        raise FakeError(f"scenario plan: cannot read resource address {address!r}")
    return ".".join(module), mode, parts[0], parts[1].split("[")[0]


def provider_of(kind: str) -> tuple[str, str]:
    local = kind.split("_")[0]
    return local, f"{REGISTRY}/hashicorp/{local}"


def output_changes(plan: dict) -> dict:
    """internal/command/jsonplan MarshalOutputChanges: one change per root output."""
    prior = {n: o["value"] for n, o in plan["prior_outputs"].items()}
    planned, unknown = plan["planned_outputs"], set(plan["unknown_outputs"])
    sensitive = {n for n, o in plan["prior_outputs"].items() if o["sensitive"]}
    changes = {}
    for name in sorted(set(prior) | set(planned) | unknown):
        before = prior.get(name)
        if name not in planned and name not in unknown:
            actions, after = ["delete"], None
        elif name not in prior:
            actions, after = ["create"], planned.get(name)
        elif name in unknown or planned[name] != before:
            actions, after = ["update"], planned.get(name)
        else:
            actions, after = ["no-op"], before
        change = {
            "actions": actions,
            "before": before,
            "after": after,
            "after_unknown": name in unknown,
            "before_sensitive": name in sensitive,
            "after_sensitive": name in sensitive,
        }
        if name in unknown:
            del change["after"]
        changes[name] = change
    return changes


def json_change(c: dict) -> dict:
    """One entry of resource_changes or resource_drift (jsonplan MarshalResourceChanges)."""
    module, mode, kind, name = parse_address(c["address"])
    entry = {
        "address": c["address"],
        "mode": mode,
        "type": kind,
        "name": name,
        "provider_name": provider_of(kind)[1],
    }
    if module:
        entry["module_address"] = module
    change = {
        "actions": c["actions"],
        "before": c["before"],
        "after": c["after"],
        "after_unknown": c["after_unknown"],
        "before_sensitive": c["before_sensitive"],
        "after_sensitive": c["after_sensitive"],
    }
    if c.get("replace_paths"):
        change["replace_paths"] = c["replace_paths"]
    entry["change"] = change
    if c.get("action_reason"):
        entry["action_reason"] = c["action_reason"]
    return entry


def state_resource(c: dict, values: dict, sensitive) -> dict:
    """A resource as jsonstate writes it in planned_values and prior_state."""
    _, mode, kind, name = parse_address(c["address"])
    return {
        "address": c["address"],
        "mode": mode,
        "type": kind,
        "name": name,
        "provider_name": provider_of(kind)[1],
        "schema_version": 0,
        "sensitive_values": sensitive or {},
        "values": values,
    }


def state_module(resources: list[tuple[str, dict]]) -> dict:
    """root_module with child_modules, leaving out empty lists as OpenTofu's omitempty does."""
    by_module: dict = {}
    for module, resource in resources:
        by_module.setdefault(module, []).append(resource)
    root: dict = {}
    if by_module.get(""):
        root["resources"] = by_module[""]
    children = [{"address": m, "resources": r} for m, r in sorted(by_module.items()) if m]
    if children:
        root["child_modules"] = children
    return root


def plan_json(plan: dict) -> dict:
    """`tofu show -json PLANFILE`: the JSON plan format 1.2 (internal/command/jsonplan)."""
    changes = plan["resource_changes"]
    planned = [
        (parse_address(c["address"])[0], state_resource(c, c["after"], c["after_sensitive"]))
        for c in changes
        if c["after"] is not None
    ]
    prior = [
        (parse_address(c["address"])[0], state_resource(c, c["before"], c["before_sensitive"]))
        for c in changes
        if c["before"] is not None
    ]
    if plan.get("refresh_only"):  # prior_state is the refreshed state: the real objects
        prior = [
            (parse_address(c["address"])[0], state_resource(c, c["after"], c["after_sensitive"]))
            for c in plan["resource_drift"]
            if c["after"] is not None
        ]
    outputs = output_changes(plan)
    planned_values: dict = {"root_module": state_module(planned)}
    planned_outputs = {
        name: {
            "sensitive": c["after_sensitive"],
            **({"type": value_type(c["after"]), "value": c["after"]} if "after" in c else {}),
        }
        for name, c in outputs.items()
        if c["actions"] != ["delete"]
    }
    if planned_outputs:
        planned_values["outputs"] = planned_outputs
    document = {
        "format_version": "1.2",
        "terraform_version": plan["version"],
        "planned_values": planned_values,
        "resource_drift": [json_change(c) for c in plan["resource_drift"]],
        "resource_changes": [json_change(c) for c in changes],
        "output_changes": outputs,
        "configuration": configuration(plan),
        "relevant_attributes": plan["relevant_attributes"],
        "timestamp": plan["timestamp"],
        "errored": False,
    }
    if plan["variables"]:
        document["variables"] = {k: {"value": v} for k, v in sorted(plan["variables"].items())}
    if prior or plan["prior_outputs"]:
        values: dict = {"root_module": state_module(prior)}
        if plan["prior_outputs"]:
            values["outputs"] = plan["prior_outputs"]
        document["prior_state"] = {
            "format_version": "1.0",
            "terraform_version": plan["version"],
            "values": values,
        }
    # OpenTofu's omitempty fields are absent rather than empty.
    return {key: value for key, value in document.items() if value or value is False}


def configuration(plan: dict) -> dict:
    """The configuration block, as far as the fake knows it: providers, resources, outputs."""
    providers: dict = {}
    resources: dict = {}
    # Every resource the fake knows of is configured: a refresh-only plan's drift included.
    known = {c["address"]: c for c in plan["resource_drift"] + plan["resource_changes"]}
    for c in sorted(known.values(), key=lambda c: c["address"]):
        module, mode, kind, name = parse_address(c["address"])
        local, full = provider_of(kind)
        providers[local] = {"name": local, "full_name": full}
        if local in plan["providers"]:
            providers[local]["version_constraint"] = plan["providers"][local]
        resources.setdefault(module, []).append(
            {
                "address": c["address"][len(module) + 1 :] if module else c["address"],
                "mode": mode,
                "type": kind,
                "name": name,
                "provider_config_key": local,
                "expressions": {},
                "schema_version": 0,
            }
        )
    root: dict = {}
    if resources.get(""):
        root["resources"] = resources[""]
    calls = {
        m.split(".")[-1]: {"source": f"./modules/{m.split('.')[-1]}", "module": {"resources": r}}
        for m, r in sorted(resources.items())
        if m
    }
    if calls:
        root["module_calls"] = calls
    outputs = {
        n: {"expression": {}} for n, c in output_changes(plan).items() if c["actions"] != ["delete"]
    }
    if outputs:
        root["outputs"] = outputs
    document: dict = {"root_module": root}
    if providers:
        document["provider_config"] = providers
    return document


# -- apply ---------------------------------------------------------------------------------------


class Apply:
    """Applying a saved plan: resource progress lines, effects on AWS, state, the summary."""

    def __init__(self, plan: dict, scenario: dict, state: State, call: Call):
        self.plan, self.scenario, self.state, self.call = plan, scenario, state, call
        self.effects = scenario.get("effects", [])
        self.effect_outputs: dict = {}
        self.changes = [c for c in plan["resource_changes"] if c["actions"] != ["no-op"]]
        self.elapsed = scenario.get("elapsed_seconds", {})
        self.ui = JsonUI.active

    def run(self) -> int:
        if self.ui:  # OpenTofu restates the saved plan's changes before applying them
            for change in self.changes:
                self.ui.planned_change(change)
        # `true` stands for "with the defaults".
        if self.scenario.get("interrupt") not in (None, False):
            return self.interrupted(self.settings("interrupt"))
        if self.scenario.get("fail") not in (None, False):
            failure = self.settings("fail")
            self.run_effects(failure.get("after_effects", len(self.effects)))
            failing = failure.get("address")
            for change in self.changes:
                self.progress(change, fails=change["address"] == failing)
            raise Failure(
                failure.get("summary", "the apply failed"),
                failure.get("detail", ""),
                address=failing,
            )
        self.run_effects(len(self.effects))
        for change in self.changes:
            self.progress(change)
        self.finish()
        return 0

    def settings(self, name: str) -> dict:
        value = self.scenario[name]
        return {} if value is True else value

    def progress(self, change: dict, *, started_only: bool = False, fails: bool = False) -> None:
        """Each action of one change: started, still running every 10s, complete (or errored:
        the last action of a failing change)."""
        address, started = change["address"], time.monotonic()
        steps = [action for action in change["actions"] if action in HOOK_WORDS]
        for index, action in enumerate(steps):
            identifier = fake_id(address, 1 if action == "create" else 0)
            self.hook("apply_start", address, action, identifier)
            if started_only:
                return
            elapsed = self.elapsed.get(address, round(time.monotonic() - started))
            for seconds in range(10, elapsed, 10):  # internal/command/views/hook_ui.go: 10s
                self.hook("apply_progress", address, action, identifier, seconds)
            if fails and index == len(steps) - 1:
                self.hook("apply_errored", address, action, identifier, elapsed)
                return
            self.hook("apply_complete", address, action, identifier, elapsed)

    def hook(self, kind: str, address: str, action: str, identifier: str, elapsed=None) -> None:
        if self.ui:
            self.ui.hook(kind, address, action, identifier, elapsed)
            return
        start, still, noun = HOOK_WORDS[action]
        if kind == "apply_start":  # internal/command/views/hook_ui.go
            out(f"{address}: {start}..." + ("" if action == "create" else f" [id={identifier}]"))
        elif kind == "apply_progress":
            prior = "" if action == "create" else f"id={identifier}, "
            out(f"{address}: Still {still}... [{prior}{go_duration(elapsed)} elapsed]")
        elif kind == "apply_complete":
            suffix = "" if action == "delete" else f" [id={identifier}]"
            out(f"{address}: {noun} complete after {go_duration(elapsed)}{suffix}")
        # apply_errored: the human UI says nothing; the error box follows

    def run_effects(self, how_many: int) -> None:
        for effect in self.effects[:how_many]:
            if len(effect) != 1:
                raise FakeError(f"scenario apply.effects: one effect per item, got {effect}")
            ((name, params),) = effect.items()
            self.call.effects.append(name)
            updates = run_effect(name, params or {}, self.plan["variables"])
            self.effect_outputs.update(updates)
            # A real apply persists state as each resource finishes, failed apply or not.
            self.state.set_outputs(updates)
            self.state.save()

    def interrupted(self, settings: dict) -> int:
        self.run_effects(settings.get("after_effects", 0))
        if self.changes:
            self.progress(self.changes[0], started_only=True)
        deadline = time.monotonic() + settings.get("timeout_seconds", 30)
        while not self.call.signals:
            if time.monotonic() > deadline:
                raise FakeError("scenario apply.interrupt: no SIGINT or SIGTERM arrived")
            time.sleep(0.02)
        # internal/command/meta.go RunOperation: Stop, then Interrupted; opWait says Stopping.
        # The JSON view logs both (views/operation.go OperationJSON).
        self.say(INTERRUPTED)
        self.say("Stopping operation...")
        grace_end = time.monotonic() + settings.get("grace_seconds", 0.3)
        while time.monotonic() < grace_end:
            if len(self.call.signals) > 1:
                if self.ui:
                    self.ui.emit("log", FATAL_INTERRUPT)
                else:
                    sys.stderr.write(FATAL_INTERRUPT)
                return 1
            time.sleep(0.02)
        return 1

    def say(self, text: str) -> None:
        if self.ui:
            self.ui.emit("log", text)
        else:
            out(text)

    def finish(self) -> None:
        final = {name: self.plan["planned_outputs"][name] for name in self.plan["planned_outputs"]}
        final.update(self.effect_outputs)
        final.update(self.scenario.get("outputs", {}))
        self.state.replace_outputs({k: v for k, v in final.items() if v is not None})
        self.state.save()
        add, change, destroy = counts(self.changes)
        if self.ui:
            self.ui.change_summary(add, change, destroy, destroying=self.plan.get("destroy", False))
            self.ui.outputs(self.state.outputs)
            return
        out(f"\nApply complete! Resources: {add} added, {change} changed, {destroy} destroyed.")
        if self.state.outputs:
            out("\nOutputs:\n")
            for name, o in self.state.outputs.items():
                out(f"{name} = {'<sensitive>' if o['sensitive'] else hcl_value(o['value'])}")


# A hook's action -> (its start verb, its progress verb, its completion noun), as OpenTofu words
# them in both UIs (internal/command/views/hook_ui.go, views/json/hook.go).
HOOK_WORDS = {
    "create": ("Creating", "creating", "Creation"),
    "update": ("Modifying", "modifying", "Modifications"),
    "delete": ("Destroying", "destroying", "Destruction"),
}
# plans.ResourceInstanceChangeActionReason -> views/json/change.go's reason for a replacement
REPLACE_REASONS = {
    "replace_because_cannot_update": "cannot_update",
    "replace_because_tainted": "tainted",
    "replace_by_request": "requested",
    "replace_by_triggers": "replace_by_triggers",
}


def go_duration(seconds: int) -> str:
    """Go's time.Duration.String() of whole seconds: 0s, 12s, 1m0s, 6m12s, 1h2m3s."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def json_resource(address: str) -> dict:
    """views/json/resource_addr.go: a resource instance's address, in its parts."""
    module, _, kind, name = parse_address(address)
    within = address[len(module) + 1 :] if module else address
    key = re.search(r"\[(.+)\]$", within)
    return {
        "addr": address,
        "module": module,
        "resource": within,
        "implied_provider": provider_of(kind)[0],
        "resource_type": kind,
        "resource_name": name,
        "resource_key": json.loads(key[1]) if key else None,
    }


class JsonUI:
    """OpenTofu's machine-readable UI (`-json`; internal/command/views/json_view.go and
    views/json/): one JSON message a line on stdout, errors included (`diagnostic` messages)."""

    active: JsonUI | None = None  # set once a command has seen -json

    def __init__(self, version: str):
        self.version = version

    @classmethod
    def start(cls, version: str) -> None:
        cls.active = cls(version)
        # json_view.go Version: JSON_UI_VERSION is 1.2 since OpenTofu 1.7
        cls.active.emit("version", f"OpenTofu {version}", tofu=version, ui="1.2")

    def emit(self, kind: str, message: str, level: str = "info", **fields) -> None:
        moment = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        record = {"@level": level, "@message": message, "@module": "tofu.ui"}
        record.update({"@timestamp": moment, **fields, "type": kind})
        out(json.dumps(record, separators=(",", ":")))

    def planned_change(self, change: dict) -> None:
        actions = change["actions"]
        action = "replace" if "delete" in actions and "create" in actions else actions[0]
        body = {"resource": json_resource(change["address"]), "action": action}
        reason = REPLACE_REASONS.get(change.get("action_reason", ""))
        if action == "replace" and reason:
            body["reason"] = reason
        self.emit("planned_change", f"{change['address']}: Plan to {action}", change=body)

    def hook(self, kind: str, address: str, action: str, identifier: str, elapsed) -> None:
        start, still, noun = HOOK_WORDS[action]
        hook: dict = {"resource": json_resource(address), "action": action}
        with_id = kind == "apply_start" and action != "create"
        with_id = with_id or kind == "apply_complete" and action != "delete"
        if with_id:
            hook.update(id_key="id", id_value=identifier)
        if elapsed is not None:
            hook["elapsed_seconds"] = elapsed
        suffix = f" [id={identifier}]" if with_id else ""
        message = {
            "apply_start": f"{start}...{suffix}",
            "apply_progress": f"Still {still}... [{go_duration(elapsed or 0)} elapsed]",
            "apply_complete": f"{noun} complete after {go_duration(elapsed or 0)}{suffix}",
            "apply_errored": f"{noun} errored after {go_duration(elapsed or 0)}",
        }[kind]
        self.emit(kind, f"{address}: {message}", hook=hook)

    def change_summary(self, add: int, change: int, remove: int, *, destroying: bool) -> None:
        changes = {"add": add, "change": change, "import": 0, "remove": remove, "forget": 0}
        if destroying:  # views/json/change_summary.go
            message = f"Destroy complete! Resources: {remove} destroyed."
        else:
            message = (
                f"Apply complete! Resources: {add} added, {change} changed, {remove} destroyed."
            )
        operation = "destroy" if destroying else "apply"
        self.emit("change_summary", message, changes={**changes, "operation": operation})

    def outputs(self, outputs: dict) -> None:
        # views/json/output.go: a sensitive output's value is left out, its type kept
        shown = {
            name: {k: v for k, v in o.items() if k != "value" or not o["sensitive"]}
            for name, o in outputs.items()
        }
        self.emit("outputs", f"Outputs: {len(shown)}", outputs=shown)

    def diagnostic(self, summary: str, detail: str, address: str | None) -> None:
        body = {"severity": "error", "summary": summary, "detail": detail}
        if address:
            body["address"] = address
        self.emit("diagnostic", f"Error: {summary}", level="error", diagnostic=body)


EFFECT_NAMES = ("replace_hub_load_balancer", "create_hub_load_balancer", "delete_hub_load_balancer")


def run_effect(name: str, params: dict, variables: dict) -> dict:
    """Change the hub's load balancer in moto's server; return the output updates."""
    if name not in EFFECT_NAMES:
        raise FakeError(
            f"scenario apply.effects: unknown effect {name!r}; known: {', '.join(EFFECT_NAMES)}"
        )
    from tests.support import aws_world  # boto3 only for the calls that need it

    where = {}
    for key, variable in (
        ("cluster_name", "cluster_name"),
        ("hub_namespace", "hub_namespace"),
        ("region", "aws_region"),
    ):
        where[key] = params.get(key, variables.get(variable))
        if not where[key]:
            raise FakeError(f"effect {name}: no {key} in its parameters or the plan's variables")
    output = params.get("output", HOSTNAME_OUTPUT)
    hostname = None
    if name != "create_hub_load_balancer":
        aws_world.delete_hub_load_balancers(**where)
    if name != "delete_hub_load_balancer":
        hostname = aws_world.create_hub_load_balancer(**where, kind=params.get("kind", "elbv2"))
    return {output: hostname} if output else {}


# -- entry point ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    global COLOUR
    argv = list(sys.argv[1:] if argv is None else argv)
    COLOUR = "-no-color" not in argv
    call = Call(argv)
    # OpenTofu treats SIGINT and SIGTERM alike (its main.go makeShutdownCh).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, call.on_signal)
    call.started()
    exit_code = 1
    try:
        exit_code = dispatch(argv, call)
    except Failure as failure:
        sys.stdout.flush()
        if JsonUI.active is not None:  # -json: errors are messages on stdout too
            JsonUI.active.diagnostic(failure.summary, failure.detail, failure.address)
        else:
            sys.stderr.write(diagnostic(failure.summary, failure.detail, failure.address))
            if failure.hint:
                sys.stderr.write(failure.hint + "\n")
        exit_code = failure.exit_code
    except FakeError as problem:
        sys.stderr.write(f"fake tofu: {problem}\n")
        exit_code = 1
    finally:
        sys.stdout.flush()
        call.finish(exit_code)
    return exit_code


def dispatch(argv: list[str], call: Call) -> int:
    while argv and argv[0].startswith("-chdir="):
        os.chdir(argv.pop(0).partition("=")[2])
    if not argv:
        raise FakeError("no command given")
    command, args = argv[0], argv[1:]
    if command in COMMANDS:
        return COMMANDS[command](args, read_scenario(), call)
    if command in KNOWN_COMMANDS:
        raise FakeError(f"`tofu {command}` is not implemented by the fake")
    # main.go: an unknown subcommand, with a suggestion when one is close
    close = difflib.get_close_matches(command, sorted(KNOWN_COMMANDS), n=1)
    suggestion = f' Did you mean "{close[0]}"?' if close else ""
    sys.stderr.write(
        f'OpenTofu has no command named "{command}".{suggestion}\n\n'
        "To see all of OpenTofu's top-level commands, run:\n  tofu -help\n\n"
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
