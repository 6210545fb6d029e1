"""Which files the engine reads as configuration: one answer for the tree on disk, a commit and
the snapshot a saved plan carries."""

from __future__ import annotations

# OpenTofu reads .tofu files beside Terraform's .tf ones.
CONFIG_SUFFIXES = (".tf", ".tf.json", ".tofu", ".tofu.json")
VARS_SUFFIXES = (".tfvars", ".tfvars.json")
LOCK_FILE = ".terraform.lock.hcl"


def is_configuration_file(name: str) -> bool:
    """What the engine loads from a module's folder (it passes over hidden and backup files)."""
    hidden_or_backup = name.startswith((".", "#")) or name.endswith("~")
    return name.endswith(CONFIG_SUFFIXES) and not hidden_or_backup
