"""Fixture plugin: the project's fake `tofu` (tests/fake_tofu/) first on PATH.

`fake_tofu` gives each test its own launcher folder, scenario file, call log and "remote" state,
and applies the environment to os.environ too, so code run in-process finds the same fake.
The scenario format is documented in tests/fake_tofu/fake_tofu.py.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class FakeTofu:
    bin_dir: Path
    env: dict[str, str]
    scenario_path: Path
    log_path: Path
    state_dir: Path

    def scenario(self, scenario: dict) -> None:
        """Say what the next calls find and do (may be called again mid-test)."""
        self.scenario_path.write_text(json.dumps(scenario, indent=2))

    def log(self) -> list[dict]:
        """One record per call, in the order they started: argv, cwd, env (the three TF_* settings
        hubops makes, and the CLI configuration it writes for a supervised run), tf_variables
        (every TF_* name it got), environ_names (every variable's), signals, exit_code.

        A call still running (or killed) has exit_code None.
        """
        records: dict[str, dict] = {}
        if self.log_path.is_file():
            for line in self.log_path.read_text().splitlines():
                event = json.loads(line)
                if event["event"] == "start":
                    records[event["id"]] = {
                        "argv": event["argv"],
                        "cwd": event["cwd"],
                        "env": event["env"],
                        "tf_variables": event["tf_variables"],
                        "environ_names": event["environ_names"],
                        "pid": event["pid"],
                        "signals": [],
                        "effects": [],
                        "exit_code": None,
                    }
                else:
                    records[event["id"]].update(
                        signals=event["signals"],
                        effects=event["effects"],
                        exit_code=event["exit_code"],
                    )
        return list(records.values())

    def calls(self) -> list[list[str]]:
        """The arguments of each call (without `tofu` itself), in order."""
        return [record["argv"] for record in self.log()]

    def initialised_backend(self, data_dir: Path) -> dict | None:
        """The backend config `tofu init` recorded in DATA_DIR, or None when it was not run."""
        try:
            return json.loads((Path(data_dir) / "terraform.tfstate").read_text())["backend"][
                "config"
            ]
        except (OSError, ValueError, KeyError):
            return None


def write_launcher(bin_dir: Path, settings: dict[str, str] | None = None) -> Path:
    """An executable `tofu` that runs the fake with this interpreter (exec: signals reach it).

    Without `site` (`python -S`): the fake needs only the standard library, and skipping the
    site-packages' import hooks (`.pth` files) makes each engine call start sooner; the one path
    that needs boto3 (an apply's effects on moto) adds site-packages itself (apply.run_effect).

    `settings` (the fake's own FAKE_TOFU_* variables) are written into it: a supervised run hands
    the engine only the variables it allows, as it would the real one."""
    launcher = bin_dir / "tofu"
    root = shlex.quote(str(REPO_ROOT))
    exports = "".join(
        f"{name}={shlex.quote(value)}\nexport {name}\n" for name, value in (settings or {}).items()
    )
    launcher.write_text(
        "#!/bin/sh\n"
        "# The project's fake OpenTofu: tests/fake_tofu/fake_tofu.py\n"
        f'PYTHONPATH={root}${{PYTHONPATH:+":$PYTHONPATH"}}\n'
        "export PYTHONPATH\n"
        f"{exports}"
        f'exec {shlex.quote(sys.executable)} -S -m tests.fake_tofu "$@"\n'
    )
    launcher.chmod(0o755)
    return launcher


def make_fake_tofu(home: Path) -> FakeTofu:
    """The fake `tofu` in `home/bin`, with an empty scenario, a fresh log and fresh state; its
    `env` puts it first on PATH."""
    bin_dir = home / "bin"
    bin_dir.mkdir(parents=True)
    fake = FakeTofu(
        bin_dir=bin_dir,
        env={},
        scenario_path=home / "scenario.json",
        log_path=home / "calls.jsonl",
        state_dir=home / "state",
    )
    fake.scenario({})
    settings = {
        "FAKE_TOFU_SCENARIO": str(fake.scenario_path),
        "FAKE_TOFU_LOG": str(fake.log_path),
        "FAKE_TOFU_STATE_DIR": str(fake.state_dir),
    }
    write_launcher(bin_dir, settings)
    fake.env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", **settings}
    return fake


# Its tests start a part of the world (tests/support/tiers.py).
FIXTURE_MARKS = {"fake_tofu": "world"}


@pytest.fixture
def fake_tofu(tmp_path_factory, monkeypatch) -> FakeTofu:
    """The fake `tofu` first on PATH, with an empty scenario, a fresh log and fresh state."""
    fake = make_fake_tofu(tmp_path_factory.mktemp("fake-tofu"))
    for name, value in fake.env.items():
        monkeypatch.setenv(name, value)
    return fake
