"""What the guide's rules share: an environment's variable files, how a value and a finding are
shown, the hub module's values read through its locals, and the base of the rule groups
(`environment_rules`, `hub_rules`, `production_rules`, `walls_rules`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from hubops.adapters.hcl import Attr, Block, ParsedFile
from hubops.facts.environments import VARS_FILE
from hubops.tfcheck.structure import Finding, Module, Tree

MISSING = object()
HUB_MODULE = "modules/hub"
LOCAL_REFERENCE = re.compile(r"\$\{local\.(\w+)\}")


@dataclass
class EnvironmentFiles:
    name: str
    directory: Path
    var_files: list[ParsedFile]
    backend: ParsedFile | None

    def setting(self, name: str) -> tuple[ParsedFile, Attr] | None:
        """Where this environment sets `name` (a later file overrides an earlier one)."""
        found = None
        for parsed in self.var_files:
            if name in parsed.attrs:
                found = (parsed, parsed.attrs[name])
        return found

    @property
    def main_vars_path(self) -> Path:
        return self.var_files[0].path if self.var_files else self.directory / VARS_FILE


def as_text(value: object) -> str:
    """A value as a finding quotes it (JSON), or "not set"."""
    if value is MISSING:
        return "not set"
    return json.dumps(value)


def violation(path: str, line: int, problem: str, rule: str, fix: str) -> Finding:
    return Finding(path, line, f'{problem} (rule "{rule}"): {fix}')


class RuleBase:
    """What every group of rules works with: the tree, its root module, the findings so far."""

    def __init__(self, tree: Tree, root: Module):
        self.tree = tree
        self.root = root
        self.findings: list[Finding] = []

    def value(self, env: EnvironmentFiles, name: str) -> tuple[str, int, object, bool]:
        """(path, line, effective value, whether the environment sets it itself)."""
        setting = env.setting(name)
        if setting:
            parsed, attr = setting
            return self.tree.rel(parsed.path), attr.line, attr.value, True
        var = self.root.variables.get(name)
        value = var.default if var and var.has_default else MISSING
        return self.tree.rel(env.main_vars_path), 1, value, False

    def exact(self, env: EnvironmentFiles, name: str, expected: object, rule: str) -> None:
        path, line, value, here = self.value(env, name)
        if value != expected or type(value) is not type(expected):
            shown = (
                as_text(value)
                if here or value is MISSING
                else (f"{as_text(value)} (the default in variables.tf)")
            )
            self.findings.append(
                violation(
                    path,
                    line,
                    f"{name} is {shown}, but {env.name} needs {name} = {as_text(expected)}",
                    rule,
                    f"set {name} = {as_text(expected)}",
                )
            )

    def blocks_in(self, directory: Path, kind: str) -> list[tuple[ParsedFile, Block]]:
        module = self.tree.module(directory.resolve()) if directory.is_dir() else None
        if module is None:
            return []
        return [(f, b) for f in module.files for b in f.blocks if b.type == kind]

    def hub_locals(self) -> dict[str, tuple[ParsedFile, Attr]]:
        """The hub module's locals by name (its charts' values among them)."""
        return {
            name: (parsed, attr)
            for parsed, block in self.blocks_in(self.tree.root / HUB_MODULE, "locals")
            for name, attr in block.attrs.items()
        }

    def resources(self, kind: str) -> list[tuple[ParsedFile, Block]]:
        found = []
        folder = self.tree.root / "modules"
        directories = [self.tree.root]
        if folder.is_dir():
            directories += sorted(p for p in folder.iterdir() if p.is_dir())
        for directory in directories:
            found += [
                (parsed, block)
                for parsed, block in self.blocks_in(directory, "resource")
                if block.labels[:1] == [kind]
            ]
        return found


def value_of(block: Block, name: str) -> object:
    return block.attrs[name].value if name in block.attrs else None


def path_in(value: object, *keys: str) -> object:
    """`value[k1][k2]...`, None where a key or a dict is missing."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def resolve_value(value: object, found: dict[str, tuple[ParsedFile, Attr]]) -> object:
    """A value that is exactly `${local.x}` (or `${local.x.y}`) replaced by that local's value."""
    match = (
        re.fullmatch(r"\$\{local\.(\w+)((?:\.\w+)*)\}", value) if isinstance(value, str) else None
    )
    if not match or match.group(1) not in found:
        return value
    resolved = found[match.group(1)][1].value
    for key in filter(None, match.group(2).split(".")):
        resolved = resolved.get(key) if isinstance(resolved, dict) else None
    return resolved


def resolve_locals(text: str, found: dict[str, tuple[ParsedFile, Attr]], depth: int = 5) -> str:
    """`${local.x}` replaced by x's value where that is a plain string (nested a few deep)."""
    if text.startswith('${"') and text.endswith('"}'):  # a template, kept as its source
        text = text[3:-2]

    def value(match: re.Match) -> str:
        local = found.get(match.group(1))
        if local is None or not isinstance(local[1].value, str) or depth == 0:
            return match.group(0)
        return resolve_locals(local[1].value, found, depth - 1)

    return LOCAL_REFERENCE.sub(value, text)
