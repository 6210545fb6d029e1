"""Check that each direct dependency is installed at the floor pyproject.toml gives it.

Run by `nox -s tests-lowest` after installing with uv's `--resolution=lowest-direct`: a floor the
resolver could not use (it conflicts with another requirement, or no such release exists) would
otherwise be replaced by a higher version without a word, and the floor would stay a guess.

    python scripts/check_floors.py [EXTRA ...]
"""

from __future__ import annotations

import sys
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version


def floor(requirement: Requirement) -> Version | None:
    """The version a `>=` (or `==`) specifier sets as the lowest allowed; None without one."""
    floors = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "==")]
    return max(floors) if floors else None


def problems(requirements: list[str], installed=version) -> list[str]:
    """One line per package not installed at its floor (the highest floor its lines give it)."""
    floors: dict[str, Version | None] = {}
    for line in requirements:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        lowest = floor(requirement)
        known = floors.get(name)
        floors[name] = max(lowest, known) if lowest and known else (lowest or known)
    found = []
    for name, lowest in floors.items():
        if lowest is None:
            found.append(f"{name}: pyproject.toml gives it no floor (>=): add one")
            continue
        try:
            have = Version(installed(name))
        except PackageNotFoundError:
            found.append(f"{name}: not installed")
            continue
        if have != lowest:
            found.append(
                f"{name}: pyproject.toml says >={lowest}, but the lowest resolution installed "
                f"{have}: raise the floor to the version that installs (and works)"
            )
    return found


def main(extras: list[str]) -> int:
    project = tomllib.loads(Path("pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    found = problems(requirements)
    for line in found:
        print(f"floor: {line}", file=sys.stderr)
    if not found:
        print(f"Every direct dependency ({len(requirements)}) is installed at its floor.")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
