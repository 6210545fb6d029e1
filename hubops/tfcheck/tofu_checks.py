"""`tofu fmt -check` and, per environment, `tofu init -backend=false` + `tofu validate -json`.

Each environment validates in its own data directory (`.hubops/tofu-data/validate-ENV`), so these
runs never touch the data directories that plans and applies use. Output is captured: only
findings reach the operator, in the same `path:line: message` form as the offline checks.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from hubops.tfcheck.structure import Finding, Tree

SKIPPED = (
    "skipped: tofu fmt and tofu validate (no tofu on PATH; install OpenTofu from "
    "https://opentofu.org/docs/intro/install/ to run them)"
)
SKIPPED_AFTER_SYNTAX_ERRORS = (
    "skipped: tofu fmt and tofu validate (fix the syntax errors above first)"
)
DATA_DIR = Path(".hubops") / "tofu-data"


def find_binary() -> str | None:
    """The tofu binary, or None when there is none on PATH (HUBOPS_TOFU_BIN set wrong raises)."""
    from hubops.errors import ToolMissing
    from hubops.tofu import BINARY_VARIABLE, find_tofu

    try:
        return find_tofu()
    except ToolMissing:
        if os.environ.get(BINARY_VARIABLE):
            raise
        return None


def _run(binary: str, args: list[str], cwd: Path, data_dir: Path | None = None):
    from hubops.tofu import run_captured

    return run_captured(binary, args, cwd=cwd, data_dir=data_dir)


def _tail(text: str) -> str:
    lines = [line.strip(" │╷╵") for line in text.splitlines()]
    return " ".join(line for line in lines if line)[-600:] if lines else ""


def check_format(tree: Tree, binary: str) -> list[Finding]:
    result = _run(binary, ["fmt", "-check", "-recursive", "-list=true", "-no-color"], tree.root)
    if result.returncode == 0:
        return []
    unformatted = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    if not unformatted:
        return [
            Finding(
                ".",
                1,
                f"tofu fmt -check failed with exit status {result.returncode}: "
                f"{_tail(result.stderr)}",
            )
        ]
    return [
        Finding(name, 1, "not formatted the way tofu fmt writes it: run `tofu fmt -recursive`")
        for name in unformatted
    ]


def check_validate(tree: Tree, binary: str, runs: dict[str, list[Path]]) -> list[Finding]:
    """`runs`: a name (the environment) -> its variable files; each run has its own data dir."""
    where: dict[tuple[str, int, str], list[str]] = {}
    findings = []
    for name, var_files in runs.items():
        data_dir = tree.root / DATA_DIR / f"validate-{name}"
        anchor = tree.rel(var_files[0]) if var_files else "."
        init = _run(
            binary, ["init", "-backend=false", "-input=false", "-no-color"], tree.root, data_dir
        )
        if init.returncode != 0:
            findings.append(
                Finding(
                    anchor,
                    1,
                    f"tofu init -backend=false failed for {name} "
                    f"with exit status {init.returncode}: "
                    f"{_tail(init.stderr)}",
                )
            )
            continue
        args = ["validate", "-json", "-no-color", *(f"-var-file={tree.rel(p)}" for p in var_files)]
        result = _run(binary, args, tree.root, data_dir)
        try:
            diagnostics = json.loads(result.stdout)["diagnostics"]
        except (ValueError, KeyError, TypeError):
            findings.append(
                Finding(
                    anchor,
                    1,
                    f"tofu validate gave no JSON result for {name} "
                    f"(exit status {result.returncode}): "
                    f"{_tail(result.stderr)}",
                )
            )
            continue
        for diagnostic in diagnostics:
            if diagnostic.get("severity") != "error":
                continue
            span = diagnostic.get("range") or {}
            path = span.get("filename") or anchor
            line = (span.get("start") or {}).get("line") or 1
            text = diagnostic.get("summary", "error")
            if diagnostic.get("detail"):
                text += ": " + " ".join(diagnostic["detail"].split())
            where.setdefault((path, line, text), []).append(name)
    findings.extend(
        Finding(path, line, f"tofu validate ({', '.join(names)}): {text}")
        for (path, line, text), names in where.items()
    )
    return findings
