"""Shared fixtures live in tests/support/, one plugin module per real part they start."""

import os

import pytest

# A test's subprocess that hangs is sent SIGABRT (tests/support/running.py): it then prints where.
os.environ.setdefault("PYTHONFAULTHANDLER", "1")

pytest_plugins = [
    "tests.support.moto_server",
    "tests.support.dns_server",
    "tests.support.fake_tofu",
    "tests.support.git_repo",
    "tests.support.hub_world",
    "tests.support.faults",
    "tests.support.engine",
    "tests.support.engine_hub",
    "tests.support.engine_edge",
    "tests.support.live_hub",
    "tests.support.xdist_groups",
]

# A test's tier follows from the fixtures it uses (directly or through others), so a new test is
# tiered by what it starts, not by a marker someone must remember.
ENGINE_FIXTURES = {"real_engine"}
WORLD_FIXTURES = {
    "moto_server", "dns_server", "fake_tofu", "git_repo", "project_repo", "live_hub",
}  # fmt: skip
# Worlds the real engine builds once per worker and restores per test: their tests share one
# worker (`--dist loadgroup`, pyproject.toml), so each is built once per run, not once per worker.
SHARED_WORLDS = {"engine_hub": "engine-hub", "engine_edge": "engine-edge", "live_hub": "live-hub"}


def pytest_itemcollected(item):
    """Marked as it is collected: before any plugin selects (`-m`) or groups (pytest-xdist)."""
    used = set(getattr(item, "fixturenames", ()))
    if used & ENGINE_FIXTURES:
        item.add_marker(pytest.mark.engine)
    if used & WORLD_FIXTURES:
        item.add_marker(pytest.mark.world)
    for fixture, group in SHARED_WORLDS.items():
        if fixture in used:
            item.add_marker(pytest.mark.xdist_group(group))


def pytest_collection_modifyitems(items):
    # The slowest first: spread over the workers (pytest-xdist), they do not end the run alone.
    # (loadgroup hands out each group whole, largest first, then the rest in this order.)
    items.sort(key=lambda item: item.get_closest_marker("engine") is None)


@pytest.fixture(autouse=True)
def _outside_github_actions(monkeypatch):
    """Tests set the GitHub variables they mean; a GitHub runner's own must not leak in."""
    for name in [name for name in os.environ if name.startswith("GITHUB_")]:
        monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _no_engine_configuration_of_this_machine(monkeypatch):
    """The machine's own engine settings (a TF_CLI_CONFIG_FILE naming a file it lacks, a plugin
    cache) must not leak in: tests that want an engine configuration give one."""
    for name in ("TF_CLI_CONFIG_FILE", "TF_PLUGIN_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _no_aws_clients_from_earlier_tests():
    """Each test's calls make their own AWS clients (and the process does not keep them all)."""
    from hubops.adapters import aws

    aws.forget_clients()
