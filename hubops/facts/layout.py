"""Where hubops keeps its working files in a checkout: everything under `.hubops/` (ignored by
git), in one place so that every module agrees on it.

    .hubops/tofu-data/ENV          each environment's own engine data directory (TF_DATA_DIR)
    .hubops/tofu-data/validate-*   validate's data directories, never a plan's or an apply's
    .hubops/engine-config/ENV/     the CLI configuration hubops writes for a supervised run
    .hubops/plans/ENV/             saved plans, one file per run, owner-only
    .hubops/locks/ENV.lock         one run per environment per checkout
    .hubops/records/ENV/           run records kept on this machine (HUBOPS_RECORDS_DIR moves it)
    .hubops/cache/tfcheck/         parsed HCL files, by content
"""

from __future__ import annotations

from pathlib import Path

STATE_DIR = ".hubops"


def tofu_data_dir(root: Path, name: str) -> Path:
    return root / STATE_DIR / "tofu-data" / name


def engine_config_dir(root: Path, env_name: str) -> Path:
    return root / STATE_DIR / "engine-config" / env_name


def plans_dir(root: Path, env_name: str) -> Path:
    return root / STATE_DIR / "plans" / env_name


def locks_dir(root: Path) -> Path:
    return root / STATE_DIR / "locks"


def records_dir(root: Path) -> Path:
    return root / STATE_DIR / "records"


def parse_cache(root: Path) -> Path:
    return root / STATE_DIR / "cache" / "tfcheck"
