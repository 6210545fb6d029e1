"""Shared fixtures live in tests/support/, one plugin module per real part they start."""

import os

import pytest

from tests.support import tiers

# A test's subprocess that hangs is sent SIGABRT (tests/support/running.py): it then prints where.
os.environ.setdefault("PYTHONFAULTHANDLER", "1")

# Each declares the marks its fixtures give the tests that use them (FIXTURE_MARKS: the tiers,
# tests/support/tiers.py).
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


def pytest_itemcollected(item):
    """Marked as it is collected: before any plugin selects (`-m`) or groups (pytest-xdist)."""
    tiers.mark(item, pytest_plugins)


def pytest_collection_modifyitems(items):
    tiers.slowest_first(items)


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
