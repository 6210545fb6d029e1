"""The one module that runs `tofu`: one method per verb over a single runner.

Every run is non-interactive (`-input=false`, `TF_IN_AUTOMATION=1`), uses this environment's own
data directory (`TF_DATA_DIR`), so a directory initialised for another environment can never be
planned or applied, and never inherits the shell's engine-altering variables (`TF_CLI_ARGS*`,
`TF_VAR_*`, `TF_WORKSPACE`: `TF_CLI_ARGS_plan=-destroy` would turn an apply into a destroy; the
state's encryption and how often it is written, a provider process to attach to, cached
providers no lock file records, logs that hold secrets), which are removed and named; a
supervised run's engine gets only allowed variables and a CLI configuration hubops writes
(`hubops.adapters.engine_config`). tofu's output is relayed by this process rather than
shared with it, so a closed terminal or pipe cannot kill tofu mid-apply; stderr's tail is also
kept for the error message. A stop signal (Ctrl-C, SIGTERM, SIGHUP) is passed to tofu once, so
that it can release its lock and write its state, and the run then ends as interrupted. A tofu
that runs longer than `HUBOPS_TOFU_TIMEOUT` seconds (a hung provider, a lock wait gone wrong) is
stopped the same way, then killed if it does not stop within a grace period, and the run ends as
timed out. Its
colours (which it writes even into a pipe) are turned off with `-no-color` whenever our stdout is
not a terminal or `NO_COLOR` is set, so logs, records and job summaries hold plain text.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hubops.adapters import engine_config
from hubops.adapters.engine import INSTALL_HINT, find_engine_binary
from hubops.adapters.engine_diagnostics import parse_errors
from hubops.adapters.output import passthrough, warn
from hubops.adapters.secrets import redact
from hubops.adapters.settings import number as number_setting
from hubops.adapters.signals import ForwardStops
from hubops.facts import settings
from hubops.facts.environments import Environment
from hubops.facts.errors import HubopsError, PreflightError, StateLocked, TofuError, ToolMissing
from hubops.facts.layout import engine_config_dir, tofu_data_dir
from hubops.facts.text import shorten

TIMEOUT_VARIABLE = settings.TOFU_TIMEOUT
# One tofu command's bound: creating a cluster and its node groups takes well under an hour.
# How long a tofu asked to stop (after the bound) may take to write its state and release its lock.
STOP_GRACE_SECONDS = 300.0
STDERR_TAIL_LINES = 20
STDERR_KEPT_LINES = 400  # enough to recognise an error box that ends in a long explanation
_ANSI_CODES = re.compile(r"\x1b\[[0-9;]*m")


# Variables through which a shell would change what the engine does, not just where it looks:
# its arguments and inputs, the workspace, the state's encryption (TF_ENCRYPTION) and how often a
# half-done state is written, a running provider to attach to instead of the installed one, and
# logs (at TRACE they hold every sensitive value) written to a file.
ENGINE_ALTERING_PREFIXES = ("TF_CLI_ARGS", "TF_VAR_", "TF_LOG")
ENGINE_ALTERING_NAMES = (
    "TF_WORKSPACE",
    "TF_ENCRYPTION",
    "TF_REATTACH_PROVIDERS",
    "TF_STATE_PERSIST_INTERVAL",
)
# Cached providers that no lock file records: validate may use them (nothing it installs is
# applied), a plan or an apply never.
LOCK_BYPASS = "TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE"


@dataclass(frozen=True)
class Outputs:
    """What `tofu output -json` says about the state's root outputs."""

    names: frozenset[str]  # every output, sensitive ones included
    values: dict  # name -> value, sensitive ones left out
    sensitive: frozenset[str]


class Interrupted(TofuError):
    """tofu was stopped by a stop signal (Ctrl-C, SIGTERM, SIGHUP), forwarded to it once."""


class TimedOut(Interrupted):
    """tofu ran past `HUBOPS_TOFU_TIMEOUT` and was asked to stop (and killed if it did not)."""

    def __init__(self, command: list[str], returncode: int, stderr_tail: str, hint: str):
        super().__init__(command, returncode, stderr_tail, hint)
        late = f"`{' '.join(command)}` did not finish in time"
        message = late + (f"; its last lines of stderr:\n{stderr_tail}" if stderr_tail else "")
        self.args = (f"{message}\n{hint}",)
        self.brief = late + (" (its errors are above)" if stderr_tail else "") + f"\n{hint}"


def timeout_seconds() -> float:
    """The bound on one tofu command's time (`HUBOPS_TOFU_TIMEOUT`, default two hours)."""
    return number_setting(TIMEOUT_VARIABLE)


def command_name(binary: str) -> str:
    """How the engine at `binary` is named in the commands shown: `terraform` for Terraform
    (HUBOPS_TOFU_BIN=terraform), else `tofu`, whatever the file is called."""
    return "terraform" if "terraform" in Path(binary).name.lower() else "tofu"


def colourless() -> bool:
    """Whether the engine should draw without colour: its codes would land in a pipe, a log file
    or a job summary, and `NO_COLOR` (https://no-color.org) asks for none."""
    return bool(os.environ.get("NO_COLOR")) or not sys.stdout.isatty()


def data_dir(root: Path, env_name: str) -> Path:
    return tofu_data_dir(root, env_name)


def engine_altering_variables(environ=None, *, validating: bool = False) -> list[str]:
    """The names of the shell's variables that would change what the engine does."""
    environ = os.environ if environ is None else environ
    names = ENGINE_ALTERING_NAMES if validating else (*ENGINE_ALTERING_NAMES, LOCK_BYPASS)
    return sorted(
        name for name in environ if name.startswith(ENGINE_ALTERING_PREFIXES) or name in names
    )


def automation_environ(data_dir: Path | None, *, validating: bool = False) -> dict[str, str]:
    """The environment of every tofu run: non-interactive, in its own data directory, with none
    of the shell's engine-altering variables."""
    removed = set(engine_altering_variables(validating=validating))
    environ = {k: v for k, v in os.environ.items() if k not in removed}
    environ.update(TF_IN_AUTOMATION="1", TF_INPUT="0")
    if data_dir is not None:
        environ["TF_DATA_DIR"] = str(data_dir)
    return environ


def run_captured(
    binary: str, args: list[str], *, cwd: Path, data_dir: Path | None = None
) -> subprocess.CompletedProcess:
    """Run tofu for a check whose output is parsed rather than shown (fmt, validate)."""
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
    bound = timeout_seconds()
    try:
        return subprocess.run(
            [binary, *args],
            cwd=cwd,
            env=automation_environ(data_dir, validating=True),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            timeout=bound,
        )
    except subprocess.TimeoutExpired:
        raise TimedOut(
            [Path(binary).name, *args], -1, "", _timeout_hint(bound, killed=True)
        ) from None


class Tofu:
    """tofu for one environment, run from the repository root."""

    def __init__(
        self,
        root: Path,
        env: Environment,
        *,
        lock_timeout: str = "0s",
        relay_to_stderr: bool = False,
    ):
        self.root = root
        # True when our stdout is a document of its own (`--json`): tofu's output goes beside it.
        self.relay_to_stderr = relay_to_stderr
        self.env = env
        self.lock_timeout = lock_timeout
        self.timeout = timeout_seconds()
        self.binary = find_engine_binary(root=root)
        self.data_dir = data_dir(root, env.name)
        # The state's outputs as last read: read again only after what can change them (init, an
        # apply), so the closing's routing snapshot and health check share one read.
        self._outputs: Outputs | None = None
        self.cli_config = None
        if env.supervised:
            installation = engine_config.operator_installation(env.name)
            self.cli_config = engine_config.write_cli_config(
                engine_config_dir(root, env.name), installation
            )
            ignored = engine_config.withheld_variables(os.environ)
        else:
            ignored = engine_altering_variables()
        if ignored:
            warn(
                f"hubops: ignoring {', '.join(ignored)} from the shell: what tofu does comes from "
                "the committed files only."
            )

    def environ(self) -> dict[str, str]:
        """The engine's environment: a supervised run's holds allowed variables only."""
        environ = automation_environ(self.data_dir)
        if self.cli_config is None:
            return environ
        return engine_config.supervised_environ(environ, self.cli_config)

    # -- verbs ------------------------------------------------------------------------------

    def init(self) -> None:
        """Initialise this environment's backend in its own data directory, then check it took."""
        self._outputs = None
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._run(
            [
                "init",
                "-input=false",
                "-reconfigure",
                f"-backend-config={self._rel(self.env.backend_file)}",
            ]
        )
        self._check_initialised_backend()

    def plan(self, plan_file: Path, *, destroy: bool = False) -> bool:
        """Write a saved plan to `plan_file`; True when it holds changes."""
        plan_file.unlink(missing_ok=True)
        args = [
            "plan",
            "-input=false",
            f"-lock-timeout={self.lock_timeout}",
            *self._var_files(),
            f"-out={self._rel(plan_file)}",
            "-detailed-exitcode",
        ]
        if destroy:
            args.append("-destroy")
        return self._run(args, ok_codes=(0, 2)) == 2

    def refresh_plan(self, plan_file: Path) -> bool:
        """Write a refresh-only plan (it changes nothing) to `plan_file`; True when tofu's
        -detailed-exitcode says 2. Not a drift verdict: OpenTofu 1.10 says 0 whatever the refresh
        found (opentofu/opentofu#3107), Terraform 2 for a state difference it does not show.
        The plan's `resource_drift` (`show_plan`) says what drifted."""
        plan_file.unlink(missing_ok=True)
        args = [
            "plan",
            "-refresh-only",
            "-input=false",
            f"-lock-timeout={self.lock_timeout}",
            *self._var_files(),
            f"-out={self._rel(plan_file)}",
            "-detailed-exitcode",
        ]
        return self._run(args, ok_codes=(0, 2)) == 2

    def _var_files(self) -> list[str]:
        """The environment's variables files, in order (a later one's values win)."""
        return [f"-var-file={self._rel(path)}" for path in self.env.var_files]

    def show_rendered(self, plan_file: Path) -> None:
        """A saved plan as the engine draws it (every change, attribute by attribute), relayed."""
        self._run(["show", self._rel(plan_file)])

    def show_plan(self, plan_file: Path) -> dict:
        """A saved plan in OpenTofu's JSON plan format."""
        return _json(self._run(["show", "-json", self._rel(plan_file)], capture=True), "show")

    def apply(self, plan_file: Path, on_start: Callable[[], None] | None = None) -> None:
        """Apply exactly the saved plan `plan_file`, showing its progress (hubops.adapters.progress)
        from the engine's machine-readable output, where its errors arrive too; `on_start` is called
        once the engine is seen applying (not for a plan it refuses as stale)."""
        self._outputs = None
        self._run(
            [
                "apply",
                "-input=false",
                f"-lock-timeout={self.lock_timeout}",
                "-json",
                self._rel(plan_file),
            ],
            machine_readable=True,
            on_start=on_start,
        )

    def outputs(self) -> Outputs:
        """The root outputs in the state; sensitive ones are named, their values not kept."""
        if self._outputs is None:
            self._outputs = self._read_outputs()
        return self._outputs

    def _read_outputs(self) -> Outputs:
        raw = _json(self._run(["output", "-json"], capture=True) or "{}", "output")
        if not isinstance(raw, dict):
            raise HubopsError(
                f"`tofu output -json` printed {shorten(json.dumps(raw), 80)!r}, not an object: "
                f"check that the tofu in use is OpenTofu ({INSTALL_HINT})."
            )
        sensitive = frozenset(
            n for n, o in raw.items() if isinstance(o, dict) and o.get("sensitive")
        )
        return Outputs(
            names=frozenset(raw),
            values={
                n: o.get("value")
                for n, o in raw.items()
                if isinstance(o, dict) and n not in sensitive
            },
            sensitive=sensitive,
        )

    @property
    def initialised(self) -> bool:
        return (self.data_dir / "terraform.tfstate").is_file()

    # -- the runner -------------------------------------------------------------------------

    def _rel(self, path: Path) -> str:
        return os.path.relpath(path, self.root)

    def _check_initialised_backend(self) -> None:
        """The data directory must point at this environment's state, not another's."""
        try:
            backend = json.loads((self.data_dir / "terraform.tfstate").read_text())["backend"]
            config = backend["config"]
        except (OSError, ValueError, KeyError, TypeError):
            raise PreflightError(
                f"tofu init did not record a backend in {self._rel(self.data_dir)}: delete that "
                "folder and run again."
            ) from None
        expected = {"bucket": self.env.backend.bucket, "key": self.env.backend.key}
        found = {name: config.get(name) for name in expected}
        if found != expected:
            raise PreflightError(
                f"{self._rel(self.data_dir)} is initialised for bucket={found['bucket']} "
                f"key={found['key']}, not for environment {self.env.name} "
                f"(bucket={expected['bucket']} key={expected['key']}): delete that folder and "
                "run again."
            )

    def _next_step(self, verb: str, stderr: str) -> str:
        if verb == "init":
            providers = sorted(
                {e.unavailable_provider for e in parse_errors(stderr) if e.unavailable_provider}
            )
            if providers:  # not the backend: the providers' installation
                command = command_name(self.binary)
                return (
                    f"{command} could not install {', '.join(providers)} (no network to their "
                    "registry, and not in a filesystem mirror or plugin cache): "
                    f"{engine_config.provider_supply_recipe(command)}, then run again."
                )
            return (
                f"Check {self._rel(self.env.backend_file)} and `invoke backend --env "
                f"{self.env.name} --check`, then run again."
            )
        return "Fix what tofu reports above, then run again."

    def _run(
        self,
        args: list[str],
        *,
        capture: bool = False,
        ok_codes=(0,),
        machine_readable: bool = False,
        on_start: Callable[[], None] | None = None,
    ):
        """Run tofu; return its stdout when `capture`, else its exit status.

        `machine_readable`: stdout is the engine's JSON UI (`-json`), rendered as progress lines
        (`on_start` called once the engine is seen applying);
        its diagnostics go to stderr and are kept with stderr's tail, for the error and the lock.
        """
        # Shown and reported without -no-color, which changes how tofu draws, not what it does.
        shown = [command_name(self.binary), *args]
        if colourless():
            args = [args[0], "-no-color", *args[1:]]
        command = [self.binary, *args]
        passthrough(sys.stdout, "")  # a flush: what we printed comes before tofu's output
        warn(f"$ {shlex.join(shown)}")
        try:
            process = subprocess.Popen(
                command,
                cwd=self.root,
                env=self.environ(),
                stdin=subprocess.DEVNULL,
                # Never the task's own streams: tofu must outlive a closed terminal or pipe.
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                # Its own session: a terminal's signals reach only us, and we forward them once.
                start_new_session=True,
            )
        except OSError as exc:
            raise ToolMissing(
                f"Cannot run {self.binary}: {exc.strerror}; {INSTALL_HINT}."
            ) from None

        kept: deque[str] = deque(maxlen=STDERR_KEPT_LINES)
        captured: list[str] = []
        progress = _progress(kept, on_start) if machine_readable else None
        if capture:
            stdout_reader = (_collect, (process.stdout, captured))
        elif progress is not None:
            stdout_reader = (_render, (process.stdout, progress))
        else:
            relay = sys.stderr if self.relay_to_stderr else sys.stdout
            stdout_reader = (_tee, (process.stdout, relay, None))
        readers = [
            threading.Thread(target=_tee, args=(process.stderr, sys.stderr, kept), daemon=True),
            threading.Thread(target=stdout_reader[0], args=stdout_reader[1], daemon=True),
        ]
        killed: bool | None = None  # None: finished within the bound
        with ForwardStops(process, warn) as forwarder:
            for reader in readers:
                reader.start()
            try:
                returncode = process.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                killed = _stop_overdue(process, self.timeout, forwarder)
                returncode = process.wait()
            _end_leftovers(process)
            for reader in readers:
                reader.join()
            for stream in (process.stdout, process.stderr):
                stream.close()  # read to its end: closed now, not whenever it is collected
        if progress is not None:
            progress.finish()  # the final count, before any error
        stdout = "".join(captured)

        stderr = "\n".join(kept)
        stderr_tail = "\n".join(list(kept)[-STDERR_TAIL_LINES:])
        if killed is not None:
            raise TimedOut(shown, returncode, stderr_tail, _timeout_hint(self.timeout, killed))
        if forwarder.interrupted_by:
            raise Interrupted(
                shown,
                returncode,
                stderr_tail,
                f"Interrupted by {forwarder.interrupted_by}: tofu was asked to stop.",
            )
        if returncode not in ok_codes:
            if "Error acquiring the state lock" in stderr:
                raise StateLocked(shown, returncode, stderr_tail, _lock_hint(stderr, self.env))
            raise TofuError(shown, returncode, stderr_tail, self._next_step(args[0], stderr))
        return stdout if capture else returncode


def _stop_overdue(process: subprocess.Popen, bound: float, forwarder: ForwardStops) -> bool:
    """Ask an overdue tofu to stop (once), then kill it after the grace; True when killed."""
    import signal

    if forwarder.interrupted_by is None:
        warn(
            f"hubops: tofu has run for {bound:g}s, the bound of {TIMEOUT_VARIABLE}; passing it "
            f"an interrupt once and waiting up to {STOP_GRACE_SECONDS:g}s for it to stop cleanly."
        )
        forwarder.interrupted_by = "timeout"
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=STOP_GRACE_SECONDS)
        return False
    except subprocess.TimeoutExpired:
        warn(f"hubops: tofu did not stop within {STOP_GRACE_SECONDS:g}s; killing it.")
        process.kill()
        return True


def _timeout_hint(bound: float, killed: bool) -> str:
    how = "killed after it did not stop" if killed else "asked to stop, and stopped"
    return (
        f"tofu did not finish within {bound:g}s ({TIMEOUT_VARIABLE}) and was {how}. Find out "
        "what it was waiting for (a state lock, a provider, the network, the cluster), then run "
        f"again; raise {TIMEOUT_VARIABLE} if the work really takes longer."
    )


def _json(text: str, verb: str):
    try:
        return json.loads(text)
    except ValueError:
        raise HubopsError(
            f"`tofu {verb} -json` printed something that is not JSON "
            f"({shorten(text, 80)!r}): check that the tofu in use is OpenTofu ({INSTALL_HINT})."
        ) from None


def _end_leftovers(process: subprocess.Popen) -> None:
    """tofu has exited: end what it left running in its session (an interrupted provisioner's
    command, say), which would otherwise run on unseen and hold our pipes open."""
    import signal

    try:
        os.killpg(process.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass  # nothing left


def _tee(stream, target, tail: deque | None) -> None:
    """Relay one of tofu's streams to ours, credentials removed; keep it, without the colour
    codes the engine writes even into a pipe, for the error message and the lock hint."""
    for line in stream:
        line = redact(line)
        passthrough(target, line)
        if tail is not None:
            tail.append(_ANSI_CODES.sub("", line).rstrip("\n"))


def _progress(kept: deque, on_start: Callable[[], None] | None = None):
    """The apply's progress lines on stdout; the engine's diagnostics on stderr, and kept (without
    colour codes) beside stderr's tail for the error message and the lock hint."""
    from hubops.adapters.progress import ApplyProgress

    def out(text: str) -> None:
        passthrough(sys.stdout, redact(text) + "\n")

    def err(text: str) -> None:
        text = redact(text)
        passthrough(sys.stderr, text + "\n")
        kept.append(_ANSI_CODES.sub("", text))

    return ApplyProgress(out=out, err=err, on_start=on_start)


def _render(stream, progress) -> None:
    """The engine's JSON UI, one message a line, through the progress renderer. A line it cannot
    render is relayed as it came: this pipe must keep flowing, or tofu would stop mid-apply."""
    for line in stream:
        try:
            progress.feed(line)
        except Exception:  # a bug in the rendering must not hold up the engine
            passthrough(sys.stdout, redact(line))


def _collect(stream, into: list[str]) -> None:
    into.append(stream.read())


def _lock_hint(stderr_tail: str, env: Environment) -> str:
    info = {}
    for line in stderr_tail.splitlines():
        key, sep, value = line.strip(" │").partition(":")
        if sep and key.strip() in {"ID", "Who", "Operation", "Created"}:
            info[key.strip()] = value.strip()
    held = ", ".join(f"{k}: {v}" for k, v in info.items()) or "see Lock Info above"
    return (
        f"The state of {env.name} is locked by another run ({held}). Wait for it to finish, or "
        "rerun with --lock-timeout=10m to wait for the lock. If that run is dead, agree with its "
        f"owner, then `tofu force-unlock {info.get('ID', 'LOCK_ID')}`."
    )
