"""The engine's own checks: `fmt -check`, and `init -backend=false` + `validate -json`.

The engine is OpenTofu, or Terraform accepted as a CLI-compatible one (`hubops.adapters.engine`).
The root module is initialised once in `.hubops/tofu-data/validate-root` (never a data directory
that plans and applies use), then validated per environment with its variable files (OpenTofu), or
once (Terraform, whose `validate` takes no `-var-file`).

When the root cannot be initialised only because providers cannot be installed (no network, or
not in the configured mirror), every module under `modules/` is validated on its own instead, in
its own data directory, and each module or environment the engine could not validate is named
with the providers it lacks. Any other failure is a finding. Output is captured: only findings
and these notes reach the operator, in the same `path:line: message` form as the offline checks.
A validate run leaves the tree as it found it (the dependency lock file init writes is removed
when there was none before).
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from hubops.adapters.engine import Engine, NoEngine, find_engine_binary, identify
from hubops.adapters.engine_config import provider_supply_recipe
from hubops.adapters.engine_diagnostics import parse_errors
from hubops.adapters.tofu import run_captured
from hubops.facts.layout import tofu_data_dir
from hubops.facts.text import shorten
from hubops.tfcheck.structure import Finding, Tree

SKIPPED = (
    "skipped: tofu fmt and tofu validate (no tofu or terraform on PATH; install OpenTofu from "
    "https://opentofu.org/docs/intro/install/ to run them)"
)
SKIPPED_OFFLINE = (
    "skipped: tofu fmt and tofu validate (--offline: `nox -s validate` and CI run them)"
)
SKIPPED_AFTER_SYNTAX_ERRORS = (
    "skipped: tofu fmt and tofu validate (fix the syntax errors above first)"
)
MODULES_DIR = "modules"
LOCK_FILE = ".terraform.lock.hcl"
MESSAGE_LIMIT = 600  # characters of an engine's error text in one finding
UNAVAILABLE = "which the engine could not install (no network or not in the mirror)"


def find_engine() -> Engine | None:
    """The engine to run, or None when there is none (HUBOPS_TOFU_BIN set wrong raises)."""
    try:
        binary = find_engine_binary(terraform_too=True)
    except NoEngine:
        return None
    return identify(binary)


def _run(engine: Engine, args: list[str], cwd: Path, data_dir: Path | None = None):
    return run_captured(engine.path, args, cwd=cwd, data_dir=data_dir)


@dataclass
class EngineReport:
    """What the engine found and what it could and could not check."""

    findings: list[Finding] = field(default_factory=list)
    validated: list[str] = field(default_factory=list)  # "environments/cae", "modules/network"
    not_validated: dict[str, list[str]] = field(default_factory=dict)  # label -> providers
    modules_tried: int = 0

    def notes(self, engine: Engine) -> list[str]:
        """What was validated, and what was not folded into one line: each label is a module or
        environment, and the findings (printed before these) are what matter."""
        lines = []
        if self.validated:
            lines.append(f"validated by {engine.label}: {', '.join(self.validated)}")
        if self.not_validated:
            providers = sorted({p for needed in self.not_validated.values() for p in needed})
            lines.append(
                f"not validated: {', '.join(self.not_validated)} (they need "
                f"{', '.join(providers)}, {UNAVAILABLE})"
            )
        return lines

    def summary(self, engine: Engine) -> str:
        """`Terraform 1.11.4 (CLI-compatible) validated 5 of 8 modules on their own; ...`."""
        if not self.validated and self.not_validated:  # "validated 0 of 9" would read as a pass
            return (
                f"the engine's fmt ran, its validate did not: {engine.label} could not install "
                "the providers of any module or environment; "
                f"{provider_supply_recipe(engine.command)}"
            )
        modules = [v for v in self.validated if v.startswith(f"{MODULES_DIR}/")]
        if self.modules_tried:
            what = f"{len(modules)} of {self.modules_tried} modules on their own"
        elif self.validated:
            envs = len(self.validated)
            what = self.validated[0] if envs == 1 else f"{envs} environments"
        else:
            what = "nothing"
        text = f"{engine.label} validated {what}"
        missing_envs = sum(1 for label in self.not_validated if not label.startswith(MODULES_DIR))
        missing_modules = len(self.not_validated) - missing_envs
        missing = [
            _count(number, noun)
            for number, noun in ((missing_envs, "environment"), (missing_modules, "module"))
            if number
        ]
        if missing:
            text += f"; {' and '.join(missing)} not validated (providers missing)"
        return text


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def check_format(tree: Tree, engine: Engine) -> list[Finding]:
    command = engine.command
    result = _run(engine, ["fmt", "-check", "-recursive", "-list=true", "-no-color"], tree.root)
    if result.returncode == 0:
        return []
    unformatted = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    if not unformatted:
        return [
            Finding(
                ".",
                1,
                f"{command} fmt -check failed with exit status {result.returncode}: "
                f"{shorten(result.stderr, MESSAGE_LIMIT, keep_end=True)}",
            )
        ]
    return [
        Finding(
            name,
            1,
            f"not formatted the way {command} fmt writes it: run `{command} fmt -recursive`",
        )
        for name in unformatted
    ]


@contextmanager
def _lock_file_as_found(directory: Path):
    """Remove the dependency lock file `init` writes into `directory`, if there was none."""
    lock = directory / LOCK_FILE
    existed = lock.exists()
    try:
        yield
    finally:
        if not existed:
            lock.unlink(missing_ok=True)


@dataclass
class _Outcome:
    """One configuration (root or module) through init and validate."""

    # providers (and registry modules) init could not fetch
    missing: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # (path relative to the tree, line, message, run name) of validate's error diagnostics
    diagnostics: list[tuple[str, int, str, str]] = field(default_factory=list)
    validated: list[str] = field(default_factory=list)


def _check_configuration(
    tree: Tree,
    engine: Engine,
    directory: Path,
    data_dir: Path,
    runs: dict[str, list[Path]],
    anchor: str,
    label: str,
) -> _Outcome:
    """init `directory` in `data_dir`, then validate once per run (a name -> its var files)."""
    outcome = _Outcome()
    with _lock_file_as_found(directory):
        init = _run(
            engine, ["init", "-backend=false", "-input=false", "-no-color"], directory, data_dir
        )
        if init.returncode != 0:
            errors = parse_errors(init.stderr)
            missing = [error.unavailable for error in errors]
            if errors and all(missing):
                outcome.missing = sorted(set(missing))
                return outcome
            text = "; ".join(str(e) for e in errors) if errors else init.stderr
            outcome.findings.append(
                Finding(
                    anchor,
                    1,
                    f"{engine.command} init -backend=false failed for {label} "
                    f"with exit status {init.returncode}: "
                    f"{shorten(text, MESSAGE_LIMIT, keep_end=not errors)}",
                )
            )
            return outcome
        for name, var_files in runs.items():
            args = ["validate", "-json", "-no-color"]
            args += [f"-var-file={os.path.relpath(p, directory)}" for p in var_files]
            result = _run(engine, args, directory, data_dir)
            try:
                diagnostics = json.loads(result.stdout)["diagnostics"]
            except (ValueError, KeyError, TypeError):
                outcome.findings.append(
                    Finding(
                        anchor,
                        1,
                        f"{engine.command} validate gave no JSON result for {name} "
                        f"(exit status {result.returncode}): "
                        f"{shorten(result.stderr, MESSAGE_LIMIT, keep_end=True)}",
                    )
                )
                continue
            errors = [d for d in diagnostics if d.get("severity") == "error"]
            for diagnostic in errors:
                span = diagnostic.get("range") or {}
                filename = span.get("filename")
                path = tree.rel(directory / filename) if filename else anchor
                line = (span.get("start") or {}).get("line") or 1
                text = diagnostic.get("summary", "error")
                if diagnostic.get("detail"):
                    text += ": " + " ".join(diagnostic["detail"].split())
                outcome.diagnostics.append((path, line, text, name))
            if not errors:
                outcome.validated.append(name)
    return outcome


def check_validate(tree: Tree, engine: Engine, envs: dict[str, list[Path]]) -> EngineReport:
    """`envs`: an environment's name -> its variable files ({} for a tree without any)."""
    report = EngineReport()
    labels = {name: f"environments/{name}" for name in envs} or {"root": "the root module"}
    if engine.is_opentofu:
        runs = {labels[name]: files for name, files in (envs or {"root": []}).items()}
    else:  # Terraform's validate takes no -var-file: one run stands for every environment
        runs = {"the root module": []}
    first_files = next((files for files in envs.values() if files), [])
    anchor = tree.rel(first_files[0]) if first_files else "."
    root = _check_configuration(
        tree,
        engine,
        tree.root,
        tofu_data_dir(tree.root, "validate-root"),
        runs,
        anchor,
        "the root module",
    )
    report.findings += root.findings
    report.validated += root.validated
    where: dict[tuple[str, int, str], list[str]] = {}
    for path, line, text, name in root.diagnostics:
        where.setdefault((path, line, text), []).append(name.removeprefix("environments/"))
    if root.missing:
        for label in labels.values():
            report.not_validated[label] = root.missing
        _check_modules(tree, engine, report, where)
    report.findings.extend(
        Finding(path, line, f"{engine.command} validate ({', '.join(names)}): {text}")
        for (path, line, text), names in where.items()
    )
    return report


def _check_modules(
    tree: Tree, engine: Engine, report: EngineReport, where: dict[tuple[str, int, str], list[str]]
) -> None:
    """Each module under modules/ on its own, in its own data directory, a few at a time."""
    top = tree.root / MODULES_DIR
    module_dirs, _ = tree.walk()
    modules = sorted(d for d in module_dirs if d.is_relative_to(top) and d != top)
    report.modules_tried = len(modules)

    def check(directory: Path) -> _Outcome:
        label = tree.rel(directory)
        data_dir = tofu_data_dir(tree.root, f"validate-{label.replace(os.sep, '-')}")
        return _check_configuration(tree, engine, directory, data_dir, {label: []}, label, label)

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        outcomes = list(pool.map(check, modules))
    for directory, outcome in zip(modules, outcomes, strict=True):
        label = tree.rel(directory)
        if outcome.missing:
            report.not_validated[label] = outcome.missing
        report.findings += outcome.findings
        report.validated += outcome.validated
        for path, line, text, name in outcome.diagnostics:
            where.setdefault((path, line, text), []).append(name)
