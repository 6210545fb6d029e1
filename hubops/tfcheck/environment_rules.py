"""The guide's rules about each environment's own values: pinned nodes, its domain, scale to
zero, the shared image, its state backend, who may use its cluster, who may reach its hub, and
the add-ons all environments share."""

from __future__ import annotations

import re

from hubops.facts.backend_rules import broken_rules
from hubops.facts.environments import (
    BACKEND_FILE,
    PROMOTION_FILE,
)
from hubops.tfcheck.rule_base import (
    MISSING,
    EnvironmentFiles,
    RuleBase,
    as_text,
    violation,
)

# The AMI release of the nodes: "1.35.0-20261120", the Kubernetes version, then the release date.
NODE_RELEASE_VARIABLE = "node_release_version"
NODE_RELEASE = re.compile(r"^(1\.\d+)\.\d+-\d{8}$")
# Node groups for user servers and Dask workers cost nothing while nobody works.
SCALE_TO_ZERO = ("main", "dask-worker")
# One image repository for all environments: production follows the newest image.
SHARED_IMAGE_VARIABLE = "user_image_repository"
# Who may use each environment's Kubernetes API: EKS access entries, listed per environment.
ACCESS_VARIABLE = "cluster_access"
ACCESS_ROLES = ("admin", "view")
# A hub anyone can log in to must not be reachable by anyone.
SOURCE_RANGES_VARIABLE = "hub_allowed_cidrs"
WORLD = ("0.0.0.0/0", "::/0")
# Every EKS add-on at an exact version, shared by all environments.
ADDON_VARIABLE = "addon_versions"
ADDONS = ("vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver", "aws-efs-csi-driver")
EXACT_ADDON_VERSION = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")
_IAM_PRINCIPAL = re.compile(r"^arn:aws:iam::(\d{12}):(role|user)/\S+$")


class EnvironmentRules(RuleBase):
    """Rules over the environments' variable files."""

    def pinned_node_release(self, env: EnvironmentFiles) -> None:
        """cae-dev and cae run only the AMI release their own files name, of their Kubernetes
        version: production's nodes change only through a change of production's files."""
        path, line, value, here = self.value(env, NODE_RELEASE_VARIABLE)
        release = NODE_RELEASE.match(value) if isinstance(value, str) else None
        _, _, kubernetes, _ = self.value(env, "kubernetes_version")
        rule, example = "node images pinned", f'"{kubernetes}.0-YYYYMMDD"'
        if not here or release is None:
            shown = as_text(value) if here else "not set"
            self.findings.append(
                violation(
                    path,
                    line,
                    f"{NODE_RELEASE_VARIABLE} is {shown}, but {env.name}'s nodes run only a "
                    "release its own files pin",
                    rule,
                    f"`invoke promote --to {env.name}` pins the release the environment before "
                    f"it ran (in environments/{env.name}/{PROMOTION_FILE})",
                )
            )
        elif release.group(1) != kubernetes:
            self.findings.append(
                violation(
                    path,
                    line,
                    f"{NODE_RELEASE_VARIABLE} is {as_text(value)}, a release of Kubernetes "
                    f"{release.group(1)}, but {env.name} runs {as_text(kubernetes)}",
                    rule,
                    f"pin a release of {kubernetes}: {NODE_RELEASE_VARIABLE} = {example}",
                )
            )

    def domain(self, env: EnvironmentFiles, wanted: bool) -> None:
        path, line, value, _ = self.value(env, "domain")
        has_domain = isinstance(value, str) and value != ""
        shown = as_text(value) if has_domain else "not set"
        if wanted and not has_domain:
            self.findings.append(
                violation(
                    path,
                    line,
                    f"domain is {shown}, but {env.name} is reached by its DNS name",
                    "domain or not",
                    "set domain to the hub's DNS name",
                )
            )
        elif not wanted and has_domain:
            self.findings.append(
                violation(
                    path,
                    line,
                    f"domain is {shown}, but {env.name} has no DNS name (it is "
                    "reached by its load balancer address)",
                    "domain or not",
                    "remove domain",
                )
            )

    def scale_to_zero(self, env: EnvironmentFiles) -> None:
        rule = "main and dask-worker scale to zero"
        setting = env.setting("node_groups")
        var = self.root.variables.get("node_groups")
        if setting:
            path, line, groups = self.tree.rel(setting[0].path), setting[1].line, setting[1].value
        elif var and var.has_default:
            path, line, groups = self.tree.rel(var.path), var.line, var.default
        else:
            self.findings.append(
                violation(
                    self.tree.rel(env.main_vars_path),
                    1,
                    f"node_groups is not set for {env.name} and has no default",
                    rule,
                    'declare variable "node_groups" with a default holding the main and '
                    "dask-worker groups",
                )
            )
            return
        if not isinstance(groups, dict):
            self.findings.append(
                violation(
                    path,
                    line,
                    "node_groups is not a literal map, so its scaling cannot be checked",
                    rule,
                    "write it out as a map of node groups",
                )
            )
            return
        for group in SCALE_TO_ZERO:
            settings = groups.get(group)
            if not isinstance(settings, dict):
                self.findings.append(
                    violation(
                        path,
                        line,
                        f'node_groups has no "{group}" group',
                        rule,
                        "add it with min_size = 0",
                    )
                )
            elif (size := settings.get("min_size", MISSING)) != 0:
                self.findings.append(
                    violation(
                        path,
                        line,
                        f'node group "{group}" has min_size {as_text(size)}',
                        rule,
                        "set its min_size = 0",
                    )
                )

    def not_per_environment(
        self, env: EnvironmentFiles, variable: str, why: str, rule: str, fix: str
    ) -> None:
        """`variable` is one for every environment: no environment's variable file sets it."""
        for parsed in env.var_files:
            attr = parsed.attrs.get(variable)
            if attr:
                self.findings.append(
                    violation(
                        self.tree.rel(parsed.path),
                        attr.line,
                        f"{env.name} sets {variable}, but {why}",
                        rule,
                        fix,
                    )
                )

    def shared_image(self, env: EnvironmentFiles) -> None:
        rule = "one shared image repository"
        self.not_per_environment(
            env,
            SHARED_IMAGE_VARIABLE,
            "every environment uses the one repository given in variables.tf",
            rule,
            "remove it here",
        )
        var = self.root.variables.get(SHARED_IMAGE_VARIABLE)
        if var and not var.has_default:
            self.findings.append(
                violation(
                    self.tree.rel(var.path),
                    var.line,
                    f'variable "{SHARED_IMAGE_VARIABLE}" has no default, so each environment would '
                    "have to name its own",
                    rule,
                    "give it the shared repository as its default",
                )
            )

    def backend(self, env: EnvironmentFiles, keys: dict[str, str]) -> None:
        path = self.tree.rel(env.directory / BACKEND_FILE)
        if env.backend is None:
            self.findings.append(
                violation(
                    path,
                    1,
                    "this file is missing, so the state has no encrypted backend",
                    "encrypted state",
                    "create it with bucket, key, region, encrypt = true, "
                    "kms_key_id and use_lockfile = true",
                )
            )
            return
        if env.backend.error:
            return
        settings = {name: attr.value for name, attr in env.backend.attrs.items()}

        def line(name: str) -> int:
            attr = env.backend.attrs.get(name)
            return attr.line if attr else 1

        for rule in broken_rules(settings):  # the table `invoke backend` checks too
            self.findings.append(
                violation(path, line(rule.setting), rule.problem(settings), rule.rule, rule.fix)
            )
        key = settings.get("key")
        if not isinstance(key, str) or not key:
            self.findings.append(
                violation(
                    path,
                    line("key"),
                    "key is not set",
                    "distinct state keys",
                    "set key to this environment's own state path",
                )
            )
        elif key in keys:
            self.findings.append(
                violation(
                    path,
                    line("key"),
                    f'key "{key}" is also the state key of {keys[key]}',
                    "distinct state keys",
                    "give each environment its own key",
                )
            )
        else:
            keys[key] = path

    def access_entries(self, env: EnvironmentFiles) -> None:
        rule = "access entries present"
        setting = env.setting(ACCESS_VARIABLE)
        if setting is None:
            var = self.root.variables.get(ACCESS_VARIABLE)
            if var is not None and not var.has_default:
                return  # already reported: a required root variable the environment does not set
            self.findings.append(
                violation(
                    self.tree.rel(env.main_vars_path),
                    1,
                    f"{env.name} does not list who may use its Kubernetes API",
                    rule,
                    f'set {ACCESS_VARIABLE} = {{ "arn:aws:iam::ACCOUNT:role/NAME" = "admin" }} '
                    "with the roles that apply it (CI's and the operators')",
                )
            )
            return
        parsed, attr = setting
        path, line, entries = self.tree.rel(parsed.path), attr.line, attr.value
        if not isinstance(entries, dict) or not entries:
            self.findings.append(
                violation(
                    path,
                    line,
                    f"{ACCESS_VARIABLE} is {as_text(entries)}, not a literal map of principals",
                    rule,
                    'list each IAM role ARN with "admin" or "view"',
                )
            )
            return
        account = env.setting("aws_account_id")
        account_id = account[1].value if account else None
        for principal, role in entries.items():
            match = _IAM_PRINCIPAL.match(str(principal))
            if match is None:
                self.findings.append(
                    violation(
                        path,
                        line,
                        f"{ACCESS_VARIABLE} lists {as_text(principal)}, which is not an IAM role "
                        "or user ARN",
                        rule,
                        "use the role's ARN, arn:aws:iam::ACCOUNT:role/NAME",
                    )
                )
            elif isinstance(account_id, str) and match.group(1) != account_id:
                self.findings.append(
                    violation(
                        path,
                        line,
                        f"{ACCESS_VARIABLE} lists {principal}, of account {match.group(1)}, but "
                        f"{env.name} lives in account {account_id}",
                        rule,
                        "list the roles of the environment's own account",
                    )
                )
            if role not in ACCESS_ROLES:
                self.findings.append(
                    violation(
                        path,
                        line,
                        f"{ACCESS_VARIABLE} gives {principal} {as_text(role)}",
                        rule,
                        'give each principal "admin" or "view"',
                    )
                )
        if "admin" not in entries.values():
            self.findings.append(
                violation(
                    path,
                    line,
                    f'{ACCESS_VARIABLE} of {env.name} has no "admin", so nothing that applies '
                    "it can reach the cluster",
                    rule,
                    "give the roles that apply (CI's, the operators') \"admin\"",
                )
            )

    def source_ranges(self, env: EnvironmentFiles) -> None:
        rule = "an any-password hub is not reachable by anyone"
        path, line, ranges, _ = self.value(env, SOURCE_RANGES_VARIABLE)
        if not isinstance(ranges, list) or not ranges:
            self.findings.append(
                violation(
                    path,
                    line,
                    f"{env.name} lets any username and password in, and {SOURCE_RANGES_VARIABLE} "
                    f"is {as_text(ranges) if ranges is not None else 'null'}, so anyone on the "
                    "internet reaches it",
                    rule,
                    f"set {SOURCE_RANGES_VARIABLE} to the networks its users work from",
                )
            )
            return
        for cidr in ranges:
            if cidr in WORLD:
                self.findings.append(
                    violation(
                        path,
                        line,
                        f"{SOURCE_RANGES_VARIABLE} of {env.name} contains {cidr}: anyone on the "
                        "internet reaches a hub that lets any password in",
                        rule,
                        "list only the networks its users work from",
                    )
                )

    def addon_versions(self, envs: list[EnvironmentFiles]) -> None:
        rule = "add-on versions pinned"
        for env in envs:
            self.not_per_environment(
                env,
                ADDON_VARIABLE,
                "add-on versions follow the shared kubernetes_version and are promoted testing -> "
                "dev -> cae",
                rule,
                "remove it here and change the default in variables.tf",
            )
        var = self.root.variables.get(ADDON_VARIABLE)
        if var is None or not var.has_default or not isinstance(var.default, dict):
            path, line = (self.tree.rel(var.path), var.line) if var else ("variables.tf", 1)
            self.findings.append(
                violation(
                    path,
                    line,
                    f'variable "{ADDON_VARIABLE}" has no literal default naming the '
                    "version of each add-on",
                    rule,
                    f"declare it with a default pinning {', '.join(ADDONS)}",
                )
            )
        else:
            for name in ADDONS:
                version = var.default.get(name, MISSING)
                if not isinstance(version, str) or not EXACT_ADDON_VERSION.match(version):
                    self.findings.append(
                        violation(
                            self.tree.rel(var.path),
                            var.line,
                            f"{ADDON_VARIABLE} gives {name} {as_text(version)}, not an exact "
                            "version",
                            rule,
                            f"pin {name} to a version such as v1.2.3-eksbuild.1 "
                            "(aws eks describe-addon-versions)",
                        )
                    )
        for parsed, block in self.resources("aws_eks_addon"):
            if "addon_version" not in block.attrs:
                self.findings.append(
                    violation(
                        self.tree.rel(parsed.path),
                        block.line,
                        f"aws_eks_addon.{block.labels[1]} has no addon_version, so EKS picks "
                        "one and it never changes by review",
                        rule,
                        f"set addon_version from var.{ADDON_VARIABLE}",
                    )
                )
