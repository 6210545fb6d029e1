"""Shared fixtures live in tests/support/, one plugin module per real part they start."""

pytest_plugins = [
    "tests.support.moto_server",
    "tests.support.dns_server",
    "tests.support.fake_tofu",
    "tests.support.git_repo",
    "tests.support.hub_world",
    "tests.support.faults",
]
