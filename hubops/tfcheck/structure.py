"""The structural cross-checks, which hold for any OpenTofu/Terraform tree.

A module is a folder of configuration files. In each one: every `var.x` is declared; every call
of a local module passes only variables that module declares and every variable it declares
without a default; every local module source exists. Registry, git and other remote sources
cannot be read offline, so their calls are counted as unchecked rather than reported.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from hubops.adapters.engine_inputs import is_auto_vars_file
from hubops.adapters.hcl import ParsedFile, Parser, is_expression
from hubops.facts.engine_files import CONFIG_SUFFIXES, VARS_SUFFIXES

__all__ = ["CONFIG_SUFFIXES", "VARS_SUFFIXES", "Finding", "Module", "Tree", "config_files"]
# Module block arguments OpenTofu interprets itself (and forbids as variable names).
META_ARGUMENTS = frozenset(
    {"source", "version", "count", "for_each", "providers", "depends_on", "lifecycle", "locals"}
)


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class Variable:
    name: str
    path: Path
    line: int
    has_default: bool
    default: object = None


@dataclass
class ModuleCall:
    name: str
    path: Path
    line: int
    source: object
    args: dict[str, int] = field(default_factory=dict)


@dataclass
class Module:
    directory: Path
    files: list[ParsedFile]
    variables: dict[str, Variable] = field(default_factory=dict)
    calls: dict[str, ModuleCall] = field(default_factory=dict)
    # (path, line, what, the first declaration) for each name declared again
    duplicates: list[tuple[Path, int, str, Variable | ModuleCall]] = field(default_factory=list)

    @property
    def readable(self) -> bool:
        """False when a file did not parse: checks against it would only echo that error."""
        return not any(f.error for f in self.files)


def config_files(directory: Path) -> list[Path]:
    """The files OpenTofu reads as this module; `x.tofu` replaces `x.tf` beside it."""
    try:
        names = {p.name for p in directory.iterdir() if p.is_file()}
    except OSError:
        return []
    chosen = []
    for name in sorted(names):
        if name.endswith((".tf", ".tf.json")) and name.replace(".tf", ".tofu", 1) in names:
            continue
        if name.endswith(CONFIG_SUFFIXES):
            chosen.append(directory / name)
    return chosen


def _is_override(path: Path) -> bool:
    stem = path.name.split(".", 1)[0]
    return stem == "override" or stem.endswith("_override")


class Tree:
    """A folder of OpenTofu configuration: its modules, parsed once each."""

    def __init__(self, root: Path, parser: Parser):
        self.root = root.resolve()
        self.parser = parser
        self._modules: dict[Path, Module | None] = {}
        self._files: dict[Path, ParsedFile] = {}

    def rel(self, path: Path) -> str:
        return os.path.relpath(path, self.root)

    def parse(self, path: Path) -> ParsedFile:
        path = path.resolve()
        if path not in self._files:
            self._files[path] = self.parser.parse(path)
        return self._files[path]

    @property
    def parsed_files(self) -> list[ParsedFile]:
        return list(self._files.values())

    def walk(self) -> tuple[list[Path], list[Path]]:
        """(module folders under the root, the variable files OpenTofu loads by itself there).

        Hidden folders (.terraform) are skipped. Other `.tfvars` files (a template, an example)
        are not read by OpenTofu, so they are not part of the tree; the environments' own are
        found by `rules.find_environments`.
        """
        modules = []
        for folder, subfolders, files in os.walk(self.root):
            subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
            here = Path(folder)
            if any(name.endswith(CONFIG_SUFFIXES) for name in files):
                modules.append(here)
        var_files = sorted(
            p for p in self.root.iterdir() if p.is_file() and is_auto_vars_file(p.name)
        )
        return modules, var_files

    def module(self, directory: Path) -> Module | None:
        """The module in `directory`, or None when it holds no configuration files."""
        directory = directory.resolve()
        if directory not in self._modules:
            files = [self.parse(p) for p in config_files(directory)]
            self._modules[directory] = _build_module(directory, files) if files else None
        return self._modules[directory]


def _build_module(directory: Path, files: list[ParsedFile]) -> Module:
    module = Module(directory, files)
    # Override files merge into the blocks they name, after all the others.
    for parsed in sorted(files, key=lambda f: _is_override(f.path)):
        override = _is_override(parsed.path)
        for block in parsed.blocks_of("variable"):
            if not block.labels:
                continue
            name = block.labels[0]
            known = module.variables.get(name)
            if known and override:
                known.has_default = known.has_default or "default" in block.attrs
            elif known:
                module.duplicates.append((parsed.path, block.line, f'variable "{name}"', known))
            else:
                default = block.attrs.get("default")
                module.variables[name] = Variable(
                    name,
                    parsed.path,
                    block.line,
                    default is not None,
                    default.value if default else None,
                )
        for block in parsed.blocks_of("module"):
            if not block.labels:
                continue
            name = block.labels[0]
            args = {a.name: a.line for a in block.attrs.values()}
            known = module.calls.get(name)
            if known and override:
                known.args.update(args)
                if "source" in block.attrs:
                    known.source = block.attrs["source"].value
            elif known:
                module.duplicates.append((parsed.path, block.line, f'module "{name}"', known))
            else:
                source = block.attrs["source"].value if "source" in block.attrs else None
                module.calls[name] = ModuleCall(name, parsed.path, block.line, source, args)
    return module


@dataclass
class StructureReport:
    findings: list[Finding] = field(default_factory=list)
    modules: int = 0
    # Calls whose source is not a local path (registry, git, ...): tofu init fetches those.
    unchecked_calls: int = 0


def check_structure(tree: Tree, module_dirs: list[Path]) -> StructureReport:
    report = StructureReport()
    for directory in module_dirs:
        module = tree.module(directory)
        if module is None:
            continue
        report.modules += 1
        for path, line, what, first in module.duplicates:
            report.findings.append(
                Finding(
                    tree.rel(path),
                    line,
                    f"{what} is declared again (first at {tree.rel(first.path)}:{first.line}): "
                    "remove one (or rename it)",
                )
            )
        if not module.readable:
            continue
        report.findings.extend(_undeclared_references(tree, module))
        for call in module.calls.values():
            report.findings.extend(_check_call(tree, module, call, report))
    return report


def _undeclared_references(tree: Tree, module: Module) -> list[Finding]:
    findings = []
    for parsed in module.files:
        for name, line in sorted({(r.name, r.line) for r in parsed.refs if r.root == "var"}):
            if name not in module.variables:
                findings.append(
                    Finding(
                        tree.rel(parsed.path),
                        line,
                        f"var.{name} is not declared in {_where(tree, module.directory)}: add a "
                        f'variable "{name}" block there, or fix the name',
                    )
                )
    return findings


def _where(tree: Tree, directory: Path) -> str:
    rel = tree.rel(directory)
    return "the root module" if rel == "." else rel


def _check_call(tree: Tree, module: Module, call: ModuleCall, report: StructureReport):
    path, source = tree.rel(call.path), call.source
    label = f'module "{call.name}"'
    if source is None:
        return [Finding(path, call.line, f"{label} has no source: add one")]
    if not isinstance(source, str) or is_expression(source):
        report.unchecked_calls += 1
        return []
    if not (source in (".", "..") or source.startswith(("./", "../"))):
        report.unchecked_calls += 1
        return []
    target = (module.directory / source).resolve()
    if not target.is_dir():
        return [
            Finding(
                path,
                call.line,
                f'{label} has source "{source}", which does not exist: fix the path',
            )
        ]
    callee = tree.module(target)
    if callee is None:
        return [
            Finding(
                path,
                call.line,
                f'{label} has source "{source}", which holds no .tf files: fix the path',
            )
        ]
    if not callee.readable:
        return []
    where = _where(tree, target)
    findings = [
        Finding(
            path,
            line,
            f'{label} passes "{arg}", which {where} does not declare: declare '
            f'variable "{arg}" there, or remove the argument',
        )
        for arg, line in sorted(call.args.items(), key=lambda item: item[1])
        if arg not in META_ARGUMENTS and arg not in callee.variables
    ]
    findings.extend(
        Finding(
            path,
            call.line,
            f'{label} does not pass "{var.name}", which {where} requires '
            "(it has no default): pass it, or give the variable a default",
        )
        for var in callee.variables.values()
        if not var.has_default and var.name not in call.args
    )
    return findings
