"""The "remote" state of one backend (FAKE_TOFU_STATE_DIR), and its lock."""

from __future__ import annotations

import json
import os
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

from tests.fake_tofu.output import go_time, value_type
from tests.fake_tofu.texts import (
    DEFAULT_VERSION,
    DYNAMODB_LOCK_HELD,
    LOCK_ERROR,
    S3_LOCK_HELD,
    Failure,
    FakeError,
)


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
