"""The offline validator of an OpenTofu tree (`invoke validate`).

`validate_tree(root)` parses every configuration and variable file, runs the structural
cross-checks (any tree), the environments' checks and the guide's environment rules (this
project's layout), then the engine's `fmt -check` and `validate` when OpenTofu (or
Terraform, CLI-compatible) is installed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hubops.adapters.hcl import Parser
from hubops.tfcheck.structure import Finding, Tree, check_structure

__all__ = ["Finding", "Report", "validate_tree"]


@dataclass
class Report:
    root: Path
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    modules: int = 0
    environments: int = 0
    unchecked_calls: int = 0
    skipped: list[str] = field(default_factory=list)  # notes printed before the summary
    engine: str = ""  # what the engine validated, for the summary

    @property
    def summary(self) -> str:
        counts = (
            f"{_count(self.files, 'file')}, {_count(self.modules, 'module')}, "
            f"{_count(self.environments, 'environment')} in {self.root}"
        )
        engine = f"; {self.engine}" if self.engine else ""
        if self.findings:
            found = _count(len(self.findings), "finding")
            return f"validate: {found} ({counts}){engine}: fix them and run it again"
        note = (
            f"; {_count(self.unchecked_calls, 'module call')} with remote sources not checked"
            if self.unchecked_calls
            else ""
        )
        return f"validate: OK ({counts}){note}{engine}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def validate_tree(root: Path, *, cache_dir: Path | None = None, run_tofu: bool = True) -> Report:
    """Check the tree at `root`; parse results are cached in `cache_dir` when given."""
    from hubops.tfcheck import image, rules, tofu_checks

    tree = Tree(root, Parser(cache_dir))
    module_dirs, var_files = tree.walk()
    structure = check_structure(tree, module_dirs)
    findings = list(structure.findings)

    root_module = tree.module(tree.root)
    envs = rules.find_environments(tree) if root_module else []
    if root_module and root_module.readable:
        findings += rules.check_environment_variables(tree, root_module, envs)
        findings += rules.check_rules(tree, root_module, envs)
    findings += image.check_image(tree, module_dirs, envs)  # the user image (docker/)
    for path in var_files:  # the root's own (terraform.tfvars, *.auto.tfvars): syntax alone
        tree.parse(path)
    syntax = [
        Finding(tree.rel(f.path), f.error[0], f.error[1])
        for f in tree.parsed_files
        if f.error and f.path.is_relative_to(tree.root)
    ]

    report = Report(
        tree.root,
        sorted(set(findings + syntax)),
        files=len(tree.parsed_files),
        modules=structure.modules,
        environments=len(envs),
        unchecked_calls=structure.unchecked_calls,
    )
    if not run_tofu:
        report.skipped.append(tofu_checks.SKIPPED_OFFLINE)
    else:
        engine = tofu_checks.find_engine()
        if engine is None:
            report.skipped.append(tofu_checks.SKIPPED)
        elif syntax:
            report.skipped.append(tofu_checks.SKIPPED_AFTER_SYNTAX_ERRORS)
        else:
            report.findings += tofu_checks.check_format(tree, engine)
            if root_module:
                envs_files = {e.name: [f.path for f in e.var_files] for e in envs}
                checked = tofu_checks.check_validate(tree, engine, envs_files)
                report.findings += checked.findings
                report.skipped += checked.notes(engine)
                report.engine = checked.summary(engine)
    return report
