"""A test's tier follows from the fixtures it uses (directly or through others), so a new test is
tiered by what it starts, not by a marker someone must remember.

Each fixture plugin that starts a part of the world says which of its fixtures do, beside them:

    FIXTURE_MARKS = {"moto_server": "world"}

a fixture's name and the mark (a marker's name, or a mark such as `pytest.mark.xdist_group(...)`),
or a tuple of them, a test that uses it gets. `tests/conftest.py` gathers them from its
`pytest_plugins`.
"""

from __future__ import annotations

import sys

import pytest


def fixture_marks(plugins) -> list[tuple[str, str | pytest.MarkDecorator]]:
    """(fixture, mark) as the plugin modules named in `plugins` declare them, in their order.

    Read once pytest has imported them (by the time tests are collected): importing a plugin
    before pytest does would keep pytest from rewriting its asserts."""
    return [
        (fixture, mark)
        for name in plugins
        for fixture, marks in getattr(sys.modules[name], "FIXTURE_MARKS", {}).items()
        for mark in (marks if isinstance(marks, tuple) else (marks,))
    ]


def mark(item, plugins) -> None:
    """Give `item` the marks of the fixtures it uses, each once."""
    used = set(getattr(item, "fixturenames", ()))
    marks: list = []
    for fixture, mark_ in fixture_marks(plugins):
        if fixture in used and mark_ not in marks:
            marks.append(mark_)
            item.add_marker(mark_)


def slowest_first(items) -> None:
    """The real engine's tests first: spread over the workers (pytest-xdist), they do not end the
    run alone (loadgroup hands out each group whole, largest first, then the rest in this order)."""
    items.sort(key=lambda item: item.get_closest_marker("engine") is None)
