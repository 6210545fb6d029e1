"""Files the fake reads: backend.hcl and *.tfvars, the scenario, the data directory."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from tests.fake_tofu.texts import BACKEND_INIT, Failure, FakeError

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
    "": {"version", "outputs", "sensitive_outputs", "null_outputs", "lock", "init", "plan",
         "destroy_plan", "apply", "validate", "fmt"},
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


# `module "NAME" { ... source = "./PATH" ... }`: enough of HCL for the tree's local module calls.
_MODULE_CALL = re.compile(r'^module\s+"([^"]+)"\s*\{(.*?)^\}', re.M | re.S)
_SOURCE = re.compile(r'^\s*source\s*=\s*"([^"]+)"', re.M)
_CONFIG_SUFFIXES = (".tf", ".tf.json", ".tofu", ".tofu.json")


def configuration_snapshot(root: Path) -> dict[str, bytes]:
    """The zip members a saved plan carries of its configuration, as the engine writes them
    (internal/configs/configload/loader_snapshot.go): `tfconfig/modules.json` (each module's key,
    source and folder) and `tfconfig/m-KEY/FILE`, every configuration file of each module's folder,
    and the working directory's `.terraform.lock.hcl`."""
    members: dict[str, bytes] = {}
    manifest = []

    def load(key: str, source: str | None, folder: str) -> None:
        entry = {"Key": key, "Dir": folder} | ({"Source": source} if source else {})
        manifest.append(entry)
        path = root / folder
        for file in sorted(path.iterdir()):
            if file.is_file() and file.name.endswith(_CONFIG_SUFFIXES) and file.name[0] not in ".#":
                content = file.read_bytes()
                members[f"tfconfig/m-{key}/{file.name}"] = content
                for name, body in _MODULE_CALL.findall(content.decode("utf-8", "replace")):
                    found = _SOURCE.search(body)
                    if found and found[1].startswith(("./", "../")):
                        child = os.path.normpath(os.path.join(folder, found[1]))
                        load(f"{key}.{name}" if key else name, found[1], child)

    load("", None, ".")
    members["tfconfig/modules.json"] = json.dumps(manifest, indent=2).encode()
    lock = root / ".terraform.lock.hcl"
    if lock.is_file():
        members[".terraform.lock.hcl"] = lock.read_bytes()
    return members
