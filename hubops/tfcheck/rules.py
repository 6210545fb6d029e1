"""The environments: their variable files against the root module, and the guide's rules.

`environments/ENV/` folders without configuration files of their own hold values for the root
module: every root variable without a default must be set there, and nothing undeclared may be.
The guide (seed/operations-readme.md) then fixes how its three environments differ; POLICY holds
that, and the rules below it hold what they share. The guide's rules apply only to the guide's
environments, so other trees checked with `--path` are judged by the structural checks alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from hubops.environments import (
    BACKEND_FILE,
    ENVIRONMENTS_DIR,
    VARS_FILE,
    promotion_sorted,
)
from hubops.tfcheck.parse import Attr, ParsedFile
from hubops.tfcheck.structure import VARS_SUFFIXES, Finding, Module, Tree, config_files


@dataclass(frozen=True)
class Policy:
    authentication: str
    domain: bool
    user_directories: bool
    supervised: bool


# How the guide's environments differ. Everything else about them is shared.
POLICY = {
    "cae-testing": Policy(
        authentication="dummy", domain=False, user_directories=False, supervised=False
    ),
    "cae-dev": Policy(
        authentication="cognito", domain=True, user_directories=False, supervised=False
    ),
    "cae": Policy(authentication="cognito", domain=True, user_directories=True, supervised=True),
}
# Node groups for user servers and Dask workers cost nothing while nobody works.
SCALE_TO_ZERO = ("main", "dask-worker")
# One image repository for all environments: production follows the newest image.
SHARED_IMAGE_VARIABLE = "user_image_repository"

_MISSING = object()


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


def find_environments(tree: Tree) -> list[EnvironmentFiles]:
    """`environments/*/` folders that hold values for the root module (not modules of their own)."""
    folder = tree.root / ENVIRONMENTS_DIR
    if not folder.is_dir():
        return []
    found = []
    # In promotion order, so a clash is reported at the later environment.
    for name in promotion_sorted(p.name for p in folder.iterdir() if p.is_dir()):
        directory = folder / name
        if directory.name.startswith(".") or config_files(directory):
            continue
        names = sorted(p.name for p in directory.iterdir() if p.name.endswith(VARS_SUFFIXES))
        # terraform.tfvars first: OpenTofu reads it before the others.
        names.sort(key=lambda n: n != VARS_FILE)
        backend = directory / BACKEND_FILE
        found.append(
            EnvironmentFiles(
                directory.name,
                directory,
                [tree.parse(directory / n) for n in names],
                tree.parse(backend) if backend.is_file() else None,
            )
        )
    return found


def check_environment_variables(tree: Tree, root: Module, envs: list[EnvironmentFiles]):
    findings = []
    for env in envs:
        if not env.var_files:
            findings.append(
                Finding(
                    tree.rel(env.main_vars_path),
                    1,
                    "this file is missing: create it with the environment's variable values",
                )
            )
            continue
        if any(f.error for f in env.var_files):
            continue
        for parsed in env.var_files:
            for attr in parsed.attrs.values():
                if attr.name not in root.variables:
                    findings.append(
                        Finding(
                            tree.rel(parsed.path),
                            attr.line,
                            f'sets "{attr.name}", which the root module does not declare: remove '
                            f'it, or declare variable "{attr.name}" in variables.tf',
                        )
                    )
        for var in root.variables.values():
            if not var.has_default and env.setting(var.name) is None:
                findings.append(
                    Finding(
                        tree.rel(env.main_vars_path),
                        1,
                        f'does not set "{var.name}", which the root module requires '
                        f"({tree.rel(var.path)}:{var.line} has no default): set it here",
                    )
                )
    return findings


def _show(value: object) -> str:
    if value is _MISSING:
        return "not set"
    return json.dumps(value)


def _violation(path: str, line: int, problem: str, rule: str, fix: str) -> Finding:
    return Finding(path, line, f'{problem} (rule "{rule}"): {fix}')


class _Rules:
    """The guide's rules for one tree; each method adds findings."""

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
        value = var.default if var and var.has_default else _MISSING
        return self.tree.rel(env.main_vars_path), 1, value, False

    def exact(self, env: EnvironmentFiles, name: str, expected: object, rule: str) -> None:
        path, line, value, here = self.value(env, name)
        if value != expected or type(value) is not type(expected):
            shown = (
                _show(value)
                if here or value is _MISSING
                else (f"{_show(value)} (the default in variables.tf)")
            )
            self.findings.append(
                _violation(
                    path,
                    line,
                    f"{name} is {shown}, but {env.name} needs {name} = {_show(expected)}",
                    rule,
                    f"set {name} = {_show(expected)}",
                )
            )

    def domain(self, env: EnvironmentFiles, wanted: bool) -> None:
        path, line, value, _ = self.value(env, "domain")
        has_domain = isinstance(value, str) and value != ""
        shown = _show(value) if has_domain else "not set"
        if wanted and not has_domain:
            self.findings.append(
                _violation(
                    path,
                    line,
                    f"domain is {shown}, but {env.name} is reached by its DNS name",
                    "domain or not",
                    "set domain to the hub's DNS name",
                )
            )
        elif not wanted and has_domain:
            self.findings.append(
                _violation(
                    path,
                    line,
                    f"domain is {shown}, but {env.name} has no DNS name (it is "
                    "reached by its load balancer address)",
                    "domain or not",
                    "remove domain",
                )
            )

    def scale_to_zero(self, env: EnvironmentFiles) -> None:
        rule = "main and dask-worker scale to zero"
        setting = env.setting("node_groups")
        var = self.root.variables.get("node_groups")
        if setting:
            path, line, groups = self.tree.rel(setting[0].path), setting[1].line, setting[1].value
        elif var and var.has_default:
            path, line, groups = self.tree.rel(var.path), var.line, var.default
        else:
            self.findings.append(
                _violation(
                    self.tree.rel(env.main_vars_path),
                    1,
                    f"node_groups is not set for {env.name} and has no default",
                    rule,
                    'declare variable "node_groups" with a default holding the main and '
                    "dask-worker groups",
                )
            )
            return
        if not isinstance(groups, dict):
            self.findings.append(
                _violation(
                    path,
                    line,
                    "node_groups is not a literal map, so its scaling cannot be checked",
                    rule,
                    "write it out as a map of node groups",
                )
            )
            return
        for group in SCALE_TO_ZERO:
            settings = groups.get(group)
            if not isinstance(settings, dict):
                self.findings.append(
                    _violation(
                        path,
                        line,
                        f'node_groups has no "{group}" group',
                        rule,
                        "add it with min_size = 0",
                    )
                )
            elif (size := settings.get("min_size", _MISSING)) != 0:
                self.findings.append(
                    _violation(
                        path,
                        line,
                        f'node group "{group}" has min_size {_show(size)}',
                        rule,
                        "set its min_size = 0",
                    )
                )

    def shared_image(self, env: EnvironmentFiles) -> None:
        rule = "one shared image repository"
        for parsed in env.var_files:
            attr = parsed.attrs.get(SHARED_IMAGE_VARIABLE)
            if attr:
                self.findings.append(
                    _violation(
                        self.tree.rel(parsed.path),
                        attr.line,
                        f"{env.name} sets {SHARED_IMAGE_VARIABLE}, but every environment uses "
                        "the one repository given in variables.tf",
                        rule,
                        "remove it here",
                    )
                )
        var = self.root.variables.get(SHARED_IMAGE_VARIABLE)
        if var and not var.has_default:
            self.findings.append(
                _violation(
                    self.tree.rel(var.path),
                    var.line,
                    f'variable "{SHARED_IMAGE_VARIABLE}" has no default, so each environment would '
                    "have to name its own",
                    rule,
                    "give it the shared repository as its default",
                )
            )

    def backend(self, env: EnvironmentFiles, keys: dict[str, str]) -> None:
        path = self.tree.rel(env.directory / BACKEND_FILE)
        if env.backend is None:
            self.findings.append(
                _violation(
                    path,
                    1,
                    "this file is missing, so the state has no encrypted backend",
                    "encrypted state",
                    "create it with bucket, key, region, encrypt = true, "
                    "kms_key_id and use_lockfile = true",
                )
            )
            return
        if env.backend.error:
            return
        settings = {name: attr.value for name, attr in env.backend.attrs.items()}

        def line(name: str) -> int:
            attr = env.backend.attrs.get(name)
            return attr.line if attr else 1

        if settings.get("encrypt") is not True:
            self.findings.append(
                _violation(
                    path,
                    line("encrypt"),
                    f"encrypt is {_show(settings.get('encrypt', _MISSING))}, "
                    "but state must be encrypted",
                    "encrypted state",
                    "set encrypt = true",
                )
            )
        if not settings.get("kms_key_id"):
            self.findings.append(
                _violation(
                    path,
                    line("kms_key_id"),
                    "kms_key_id is not set, but state must be encrypted "
                    "with the environment's own KMS key",
                    "encrypted state",
                    "set kms_key_id to that key's ARN or alias",
                )
            )
        if settings.get("use_lockfile") is not True and not settings.get("dynamodb_table"):
            self.findings.append(
                _violation(
                    path,
                    line("use_lockfile"),
                    "the state is not locked (no use_lockfile = true)",
                    "locked state",
                    "set use_lockfile = true",
                )
            )
        key = settings.get("key")
        if not isinstance(key, str) or not key:
            self.findings.append(
                _violation(
                    path,
                    line("key"),
                    "key is not set",
                    "distinct state keys",
                    "set key to this environment's own state path",
                )
            )
        elif key in keys:
            self.findings.append(
                _violation(
                    path,
                    line("key"),
                    f'key "{key}" is also the state key of {keys[key]}',
                    "distinct state keys",
                    "give each environment its own key",
                )
            )
        else:
            keys[key] = path


def check_rules(tree: Tree, root: Module, envs: list[EnvironmentFiles]) -> list[Finding]:
    rules = _Rules(tree, root)
    keys: dict[str, str] = {}
    for env in envs:
        policy = POLICY.get(env.name)
        if policy is None or any(f.error for f in env.var_files):
            continue
        rules.exact(env, "authentication", policy.authentication, "authentication per environment")
        rules.domain(env, policy.domain)
        rules.exact(
            env, "user_directories", policy.user_directories, "user directories only in cae"
        )
        rules.exact(env, "supervised", policy.supervised, "only cae is supervised")
        rules.scale_to_zero(env)
        rules.shared_image(env)
        rules.backend(env, keys)
    return sorted(set(rules.findings))
