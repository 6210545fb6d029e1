"""The call record: one JSON line when a call starts and one when it ends (FAKE_TOFU_LOG)."""

from __future__ import annotations

import json
import os
import signal
import uuid

# What hubops sets for every engine run (and, for a supervised one, its CLI configuration).
HUBOPS_SETTINGS = ("TF_DATA_DIR", "TF_IN_AUTOMATION", "TF_INPUT", "TF_CLI_CONFIG_FILE")


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
            "env": {k: os.environ.get(k) for k in HUBOPS_SETTINGS},
            # Every TF_* name it was given (values may be secrets): what the shell passed on.
            "tf_variables": sorted(k for k in os.environ if k.startswith("TF_")),
            # Every variable's name it was given (a supervised run's engine gets allowed ones).
            "environ_names": sorted(os.environ),
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
