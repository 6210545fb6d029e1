"""Tool preflight: tofu within versions.tf's range, aws and kubectl present, install hints."""

import shutil

import pytest

from hubops.adapters.engine import identify
from hubops.facts.errors import ToolMissing
from hubops.adapters.tools import (
    parse_tool_version,
    require_tools,
    required_tofu_version,
    satisfies,
    tool_status,
)

TOFU_INSTALL = (
    "install OpenTofu (https://opentofu.org/docs/intro/install/) or set HUBOPS_TOFU_BIN to its path"
)


@pytest.fixture
def bare_path(tmp_path, monkeypatch):
    """A PATH holding no tools at all."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("HUBOPS_TOFU_BIN", raising=False)
    return empty


@pytest.mark.parametrize(
    ("version", "constraint", "expected"),
    [
        ("1.10.0", ">= 1.10.0, < 2.0.0", True),
        ("1.10.7", ">= 1.10.0, < 2.0.0", True),
        ("1.9.4", ">= 1.10.0, < 2.0.0", False),
        ("2.0.0", ">= 1.10.0, < 2.0.0", False),
        ("1.10.3", "~> 1.10", True),
        ("2.1.0", "~> 1.10", False),
        ("1.10.3", "~> 1.10.0", True),
        ("1.11.0", "~> 1.10.0", False),
        ("1.10.0", "1.10.0", True),
        ("1.10.1", "= 1.10.0", False),
        ("1.10.1", "!= 1.10.0", True),
        ("1.10.0", "> 1.10.0", False),
        ("1.10.0", "<= 1.10.0", True),
        ("1.11.0-beta1", ">= 1.10.0", False),
        ("1.11.0-beta1", "1.11.0-beta1", True),
    ],
)
def test_version_constraints_follow_opentofus_rules(version, constraint, expected):
    assert satisfies(version, constraint) is expected


def test_a_malformed_constraint_is_an_error():
    with pytest.raises(ValueError, match="not a version: 'one.ten'"):
        satisfies("1.10.0", ">= one.ten")


def test_the_required_version_is_read_from_the_root_versions_tf(project_repo):
    assert required_tofu_version(project_repo.path) == ">= 1.10.0, < 2.0.0"


def test_a_tree_without_versions_tf_has_no_required_version(tmp_path):
    assert required_tofu_version(tmp_path) is None


@pytest.mark.parametrize(
    ("name", "output", "expected"),
    [
        ("tofu", '{\n  "terraform_version": "1.10.3",\n  "platform": "linux_amd64"\n}', "1.10.3"),
        (
            "aws",
            "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1016-aws exe/x86_64.ubuntu.22",
            "2.15.30",
        ),
        ("aws", "aws-cli/1.45.11 Python/3.11.7 Linux/6.18.44 botocore/1.43.11", "1.45.11"),
        ("kubectl", '{"clientVersion": {"major": "1", "gitVersion": "v1.31.2"}}', "1.31.2"),
        ("kubectl", "Client Version: v1.31.2", None),
        ("tofu", "OpenTofu v1.10.3", None),
    ],
)
def test_tool_versions_are_read_from_each_tools_own_answer(name, output, expected):
    assert parse_tool_version(name, output) == expected


def test_fake_tofu_in_range_passes_with_its_version(project_repo, fake_tofu):
    fake_tofu.scenario({"version": "1.10.3"})

    assert require_tools(project_repo.path) == {"tofu": "1.10.3"}
    assert fake_tofu.calls() == [["version", "-json"]]


def test_tofu_outside_the_range_is_refused_with_what_to_install(project_repo, fake_tofu):
    fake_tofu.scenario({"version": "1.9.1"})

    with pytest.raises(ToolMissing) as raised:
        require_tools(project_repo.path)

    assert str(raised.value) == (
        f"`{fake_tofu.bin_dir / 'tofu'}` is OpenTofu 1.9.1, but versions.tf requires "
        ">= 1.10.0, < 2.0.0: install a version in that range "
        "(https://opentofu.org/docs/intro/install/) or point HUBOPS_TOFU_BIN at one."
    )


def test_hubops_tofu_bin_overrides_path(project_repo, fake_tofu, bare_path, monkeypatch):
    monkeypatch.setenv("HUBOPS_TOFU_BIN", str(fake_tofu.bin_dir / "tofu"))
    fake_tofu.scenario({"version": "1.10.0"})

    status = tool_status(project_repo.path, "tofu")

    assert status.ok
    assert status.line() == f"tofu OpenTofu 1.10.0 ({fake_tofu.bin_dir / 'tofu'})"


def test_missing_tofu_says_how_to_install_opentofu(project_repo, bare_path):
    with pytest.raises(ToolMissing) as raised:
        require_tools(project_repo.path)

    assert str(raised.value) == f"No `tofu` on PATH: {TOFU_INSTALL}."


def test_every_missing_tool_is_named_at_once(project_repo, bare_path):
    with pytest.raises(ToolMissing) as raised:
        require_tools(project_repo.path, ("tofu", "aws", "kubectl"))

    assert str(raised.value) == (
        f"No `tofu` on PATH: {TOFU_INSTALL}. "
        "No `aws` on PATH: install the AWS CLI: "
        "https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html. "
        "No `kubectl` on PATH: install kubectl: https://kubernetes.io/docs/tasks/tools/."
    )


def test_a_tofu_that_fails_to_report_its_version_is_named(project_repo, monkeypatch):
    false = shutil.which("false")
    monkeypatch.setenv("HUBOPS_TOFU_BIN", false)

    status = tool_status(project_repo.path, "tofu")

    assert status.problem == (
        f"`{false} version -json` failed with exit status 1 (no output): {TOFU_INSTALL}."
    )


def test_a_tofu_that_answers_something_else_is_named(project_repo, monkeypatch):
    echo = shutil.which("echo")
    monkeypatch.setenv("HUBOPS_TOFU_BIN", echo)

    status = tool_status(project_repo.path, "tofu")

    assert status.problem == (
        f"`{echo}` answered its version in a form hubops does not understand ('version -json'): "
        f"{TOFU_INSTALL}."
    )


def test_hubops_tofu_bin_naming_no_executable_is_refused(project_repo, tmp_path, monkeypatch):
    monkeypatch.setenv("HUBOPS_TOFU_BIN", str(tmp_path / "no-such-tofu"))

    with pytest.raises(ToolMissing) as raised:
        require_tools(project_repo.path)

    assert str(raised.value) == (
        f"HUBOPS_TOFU_BIN={tmp_path / 'no-such-tofu'} is not an executable file: point it at the "
        "tofu binary, or unset it to use `tofu` on PATH."
    )


def test_doctor_names_terraform_as_a_cli_compatible_engine(project_repo, real_engine, monkeypatch):
    monkeypatch.setenv("HUBOPS_TOFU_BIN", real_engine.binary)
    engine = identify(real_engine.binary)

    status = tool_status(project_repo.path, "tofu")

    assert status.ok
    if engine.name == "Terraform":
        assert status.line() == (
            f"tofu Terraform {engine.version} ({real_engine.binary}), accepted as a "
            "CLI-compatible engine"
        )
    else:
        assert status.line() == f"tofu OpenTofu {engine.version} ({real_engine.binary})"


def test_without_tofu_doctor_mentions_the_terraform_on_path(project_repo, real_engine, bare_path):
    (bare_path / "terraform").symlink_to(real_engine.binary)
    engine = identify(real_engine.binary)

    status = tool_status(project_repo.path, "tofu")

    assert status.problem == (
        f"No `tofu` on PATH: {TOFU_INSTALL}. Found {engine.name} {engine.version} at "
        f"{bare_path / 'terraform'}, accepted as a CLI-compatible engine: `invoke validate` uses "
        "it; set HUBOPS_TOFU_BIN=terraform to plan and apply with it too."
    )
    # Preflight (which does not ask versions of every tool) says only what is missing.
    assert tool_status(project_repo.path, "tofu", ask_version=False).problem == (
        f"No `tofu` on PATH: {TOFU_INSTALL}."
    )
