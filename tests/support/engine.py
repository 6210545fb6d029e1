"""Fixture plugin: the real engine (OpenTofu, else Terraform as a CLI-compatible one) with the real
hashicorp/aws provider from this machine's local filesystem mirror.

These machines have no network to a provider registry: a CLI configuration file whose only
`provider_installation` method is the mirror is how the engine finds its providers (and fails at
once, rather than trying the network, for a provider the mirror lacks). Tests that
need the engine are skipped, with the reason, where the engine or the mirror is absent.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

MIRROR_VARIABLE = "PROVIDER_MIRROR_ROOT"
# Where a filesystem mirror is looked for when PROVIDER_MIRROR_ROOT does not name one.
MIRROR_ROOTS = ("/opt", "/usr/share", "/usr/local/share", str(Path.home() / ".terraform.d"))
AWS_PROVIDER = Path("registry.terraform.io", "hashicorp", "aws")


@dataclass(frozen=True)
class Engine:
    binary: str
    mirror: Path
    cli_config: Path

    def environ(self) -> dict[str, str]:
        """What a process needs to run this engine with the mirror's providers only."""
        return {"TF_CLI_CONFIG_FILE": str(self.cli_config), "HUBOPS_TOFU_BIN": self.binary}


def find_engine_binary() -> str | None:
    return shutil.which("tofu") or shutil.which("terraform")


def find_mirror() -> Path | None:
    """The folder holding registry.terraform.io/hashicorp/aws, at most three levels down a root."""
    configured = os.environ.get(MIRROR_VARIABLE)
    for top in ([configured] if configured else []) + list(MIRROR_ROOTS):
        if not os.path.isdir(top):
            continue
        for dirpath, dirnames, _ in os.walk(top):
            if (Path(dirpath) / AWS_PROVIDER).is_dir():
                return Path(dirpath)
            if dirpath.count(os.sep) - top.count(os.sep) >= 3:
                dirnames[:] = []
    return None


def write_cli_config(path: Path, mirror: Path) -> Path:
    path.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n'
    )
    return path


def missing_reason() -> str | None:
    """Why the real engine cannot run here (None: it can)."""
    if not find_engine_binary():
        return "no real engine (tofu or terraform) on PATH"
    if not find_mirror():
        return (
            "no filesystem mirror of the hashicorp/aws provider (set PROVIDER_MIRROR_ROOT to the "
            "folder holding registry.terraform.io/)"
        )
    return None


# Its tests drive the real engine (tests/support/tiers.py).
FIXTURE_MARKS = {"real_engine": "engine"}


@pytest.fixture(scope="session")
def real_engine(tmp_path_factory) -> Engine:
    """The real engine and a CLI config for the mirror; skips, with why, where either is absent."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    mirror = find_mirror()
    config = write_cli_config(tmp_path_factory.mktemp("engine") / "cli.tfrc", mirror)
    return Engine(binary=find_engine_binary(), mirror=mirror, cli_config=config)
