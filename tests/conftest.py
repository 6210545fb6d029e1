"""Shared fixtures live in tests/support/, one plugin module per real part they start."""

import os

import pytest

pytest_plugins = [
    "tests.support.moto_server",
    "tests.support.dns_server",
    "tests.support.fake_tofu",
    "tests.support.git_repo",
    "tests.support.hub_world",
    "tests.support.faults",
    "tests.support.engine",
    "tests.support.engine_hub",
]

# A test's tier follows from the fixtures it uses (directly or through others), so a new test is
# tiered by what it starts, not by a marker someone must remember.
ENGINE_FIXTURES = {"real_engine"}
WORLD_FIXTURES = {"moto_server", "dns_server", "fake_tofu", "git_repo", "project_repo"}


def pytest_collection_modifyitems(items):
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & ENGINE_FIXTURES:
            item.add_marker(pytest.mark.engine)
        if used & WORLD_FIXTURES:
            item.add_marker(pytest.mark.world)
    # The slowest first: spread over the workers (pytest-xdist), they do not end the run alone.
    items.sort(key=lambda item: item.get_closest_marker("engine") is None)


@pytest.fixture(autouse=True)
def _outside_github_actions(monkeypatch):
    """Tests set the GitHub variables they mean; a GitHub runner's own must not leak in."""
    for name in [name for name in os.environ if name.startswith("GITHUB_")]:
        monkeypatch.delenv(name)
