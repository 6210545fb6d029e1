"""The configuration a saved plan carries (its zip's `tfconfig/`), against a commit's files."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile

import pytest

from hubops.facts.plan_configuration import (
    NotAPlanSnapshot,
    differences,
    git_blob_id,
    read_plan_configuration,
)

MAIN = b'module "edge" {\n  source = "./modules/edge"\n}\n'
EDGE = b'resource "aws_lb" "hub" {}\n'
LOCK = b"# lock\n"
MODULES = [
    {"Key": "", "Dir": "."},
    {"Key": "edge", "Source": "./modules/edge", "Dir": "modules/edge"},
]


def plan(members: dict[str, bytes], modules=MODULES) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("tfplan", b"\x00binary")
        archive.writestr("tfconfig/modules.json", json.dumps(modules))
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def tree(files: dict[str, bytes]) -> dict[str, str]:
    return {path: git_blob_id(content, 40) for path, content in files.items()}


COMMIT = {
    "main.tf": MAIN,
    "modules/edge/main.tf": EDGE,
    "modules/edge/README.md": b"not configuration\n",
    "environments/cae/terraform.tfvars": b'environment = "cae"\n',
    ".terraform.lock.hcl": LOCK,
}
SNAPSHOT = {
    "tfconfig/m-/main.tf": MAIN,
    "tfconfig/m-edge/main.tf": EDGE,
    ".terraform.lock.hcl": LOCK,
}


def test_a_blob_id_is_the_one_git_gives(tmp_path):
    (tmp_path / "main.tf").write_bytes(MAIN)
    by_git = subprocess.run(
        ["git", "hash-object", str(tmp_path / "main.tf")], capture_output=True, text=True
    )

    assert git_blob_id(MAIN, 40) == by_git.stdout.strip()


def test_the_commits_own_configuration_has_no_differences():
    config = read_plan_configuration(plan(SNAPSHOT))

    assert config.folders == {"", "modules/edge"}
    assert differences(config, tree(COMMIT)) == []


@pytest.mark.parametrize(
    ("members", "found"),
    [
        ({**SNAPSHOT, "tfconfig/m-/zz.tf": b"x"}, ["zz.tf (not in the commit)"]),
        ({**SNAPSHOT, "tfconfig/m-edge/main.tf": b"y"}, ["modules/edge/main.tf (changed)"]),
        (
            {k: v for k, v in SNAPSHOT.items() if k != "tfconfig/m-edge/main.tf"},
            ["modules/edge/main.tf (in the commit, not in the plan)"],
        ),
        ({**SNAPSHOT, ".terraform.lock.hcl": b"other"}, [".terraform.lock.hcl (changed)"]),
        (
            {k: v for k, v in SNAPSHOT.items() if k != ".terraform.lock.hcl"},
            [".terraform.lock.hcl (changed)"],
        ),
    ],
    ids=["a file added", "a file changed", "a file left out", "other locks", "no lock"],
)
def test_each_file_the_plan_carries_differently_is_named(members, found):
    assert differences(read_plan_configuration(plan(members)), tree(COMMIT)) == found


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"not a zip", "it is not a saved plan's zip archive (File is not a zip file)"),
        (plan(SNAPSHOT, modules={"Key": ""}), "its tfconfig/modules.json is not a list of modules"),
        (
            plan(
                SNAPSHOT,
                modules=[
                    *MODULES,
                    {
                        "Key": "eks",
                        "Source": "terraform-aws-modules/eks/aws",
                        "Dir": ".terraform/modules/eks",
                    },
                ],
            ),  # fmt: skip
            "module eks comes from 'terraform-aws-modules/eks/aws', outside the repository, "
            "where no commit can vouch for it",
        ),
        (
            plan(SNAPSHOT, modules=[*MODULES[:1], {"Key": "up", "Source": "../x", "Dir": "../x"}]),
            "a module's folder '../x' is outside the working directory",
        ),
        (
            plan({**SNAPSHOT, "tfconfig/m-other/main.tf": b""}),
            "tfconfig/m-other/main.tf belongs to no module of its tfconfig/modules.json",
        ),
    ],
    ids=["no zip", "no module list", "a registry module", "outside", "an unknown module"],
)
def test_a_plan_whose_configuration_cannot_be_read_says_why(content, why):
    with pytest.raises(NotAPlanSnapshot) as raised:
        read_plan_configuration(content)

    assert str(raised.value) == why
