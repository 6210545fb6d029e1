"""`invoke validate` holds the user image to its pins: exact versions, the chart's dask-gateway, a
base image by tag and digest. Against copies of this repository's own tree and docker/ folder."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from hubops.tfcheck import validate_tree
from tests.support.invoking import run_invoke
from tests.support.tree_copy import REPO, copy_project_tree, line_of, set_value, write

GATEWAY_LINE = line_of(REPO / "docker/environment.yml", "dask-gateway==")
CHART_LINE = line_of(REPO / "modules/hub/variables.tf", 'variable "dask_gateway_chart_version"')


@pytest.fixture
def tree(tmp_path):
    """The project's OpenTofu tree and its docker/ folder, copied."""
    root = copy_project_tree(tmp_path / "tree")
    shutil.copytree(REPO / "docker", root / "docker")
    return root


def findings(root) -> list[str]:
    return [str(f) for f in validate_tree(root, run_tofu=False).findings]


def replace(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_the_repositorys_own_image_files_pass(tree):
    assert findings(tree) == []


def test_every_package_of_the_environment_is_pinned_to_one_exact_version():
    from hubops.adapters.image_files import read_packages

    packages = read_packages(REPO / "docker/environment.yml")

    assert packages, "environment.yml lists no package"
    assert [p.spec for p in packages if p.version is None] == []
    assert {p.name for p in packages} >= {"dask", "distributed", "dask-gateway", "code-server"}


def test_the_image_pins_dask_gateway_to_the_chart_version_in_the_tree():
    from hubops.adapters.image_files import read_packages

    packages = read_packages(REPO / "docker/environment.yml")
    [gateway] = [p for p in packages if p.name == "dask-gateway"]
    chart = (REPO / "modules/hub/variables.tf").read_text()

    assert f'default     = "{gateway.version}"' in chart.split('"dask_gateway_chart_version"')[1]


@pytest.mark.parametrize(
    ("written", "spec"),
    [
        ("numpy", "numpy"),
        ("numpy>=2.3", "numpy>=2.3"),
        # conda's `=` is fuzzy: numpy=2.3.3 also matches 2.3.3.1, a later build of another release.
        ("numpy=2.3.3", "numpy=2.3.3"),
        ("numpy==2.3.*", "numpy==2.3.*"),
    ],
)
def test_validate_refuses_a_package_not_pinned_to_one_exact_version(tree, written, spec):
    env = tree / "docker/environment.yml"
    replace(env, "numpy==2.3.3", written)

    assert findings(tree) == [
        f"docker/environment.yml:{line_of(env, written)}: {spec!r} is not pinned to one exact "
        "version: write `numpy==VERSION` (a `=1.2` or `>=1.2` lets a rebuild of this commit "
        "install another release, so a git revert would not bring the old image back)"
    ]


def test_validate_refuses_an_unpinned_pip_requirement(tree):
    env = tree / "docker/environment.yml"
    env.write_text(env.read_text() + "  - pip\n  - pip:\n      - nbgitpuller>=1.2\n")

    result = findings(tree)

    assert result == [
        f"docker/environment.yml:{line_of(env, '  - pip')}: 'pip' is not pinned to one exact "
        "version: write `pip==VERSION` (a `=1.2` or `>=1.2` lets a rebuild of this commit install "
        "another release, so a git revert would not bring the old image back)",
        f"docker/environment.yml:{line_of(env, 'nbgitpuller')}: 'nbgitpuller>=1.2' is not pinned "
        "to one exact version: write `nbgitpuller==VERSION` (a `=1.2` or `>=1.2` lets a rebuild "
        "of this commit install another release, so a git revert would not bring the old image "
        "back)",
    ]


def test_validate_refuses_a_dask_gateway_other_than_the_chart_version(tree):
    replace(tree / "docker/environment.yml", "dask-gateway==2026.3.0", "dask-gateway==2024.1.0")

    assert findings(tree) == [
        f"docker/environment.yml:{GATEWAY_LINE}: dask-gateway==2024.1.0 differs from the Dask "
        'Gateway chart version 2026.3.0 (variable "dask_gateway_chart_version" default, '
        f"modules/hub/variables.tf:{CHART_LINE}): the client in the image and the gateway in the "
        "cluster must be the same release; set both to one version"
    ]


def test_a_chart_version_moved_without_the_image_is_refused_too(tree):
    replace(tree / "modules/hub/variables.tf", '"2026.3.0"', '"2025.4.0"')

    assert findings(tree) == [
        f"docker/environment.yml:{GATEWAY_LINE}: dask-gateway==2026.3.0 differs from the Dask "
        'Gateway chart version 2025.4.0 (variable "dask_gateway_chart_version" default, '
        f"modules/hub/variables.tf:{CHART_LINE}): the client in the image and the gateway in the "
        "cluster must be the same release; set both to one version"
    ]


def test_a_chart_version_set_by_the_root_module_and_an_environment_is_followed(tree):
    """main.tf passes a root variable to the hub module; cae-dev sets it in its tfvars."""
    replace(
        tree / "main.tf",
        '  source = "./modules/hub"\n',
        '  source = "./modules/hub"\n\n  dask_gateway_chart_version = var.dask_gateway_chart\n',
    )
    write(
        tree / "gateway.tf",
        'variable "dask_gateway_chart" {\n  description = "Dask Gateway chart version."\n'
        '  type        = string\n  default     = "2026.3.0"\n}\n',
    )
    tfvars = tree / "environments/cae-dev/terraform.tfvars"
    line = set_value(tfvars, "dask_gateway_chart", '"2025.4.0"')

    assert findings(tree) == [
        f"docker/environment.yml:{GATEWAY_LINE}: dask-gateway==2026.3.0 differs from the Dask "
        f"Gateway chart version 2025.4.0 (cae-dev: dask_gateway_chart, "
        f"environments/cae-dev/terraform.tfvars:{line}): the client in the image and the gateway "
        "in the cluster must be the same release; set both to one version"
    ]


def test_validate_refuses_an_image_without_dask_gateway(tree):
    env = tree / "docker/environment.yml"
    env.write_text(
        "".join(line for line in env.read_text().splitlines(True) if "dask-gateway==" not in line)
    )

    assert findings(tree) == [
        "docker/environment.yml:1: no dask-gateway package: add `- dask-gateway==2026.3.0` under "
        "dependencies, the Dask Gateway chart version the cluster runs (users' clusters need the "
        "client)"
    ]


def test_validate_refuses_dask_and_distributed_of_different_releases(tree):
    env = tree / "docker/environment.yml"
    replace(env, "distributed==2025.9.1", "distributed==2025.7.0")

    assert findings(tree) == [
        f"docker/environment.yml:{line_of(env, 'distributed==')}: distributed==2025.7.0 is not "
        f"the release of dask==2025.9.1 (line {line_of(env, 'dask==')}): pin both to the same "
        "version, which distributed requires"
    ]


@pytest.mark.parametrize(
    "base",
    [
        "quay.io/jupyter/minimal-notebook:2025-10-21",
        "quay.io/jupyter/minimal-notebook",
        "quay.io/jupyter/minimal-notebook@sha256:" + "0" * 64,
    ],
)
def test_validate_refuses_a_base_image_without_tag_and_digest(tree, base):
    dockerfile = tree / "docker/Dockerfile"
    lines = dockerfile.read_text().splitlines(True)
    number = next(i for i, line in enumerate(lines) if line.startswith("FROM "))
    lines[number] = f"FROM {base}\n"
    dockerfile.write_text("".join(lines))
    tag = "2025-10-21" if ":2025" in base else "TAG"

    assert findings(tree) == [
        f"docker/Dockerfile:{number + 1}: the base image {base} is not pinned by tag and digest: "
        f"write `FROM quay.io/jupyter/minimal-notebook:{tag}@sha256:DIGEST` (`docker buildx "
        f"imagetools inspect quay.io/jupyter/minimal-notebook:{tag}` prints the digest), so a "
        "rebuild starts from the same bytes"
    ]


def test_a_registry_with_a_port_is_not_mistaken_for_a_tag(tree):
    dockerfile = tree / "docker/Dockerfile"
    text = dockerfile.read_text()
    start = text.index("FROM ")
    end = text.index("\n", start)
    digest = "sha256:" + "ab" * 32
    base = f"FROM registry.example.org:5000/base:1.0@{digest}"
    dockerfile.write_text(text[:start] + base + text[end:])

    assert findings(tree) == []


def test_environment_yml_that_is_not_yaml_is_one_finding_at_its_line(tree):
    env = tree / "docker/environment.yml"
    env.write_text("dependencies:\n  - numpy==2.3.3\n  - [unclosed\n")

    [finding] = findings(tree)

    assert finding.startswith("docker/environment.yml:")
    assert "not valid YAML" in finding


def test_a_tree_without_docker_folder_has_no_image_checks(tmp_path):
    root = copy_project_tree(tmp_path / "tree")

    assert findings(root) == []


def test_invoke_validate_prints_the_image_finding_and_exits_1(tree, tmp_path):
    replace(tree / "docker/environment.yml", "dask-gateway==2026.3.0", "dask-gateway=2026.3.0")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    environ = {k: v for k, v in os.environ.items() if k not in ("HUBOPS_TOFU_BIN", "HUBOPS_ROOT")}
    environ["PATH"] = str(empty)

    result: subprocess.CompletedProcess = run_invoke(
        "validate", "--path", str(tree), cwd=REPO, env=environ
    )

    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        f"docker/environment.yml:{GATEWAY_LINE}: 'dask-gateway=2026.3.0' is not pinned to one "
        "exact version: write `dask-gateway==VERSION` (a `=1.2` or `>=1.2` lets a rebuild of this "
        "commit install another release, so a git revert would not bring the old image back)"
    )
    assert result.stderr.startswith("validate: 1 finding (")
