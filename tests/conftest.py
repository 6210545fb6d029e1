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


@pytest.fixture(autouse=True)
def _outside_github_actions(monkeypatch):
    """Tests set the GitHub variables they mean; a GitHub runner's own must not leak in."""
    for name in [name for name in os.environ if name.startswith("GITHUB_")]:
        monkeypatch.delenv(name)
