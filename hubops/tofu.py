"""The one module that runs `tofu`: one method per verb over a single runner.

Every run is non-interactive (`-input=false`, `TF_IN_AUTOMATION=1`), uses this environment's own
data directory (`TF_DATA_DIR`), so a directory initialised for another environment can never be
planned or applied, and lets tofu's own output stream through to the operator. stderr is also
kept (its tail) for the error message. Ctrl-C (or SIGTERM from a CI runner) is passed to tofu
once, so that it can release its lock and write its state, and the run then ends as interrupted.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path

from hubops.environments import Environment
from hubops.errors import HubopsError, PreflightError, StateLocked, TofuError, ToolMissing
from hubops.secrets import redact
from hubops.text import shorten

BINARY_VARIABLE = "HUBOPS_TOFU_BIN"
INSTALL_HINT = (
    "install OpenTofu (https://opentofu.org/docs/intro/install/) or set HUBOPS_TOFU_BIN to its path"
)
STDERR_TAIL_LINES = 20
STDERR_KEPT_LINES = 400  # enough to recognise an error box that ends in a long explanation
STATE_DIR = ".hubops"


class Interrupted(TofuError):
    """tofu was stopped by Ctrl-C (or SIGTERM), forwarded to it once."""


def find_tofu() -> str:
    """The tofu binary: `HUBOPS_TOFU_BIN` if set, else `tofu` on PATH."""
    override = os.environ.get(BINARY_VARIABLE)
    if override:
        if os.path.isfile(override) and os.access(override, os.X_OK):
            return override
        raise ToolMissing(
            f"{BINARY_VARIABLE}={override} is not an executable file: point it at the tofu binary, "
            "or unset it to use `tofu` on PATH."
        )
    found = shutil.which("tofu")
    if not found:
        raise ToolMissing(f"No `tofu` on PATH: {INSTALL_HINT}.")
    return found


def data_dir(root: Path, env_name: str) -> Path:
    return root / STATE_DIR / "tofu-data" / env_name


def plan_path(root: Path, env_name: str) -> Path:
    return root / STATE_DIR / "plans" / f"{env_name}.tfplan"


def automation_environ(data_dir: Path | None) -> dict[str, str]:
    """The environment of every tofu run: non-interactive, in its own data directory."""
    environ = dict(os.environ, TF_IN_AUTOMATION="1", TF_INPUT="0")
    if data_dir is not None:
        environ["TF_DATA_DIR"] = str(data_dir)
    return environ


def run_captured(
    binary: str, args: list[str], *, cwd: Path, data_dir: Path | None = None
) -> subprocess.CompletedProcess:
    """Run tofu for a check whose output is parsed rather than shown (fmt, validate)."""
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [binary, *args],
        cwd=cwd,
        env=automation_environ(data_dir),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


class Tofu:
    """tofu for one environment, run from the repository root."""

    def __init__(self, root: Path, env: Environment, *, lock_timeout: str = "0s"):
        self.root = root
        self.env = env
        self.lock_timeout = lock_timeout
        self.binary = find_tofu()
        self.data_dir = data_dir(root, env.name)
        self.plan_file = plan_path(root, env.name)

    # -- verbs ------------------------------------------------------------------------------

    def init(self) -> None:
        """Initialise this environment's backend in its own data directory, then check it took."""
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

    def plan(self, *, destroy: bool = False) -> bool:
        """Write the saved plan file; True when it holds changes."""
        self.plan_file.parent.mkdir(parents=True, exist_ok=True)
        self.plan_file.unlink(missing_ok=True)
        args = [
            "plan",
            "-input=false",
            f"-lock-timeout={self.lock_timeout}",
            f"-var-file={self._rel(self.env.vars_file)}",
            f"-out={self._rel(self.plan_file)}",
            "-detailed-exitcode",
        ]
        if destroy:
            args.append("-destroy")
        return self._run(args, ok_codes=(0, 2)) == 2

    def show_plan(self) -> dict:
        """The saved plan in OpenTofu's JSON plan format."""
        self._require_plan_file()
        return _json(self._run(["show", "-json", self._rel(self.plan_file)], capture=True), "show")

    def apply(self) -> None:
        """Apply exactly the saved plan."""
        self._require_plan_file()
        self._run(
            [
                "apply",
                "-input=false",
                f"-lock-timeout={self.lock_timeout}",
                self._rel(self.plan_file),
            ]
        )

    def outputs(self) -> dict:
        """Root module outputs as {name: value}; sensitive values are left out."""
        raw = _json(self._run(["output", "-json"], capture=True) or "{}", "output")
        return {name: o.get("value") for name, o in raw.items() if not o.get("sensitive")}

    @property
    def initialised(self) -> bool:
        return (self.data_dir / "terraform.tfstate").is_file()

    # -- the runner -------------------------------------------------------------------------

    def _rel(self, path: Path) -> str:
        return os.path.relpath(path, self.root)

    def _require_plan_file(self) -> None:
        if not self.plan_file.is_file():
            raise HubopsError(
                f"The saved plan {self._rel(self.plan_file)} is missing: run "
                f"`invoke plan --env {self.env.name}` (or `invoke apply --env {self.env.name}`, "
                "which plans first) again."
            )

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

    def _next_step(self, verb: str) -> str:
        if verb == "init":
            return (
                f"Check {self._rel(self.env.backend_file)} and `invoke backend --env "
                f"{self.env.name} --check`, then run again."
            )
        return "Fix what tofu reports above, then run again."

    def _run(self, args: list[str], *, capture: bool = False, ok_codes=(0,)):
        """Run tofu; return its stdout when `capture`, else its exit status."""
        command = [self.binary, *args]
        shown = ["tofu", *args]
        # What we printed must come before tofu's own output, which bypasses our buffers.
        sys.stdout.flush()
        print(f"$ {shlex.join(shown)}", file=sys.stderr, flush=True)
        try:
            process = subprocess.Popen(
                command,
                cwd=self.root,
                env=automation_environ(self.data_dir),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if capture else None,
                stderr=subprocess.PIPE,
                text=True,
                # Its own session: a terminal's Ctrl-C reaches only us, and we forward it once.
                start_new_session=True,
            )
        except OSError as exc:
            raise ToolMissing(
                f"Cannot run {self.binary}: {exc.strerror}; {INSTALL_HINT}."
            ) from None

        kept: deque[str] = deque(maxlen=STDERR_KEPT_LINES)
        reader = threading.Thread(target=_tee, args=(process.stderr, kept), daemon=True)
        reader.start()
        with _ForwardInterrupts(process) as forwarder:
            stdout = process.stdout.read() if capture else None
            returncode = process.wait()
        reader.join()

        stderr = "\n".join(kept)
        stderr_tail = "\n".join(list(kept)[-STDERR_TAIL_LINES:])
        if forwarder.interrupted:
            raise Interrupted(
                shown, returncode, stderr_tail, "Interrupted: tofu was asked to stop."
            )
        if returncode not in ok_codes:
            if "Error acquiring the state lock" in stderr:
                raise StateLocked(shown, returncode, stderr_tail, _lock_hint(stderr, self.env))
            raise TofuError(shown, returncode, stderr_tail, self._next_step(args[0]))
        return stdout if capture else returncode


def _json(text: str, verb: str):
    try:
        return json.loads(text)
    except ValueError:
        raise HubopsError(
            f"`tofu {verb} -json` printed something that is not JSON "
            f"({shorten(text, 80)!r}): check that the tofu in use is OpenTofu ({INSTALL_HINT})."
        ) from None


def _tee(stream, tail: deque) -> None:
    """Pass tofu's stderr through (and keep it for the error message), credentials removed."""
    for line in stream:
        line = redact(line)
        sys.stderr.write(line)
        sys.stderr.flush()
        tail.append(line.rstrip("\n"))


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


class _ForwardInterrupts:
    """While tofu runs, SIGINT/SIGTERM to us are passed to tofu as one SIGINT."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.interrupted = False
        self._previous: dict = {}

    def _handle(self, signum, frame) -> None:
        if self.interrupted:
            print(
                "hubops: tofu was already asked to stop; waiting for it to finish cleanly.",
                file=sys.stderr,
                flush=True,
            )
            return
        self.interrupted = True
        print(
            "hubops: passing the interrupt to tofu once; waiting for it to stop cleanly.",
            file=sys.stderr,
            flush=True,
        )
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
