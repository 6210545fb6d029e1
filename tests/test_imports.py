"""The package's imports, read from its source: no module of hubops depends on itself.

Every import counts, at the top of a module or inside a function (where a cycle hides until the
import is moved up), under `if TYPE_CHECKING:` too: a cycle there is a type that lives on the
wrong side. Read with `ast`, so nothing is imported and the answer is the same on every machine.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "hubops"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.Module, name: str, is_package: bool, known: set[str]) -> set[str]:
    """The modules of hubops that a module imports, wherever in it the import is."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package up
                package = name.split(".")
                package = package if is_package else package[:-1]
                anchor = package[: len(package) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:  # `from hubops import aws` imports the module hubops.aws
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {module for module in found if module in known and module != name}


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    known = set(paths)
    return {
        name: imported(ast.parse(path.read_text()), name, path.name == "__init__.py", known)
        for name, path in paths.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One import path around each cycle (a module, what it imports, ..., the module again)."""
    found, done = [], set()
    for start in sorted(graph):
        # Depth first from `start`, along modules not yet cleared: a path back to it is a cycle.
        stack = [(start, [start])]
        seen = set()
        while stack:
            module, path = stack.pop()
            for target in sorted(graph[module]):
                if target == start:
                    found.append([*path, start])
                    stack = []
                    break
                if target not in seen and target not in done:
                    seen.add(target)
                    stack.append((target, [*path, target]))
        done.add(start)
    return found


def test_no_module_of_hubops_imports_itself_through_others():
    graph = import_graph()

    assert "hubops.records" in graph and "hubops.cli.routing" in graph  # the package was read
    assert cycles(graph) == []


def test_the_cycle_finder_names_the_path_around_a_cycle():
    graph = {
        "hubops.records": {"hubops.run_record"},
        "hubops.run_record": {"hubops.incidents"},
        "hubops.incidents": {"hubops.records", "hubops.clock"},
        "hubops.clock": set(),
    }

    assert cycles(graph) == [
        ["hubops.incidents", "hubops.records", "hubops.run_record", "hubops.incidents"]
    ]


def test_imports_inside_functions_and_from_the_package_count():
    source = (
        "from hubops import aws\n"
        "def later():\n"
        "    from hubops.records import history\n"
        "    import hubops.clock\n"
    )
    known = {"hubops", "hubops.aws", "hubops.records", "hubops.clock", "hubops.parity"}

    assert imported(ast.parse(source), "hubops.parity", False, known) == {
        "hubops.aws",
        "hubops.records",
        "hubops.clock",
    }
