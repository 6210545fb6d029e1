"""The environments: their variable files against the root module, and the guide's rules.

`environments/ENV/` folders without configuration files of their own hold values for the root
module: every root variable without a default must be set there, and nothing undeclared may be.
The guide (seed/operations-readme.md) then fixes how its three environments differ; POLICY holds
that, and the rules below it hold what they share. The guide's rules apply only to the guide's
environments, so other trees checked with `--path` are judged by the structural checks alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from hubops.facts.environments import (
    BACKEND_FILE,
    ENVIRONMENTS_DIR,
    VARS_FILE,
    promotion_sorted,
)
from hubops.tfcheck.environment_rules import EnvironmentRules
from hubops.tfcheck.hub_rules import HubRules
from hubops.tfcheck.production_rules import ProductionRules
from hubops.tfcheck.rule_base import EnvironmentFiles, violation
from hubops.tfcheck.structure import VARS_SUFFIXES, Finding, Module, Tree, config_files
from hubops.tfcheck.walls_rules import WallsRules


@dataclass(frozen=True)
class Policy:
    authentication: str
    domain: bool
    user_directories: bool
    supervised: bool
    # Its nodes run an AMI release its own files pin (else AWS's recommended one, as it comes).
    pinned_nodes: bool


# How the guide's environments differ. Everything else about them is shared.
POLICY = {
    "cae-testing": Policy(
        authentication="dummy",
        domain=False,
        user_directories=False,
        supervised=False,
        pinned_nodes=False,
    ),
    "cae-dev": Policy(
        authentication="cognito",
        domain=True,
        user_directories=False,
        supervised=False,
        pinned_nodes=True,
    ),
    "cae": Policy(
        authentication="cognito",
        domain=True,
        user_directories=True,
        supervised=True,
        pinned_nodes=True,
    ),
}
# The AMI release of the nodes: "1.35.0-20261120", the Kubernetes version, then the release date.


def find_environments(tree: Tree) -> list[EnvironmentFiles]:
    """`environments/*/` folders that hold values for the root module (not modules of their own)."""
    folder = tree.root / ENVIRONMENTS_DIR
    if not folder.is_dir():
        return []
    found = []
    # In promotion order, so a clash is reported at the later environment.
    for name in promotion_sorted(p.name for p in folder.iterdir() if p.is_dir()):
        directory = folder / name
        if directory.name.startswith(".") or config_files(directory):
            continue
        names = sorted(p.name for p in directory.iterdir() if p.name.endswith(VARS_SUFFIXES))
        # terraform.tfvars first: OpenTofu reads it before the others.
        names.sort(key=lambda n: n != VARS_FILE)
        backend = directory / BACKEND_FILE
        found.append(
            EnvironmentFiles(
                directory.name,
                directory,
                [tree.parse(directory / n) for n in names],
                tree.parse(backend) if backend.is_file() else None,
            )
        )
    return found


def check_environment_variables(tree: Tree, root: Module, envs: list[EnvironmentFiles]):
    findings = []
    for env in envs:
        if not env.var_files:
            findings.append(
                Finding(
                    tree.rel(env.main_vars_path),
                    1,
                    "this file is missing: create it with the environment's variable values",
                )
            )
            continue
        if any(f.error for f in env.var_files):
            continue
        for parsed in env.var_files:
            for attr in parsed.attrs.values():
                if attr.name not in root.variables:
                    findings.append(
                        Finding(
                            tree.rel(parsed.path),
                            attr.line,
                            f'sets "{attr.name}", which the root module does not declare: remove '
                            f'it, or declare variable "{attr.name}" in variables.tf',
                        )
                    )
        for var in root.variables.values():
            if not var.has_default and env.setting(var.name) is None:
                findings.append(
                    Finding(
                        tree.rel(env.main_vars_path),
                        1,
                        f'does not set "{var.name}", which the root module requires '
                        f"({tree.rel(var.path)}:{var.line} has no default): set it here",
                    )
                )
    return findings


class _Rules(EnvironmentRules, HubRules, ProductionRules, WallsRules):
    """The guide's rules for one tree; each method adds findings."""

    def unknown_environment(self, env: EnvironmentFiles) -> None:
        known = ", ".join(POLICY)
        self.findings.append(
            violation(
                self.tree.rel(env.main_vars_path),
                1,
                f"{env.name} is not one of the guide's environments ({known}), so no rule says "
                "how it may differ from them, and no promotion step applies it",
                "the guide's environments",
                f"remove environments/{env.name}/, or give it a Policy in POLICY "
                "(hubops/tfcheck/rules.py) and a place in PROMOTION_ORDER "
                "(hubops/facts/environments.py)",
            )
        )


def check_rules(tree: Tree, root: Module, envs: list[EnvironmentFiles]) -> list[Finding]:
    rules = _Rules(tree, root)
    keys: dict[str, str] = {}
    # A tree laid out as the guide's (any of its environments present) has those and no other.
    guide_tree = any(env.name in POLICY for env in envs)
    for env in envs:
        policy = POLICY.get(env.name)
        if policy is None and guide_tree:
            rules.unknown_environment(env)
        if policy is None or any(f.error for f in env.var_files):
            continue
        rules.exact(env, "authentication", policy.authentication, "authentication per environment")
        rules.domain(env, policy.domain)
        rules.exact(
            env, "user_directories", policy.user_directories, "user directories only in cae"
        )
        rules.exact(env, "supervised", policy.supervised, "only cae is supervised")
        if policy.pinned_nodes:
            rules.pinned_node_release(env)
        rules.scale_to_zero(env)
        rules.shared_image(env)
        rules.backend(env, keys)
        rules.access_entries(env)
        if policy.authentication == "dummy":
            rules.source_ranges(env)
        if policy.supervised:
            rules.production_api(env)
    guide = [env for env in envs if env.name in POLICY and not any(f.error for f in env.var_files)]
    if guide:
        rules.addon_versions(guide)
        rules.cost_brakes()
        rules.readiness_gate_alone()
        rules.replacements_cannot_wedge()
        rules.gateway_scopes()
        rules.dask_ingress()
        rules.strict_network_policy()
        rules.health_token_scopes()
        rules.controller_policy()
        if any(POLICY[env.name].domain for env in guide):
            rules.https_port()
            rules.dask_address()
            rules.hub_knows_https()
            rules.front_door_hsts()
        if any(POLICY[env.name].user_directories for env in guide):
            rules.user_pods_private()
            rules.home_mount_authorised()
        if any(POLICY[env.name].supervised for env in guide):
            rules.production_protected()
    return sorted(set(rules.findings))
