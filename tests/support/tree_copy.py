"""Helpers for the validator's tests: copy the project's OpenTofu tree and edit the copy."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from hubops.tfcheck import validate_tree

REPO = Path(__file__).resolve().parents[2]


# Root files that are part of the OpenTofu tree (what `invoke changed` treats as shared).
# .gitignore too: runs write .hubops/ inside a checkout, which must not make it dirty.
ROOT_TREE_PATTERNS = ("*.tf", "*.tf.json", ".terraform.lock.hcl", ".gitignore")


def copy_tree_files(source: Path, target: Path) -> None:
    """The OpenTofu tree of `source` (environments/, modules/, the root's tree files) into
    `target`; the one copier of the project's tree (hidden files in its folders left out)."""
    for folder in ("environments", "modules"):
        if (source / folder).is_dir():
            shutil.copytree(source / folder, target / folder, ignore=shutil.ignore_patterns(".*"))
    for pattern in ROOT_TREE_PATTERNS:
        for path in source.glob(pattern):
            shutil.copy2(path, target / path.name)


def copy_project_tree(dest: Path) -> Path:
    """This repository's OpenTofu tree, copied into dest."""
    dest.mkdir(parents=True, exist_ok=True)
    copy_tree_files(REPO, dest)
    return dest


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def set_value(path: Path, name: str, value: str) -> int:
    """Set `name = value` in an HCL attribute file (replace its line, else append); its line."""
    lines = path.read_text().splitlines()
    pattern = re.compile(rf"^{re.escape(name)}\s*=")
    for number, line in enumerate(lines):
        if pattern.match(line):
            lines[number] = f"{name} = {value}"
            break
    else:
        lines.append(f"{name} = {value}")
        number = len(lines) - 1
    path.write_text("\n".join(lines) + "\n")
    return number + 1


def remove_value(path: Path, name: str) -> None:
    pattern = re.compile(rf"^{re.escape(name)}\s*=")
    kept = [line for line in path.read_text().splitlines() if not pattern.match(line)]
    path.write_text("\n".join(kept) + "\n")


def line_of(path: Path, text: str) -> int:
    """The number of the first line of `path` containing `text`."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} is not in {path}")


# One parse cache for the whole test run: entries are keyed by content, so one test's edits never
# leak into another's results, and unchanged files are parsed once.
_CACHE = tempfile.TemporaryDirectory(prefix="hubops-parse-cache-")


def findings(root: Path) -> list[str]:
    """What the validator reports on `root`, without running tofu."""
    report = validate_tree(root, cache_dir=Path(_CACHE.name), run_tofu=False)
    return [str(f) for f in report.findings]
