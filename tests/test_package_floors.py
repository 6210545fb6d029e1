"""The package's plan, read from its imports: floors whose arrows point down, and no cycle.

facts (typed, no I/O) <- adapters (one module per outside party) <- bootstrap (state backend,
image registry) <- flows (one module per verb) and tfcheck (the offline validator) <- cli. A module
may import its own floor and the floors below; nothing imports the CLI. Imports inside functions
and under `TYPE_CHECKING` count: a lazy import is still an arrow. docs/package-map.md explains it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "hubops"
RANKS = {"facts": 0, "adapters": 1, "bootstrap": 2, "flows": 3, "tfcheck": 3, "cli": 4}


def module_names(package: Path) -> dict[str, Path]:
    names = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imported_modules(path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules that `path` imports anywhere in its text."""
    root = next(iter(known)).split(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            # `from pkg import module` names a module; `from module import name` does not.
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name in known and name.split(".")[0] == root}


def import_graph(package: Path) -> dict[str, set[str]]:
    known = module_names(package)
    return {name: imported_modules(path, known) - {name} for name, path in known.items()}


def floor_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else None


def floor_violations(package: Path) -> list[str]:
    """Each module off every floor, and each import that points up or sideways to another floor."""
    found = []
    for module, targets in sorted(import_graph(package).items()):
        floor = floor_of(module)
        if module.count(".") == 1 and module.split(".")[1] not in RANKS:
            found.append(f"{module} is on no floor: move it into one of {', '.join(RANKS)}")
            continue
        if floor is None:
            continue  # the package's and the floors' own __init__ modules
        for target in sorted(targets):
            other = floor_of(target)
            if other is None or other == floor:
                continue
            if RANKS[other] >= RANKS[floor]:
                found.append(f"{module} ({floor}) imports {target} ({other})")
    return found


def import_cycles(package: Path) -> list[list[str]]:
    """The graph's cycles, one per strongly connected group of modules (Tarjan)."""
    graph = import_graph(package)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while not group or group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


def test_every_import_points_down_the_floors():
    assert floor_violations(PACKAGE) == []


def test_the_package_has_no_import_cycle():
    assert import_cycles(PACKAGE) == []


def test_nothing_outside_the_cli_imports_it():
    graph = import_graph(PACKAGE)
    assert [
        f"{module} imports {target}"
        for module, targets in sorted(graph.items())
        if floor_of(module) != "cli"
        for target in sorted(targets)
        if floor_of(target) == "cli"
    ] == []


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "pkg"


def test_the_checks_find_an_upward_arrow_a_sideways_one_a_stray_module_and_a_lazy_cycle(
    tmp_path,
):
    package = _package(
        tmp_path,
        {
            "__init__.py": "",
            "stray.py": "",
            "facts/__init__.py": "",
            "facts/verdict.py": "from pkg.adapters import dns\n",
            "adapters/__init__.py": "",
            "adapters/dns.py": "def f():\n    from pkg.facts.verdict import decide\n",
            "flows/__init__.py": "",
            "flows/apply.py": "import pkg.tfcheck.rules\n",
            "tfcheck/__init__.py": "",
            "tfcheck/rules.py": "from pkg.facts import verdict\n",
        },
    )

    assert floor_violations(package) == [
        "pkg.facts.verdict (facts) imports pkg.adapters.dns (adapters)",
        "pkg.flows.apply (flows) imports pkg.tfcheck.rules (tfcheck)",
        "pkg.stray is on no floor: move it into one of facts, adapters, bootstrap, flows, "
        "tfcheck, cli",
    ]
    assert import_cycles(package) == [["pkg.adapters.dns", "pkg.facts.verdict"]]
