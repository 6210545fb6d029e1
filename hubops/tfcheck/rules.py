"""The environments: their variable files against the root module, and the guide's rules.

`environments/ENV/` folders without configuration files of their own hold values for the root
module: every root variable without a default must be set there, and nothing undeclared may be.
The guide (seed/operations-readme.md) then fixes how its three environments differ; POLICY holds
that, and the rules below it hold what they share. The guide's rules apply only to the guide's
environments, so other trees checked with `--path` are judged by the structural checks alone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from hubops.adapters.hcl import Attr, Block, ParsedFile
from hubops.facts.backend_rules import broken_rules
from hubops.facts.environments import (
    BACKEND_FILE,
    ENVIRONMENTS_DIR,
    PROMOTION_FILE,
    VARS_FILE,
    promotion_sorted,
)
from hubops.tfcheck.structure import VARS_SUFFIXES, Finding, Module, Tree, config_files


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
# Production's stateful resources, each kept by prevent_destroy: (module folder, type, name, what).
PREVENT_DESTROY = (
    ("modules/user-directories", "aws_efs_file_system", "home", "the users' directories"),
    ("modules/user-directories", "aws_kms_key", "home", "the key of the users' directories"),
    ("modules/cognito", "terraform_data", "user_pool_guard", "the guard of the user pool"),
    ("modules/eks", "terraform_data", "cluster_guard", "the guard of the cluster"),
    ("modules/edge", "terraform_data", "front_door_guard", "the guard of the hub's front door"),
)
# Module calls that must protect the supervised environment: (module, what it protects there).
PROTECTED_CALLS = (
    ("cognito", "the supervised environment's user pool"),
    ("eks", "the supervised environment's cluster and hub database volume"),
    ("edge", "the supervised environment's front door (its load balancer's address)"),
)
# How each call says "protected in the supervised environment": the front door once it alone
# serves ("alb"); in "both" DNS may still point at the Service's, and backing out deletes it.
SUPERVISED = "${var.supervised}"
PROTECTION = {"edge": '${var.supervised && var.front_door == "alb"}'}
EKS_MODULE = "modules/eks"
# The default storage class (the hub's database volume) keeps released volumes where protected.
RETAINED = ("Retain", '${var.protected ? "Retain" : "Delete"}')
HUB_MODULE = "modules/hub"
EDGE_MODULE = "modules/edge"
# Resources of the front door a plan may have to replace while another resource still uses them:
# each made before the old one goes (create_before_destroy), under a name of its own (name_prefix).
REPLACED_IN_PLACE_OF = ("aws_lb_target_group", "aws_security_group")
READINESS_GATE_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject"
READINESS_GATE_ONLY_ALB = '${var.front_door == "alb" ?'
# What notebooks call Dask Gateway at (its client's setting), and the services that can answer it.
DASK_ADDRESS_VARIABLE = "DASK_GATEWAY__ADDRESS"
PROXY_SERVICE = "proxy-public"
TRAEFIK_PREFIX = "traefik-"
DEFAULT_PORTS = {"http": 80, "https": 443}
# Whether proxy-public offloads https: true while it is a front door, false behind the application
# load balancer alone (front_door = "alb"), where it is a ClusterIP Service.
PER_PHASE = "${local.service_offloads_https}"
_LOCAL_REFERENCE = re.compile(r"\$\{local\.(\w+)\}")
COGNITO_MODULE = "modules/cognito"
# User code (notebooks, Dask schedulers and workers) must not reach private addresses, where the
# home directories' NFS mount targets (TCP 2049) are: only the nodes' EFS CSI driver mounts them.
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
DASK_POD_COMPONENTS = ("dask-scheduler", "dask-worker")
# Cost brakes: Dask Gateway's settings (its defaults: never idle out, no limits) and the culler.
DASK_BRAKES = (
    "c.ClusterConfig.idle_timeout",
    "c.ClusterConfig.cluster_max_workers",
    "c.ClusterConfig.cluster_max_cores",
    "c.ClusterConfig.cluster_max_memory",
)
# The home directories mount only with IAM (the EFS CSI driver's role) and TLS.
USER_DIRECTORIES_MODULE = "modules/user-directories"
HOME_MOUNT_OPTIONS = ("iam", "tls")
_POLICY_DOCUMENT = re.compile(r"^\$\{data\.aws_iam_policy_document\.(\w+)\.json\}$")
_IAM_PRINCIPAL = re.compile(r"^arn:aws:iam::(\d{12}):(role|user)/\S+$")

_MISSING = object()


@dataclass
class EnvironmentFiles:
    name: str
    directory: Path
    var_files: list[ParsedFile]
    backend: ParsedFile | None

    def setting(self, name: str) -> tuple[ParsedFile, Attr] | None:
        """Where this environment sets `name` (a later file overrides an earlier one)."""
        found = None
        for parsed in self.var_files:
            if name in parsed.attrs:
                found = (parsed, parsed.attrs[name])
        return found

    @property
    def main_vars_path(self) -> Path:
        return self.var_files[0].path if self.var_files else self.directory / VARS_FILE


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


def _show(value: object) -> str:
    if value is _MISSING:
        return "not set"
    return json.dumps(value)


def _violation(path: str, line: int, problem: str, rule: str, fix: str) -> Finding:
    return Finding(path, line, f'{problem} (rule "{rule}"): {fix}')


class _Rules:
    """The guide's rules for one tree; each method adds findings."""

    def __init__(self, tree: Tree, root: Module):
        self.tree = tree
        self.root = root
        self.findings: list[Finding] = []

    def value(self, env: EnvironmentFiles, name: str) -> tuple[str, int, object, bool]:
        """(path, line, effective value, whether the environment sets it itself)."""
        setting = env.setting(name)
        if setting:
            parsed, attr = setting
            return self.tree.rel(parsed.path), attr.line, attr.value, True
        var = self.root.variables.get(name)
        value = var.default if var and var.has_default else _MISSING
        return self.tree.rel(env.main_vars_path), 1, value, False

    def exact(self, env: EnvironmentFiles, name: str, expected: object, rule: str) -> None:
        path, line, value, here = self.value(env, name)
        if value != expected or type(value) is not type(expected):
            shown = (
                _show(value)
                if here or value is _MISSING
                else (f"{_show(value)} (the default in variables.tf)")
            )
            self.findings.append(
                _violation(
                    path,
                    line,
                    f"{name} is {shown}, but {env.name} needs {name} = {_show(expected)}",
                    rule,
                    f"set {name} = {_show(expected)}",
                )
            )

    def pinned_node_release(self, env: EnvironmentFiles) -> None:
        """cae-dev and cae run only the AMI release their own files name, of their Kubernetes
        version: production's nodes change only through a change of production's files."""
        path, line, value, here = self.value(env, NODE_RELEASE_VARIABLE)
        release = NODE_RELEASE.match(value) if isinstance(value, str) else None
        _, _, kubernetes, _ = self.value(env, "kubernetes_version")
        rule, example = "node images pinned", f'"{kubernetes}.0-YYYYMMDD"'
        if not here or release is None:
            shown = _show(value) if here else "not set"
            self.findings.append(
                _violation(
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
                _violation(
                    path,
                    line,
                    f"{NODE_RELEASE_VARIABLE} is {_show(value)}, a release of Kubernetes "
                    f"{release.group(1)}, but {env.name} runs {_show(kubernetes)}",
                    rule,
                    f"pin a release of {kubernetes}: {NODE_RELEASE_VARIABLE} = {example}",
                )
            )

    def domain(self, env: EnvironmentFiles, wanted: bool) -> None:
        path, line, value, _ = self.value(env, "domain")
        has_domain = isinstance(value, str) and value != ""
        shown = _show(value) if has_domain else "not set"
        if wanted and not has_domain:
            self.findings.append(
                _violation(
                    path,
                    line,
                    f"domain is {shown}, but {env.name} is reached by its DNS name",
                    "domain or not",
                    "set domain to the hub's DNS name",
                )
            )
        elif not wanted and has_domain:
            self.findings.append(
                _violation(
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
                _violation(
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
                _violation(
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
                    _violation(
                        path,
                        line,
                        f'node_groups has no "{group}" group',
                        rule,
                        "add it with min_size = 0",
                    )
                )
            elif (size := settings.get("min_size", _MISSING)) != 0:
                self.findings.append(
                    _violation(
                        path,
                        line,
                        f'node group "{group}" has min_size {_show(size)}',
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
                    _violation(
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
                _violation(
                    self.tree.rel(var.path),
                    var.line,
                    f'variable "{SHARED_IMAGE_VARIABLE}" has no default, so each environment would '
                    "have to name its own",
                    rule,
                    "give it the shared repository as its default",
                )
            )

    def unknown_environment(self, env: EnvironmentFiles) -> None:
        known = ", ".join(POLICY)
        self.findings.append(
            _violation(
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

    def backend(self, env: EnvironmentFiles, keys: dict[str, str]) -> None:
        path = self.tree.rel(env.directory / BACKEND_FILE)
        if env.backend is None:
            self.findings.append(
                _violation(
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
                _violation(path, line(rule.setting), rule.problem(settings), rule.rule, rule.fix)
            )
        key = settings.get("key")
        if not isinstance(key, str) or not key:
            self.findings.append(
                _violation(
                    path,
                    line("key"),
                    "key is not set",
                    "distinct state keys",
                    "set key to this environment's own state path",
                )
            )
        elif key in keys:
            self.findings.append(
                _violation(
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
                _violation(
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
                _violation(
                    path,
                    line,
                    f"{ACCESS_VARIABLE} is {_show(entries)}, not a literal map of principals",
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
                    _violation(
                        path,
                        line,
                        f"{ACCESS_VARIABLE} lists {_show(principal)}, which is not an IAM role "
                        "or user ARN",
                        rule,
                        "use the role's ARN, arn:aws:iam::ACCOUNT:role/NAME",
                    )
                )
            elif isinstance(account_id, str) and match.group(1) != account_id:
                self.findings.append(
                    _violation(
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
                    _violation(
                        path,
                        line,
                        f"{ACCESS_VARIABLE} gives {principal} {_show(role)}",
                        rule,
                        'give each principal "admin" or "view"',
                    )
                )
        if "admin" not in entries.values():
            self.findings.append(
                _violation(
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
                _violation(
                    path,
                    line,
                    f"{env.name} lets any username and password in, and {SOURCE_RANGES_VARIABLE} "
                    f"is {_show(ranges) if ranges is not None else 'null'}, so anyone on the "
                    "internet reaches it",
                    rule,
                    f"set {SOURCE_RANGES_VARIABLE} to the networks its users work from",
                )
            )
            return
        for cidr in ranges:
            if cidr in WORLD:
                self.findings.append(
                    _violation(
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
                _violation(
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
                version = var.default.get(name, _MISSING)
                if not isinstance(version, str) or not EXACT_ADDON_VERSION.match(version):
                    self.findings.append(
                        _violation(
                            self.tree.rel(var.path),
                            var.line,
                            f"{ADDON_VARIABLE} gives {name} {_show(version)}, not an exact version",
                            rule,
                            f"pin {name} to a version such as v1.2.3-eksbuild.1 "
                            "(aws eks describe-addon-versions)",
                        )
                    )
        for parsed, block in self.resources("aws_eks_addon"):
            if "addon_version" not in block.attrs:
                self.findings.append(
                    _violation(
                        self.tree.rel(parsed.path),
                        block.line,
                        f"aws_eks_addon.{block.labels[1]} has no addon_version, so EKS picks "
                        "one and it never changes by review",
                        rule,
                        f"set addon_version from var.{ADDON_VARIABLE}",
                    )
                )

    def https_port(self) -> None:
        rule = "no open http port on https environments"
        where = self.tree.root / HUB_MODULE
        for parsed, block in self.blocks_in(where, "locals"):
            attr = block.attrs.get("jupyterhub_values")
            if attr is None:
                continue
            service = attr.value
            for key in ("proxy", "service"):
                service = service.get(key) if isinstance(service, dict) else None
            value = service.get("disableHttpPort", _MISSING) if isinstance(service, dict) else None
            # Behind the application load balancer alone (local.service_offloads_https false),
            # proxy-public is a ClusterIP Service: its port 80 is not reachable from outside.
            if value not in (True, "${local.https}", PER_PHASE):
                self.findings.append(
                    _violation(
                        self.tree.rel(parsed.path),
                        attr.line,
                        "the hub's proxy service keeps port 80 open where it serves https "
                        f"(proxy.service.disableHttpPort is {_show(value)})",
                        rule,
                        "set proxy.service.disableHttpPort = local.service_offloads_https",
                    )
                )
            return
        self.findings.append(
            _violation(
                f"{HUB_MODULE}/main.tf",
                1,
                "no jupyterhub_values local in the hub module, so its http port cannot be checked",
                rule,
                "keep the chart's values in local.jupyterhub_values",
            )
        )

    def dask_address(self) -> None:
        """Notebooks reach Dask Gateway only at a port its service really has.

        Zero to JupyterHub drops proxy-public's port 80 where https is offloaded, so an address
        through the proxy works in cae-testing and is refused in every environment with a domain.
        Gateway's own traefik service does not depend on how the front door is built.
        """
        rule = "Dask address names a port that exists"
        fix = (
            "set DASK_GATEWAY__ADDRESS = "
            '"http://${local.traefik_service}/services/${local.dask_gateway}"'
        )
        found = self.hub_locals()
        if "jupyterhub_values" not in found:
            return  # https_port reports the missing values
        parsed, attr = found["jupyterhub_values"]
        where = (self.tree.rel(parsed.path), attr.line)
        env = _path(attr.value, "singleuser", "extraEnv")
        address = env.get(DASK_ADDRESS_VARIABLE, _MISSING) if isinstance(env, dict) else _MISSING
        if not isinstance(address, str):
            self.findings.append(
                _violation(*where, "notebooks are not told where Dask Gateway is "
                           f"(singleuser.extraEnv.{DASK_ADDRESS_VARIABLE} is {_show(address)})",
                           rule, fix)
            )  # fmt: skip
            return
        url = urlsplit(_resolve_locals(address, found))
        host = (url.hostname or "").split(".")[0]
        try:
            port = url.port or DEFAULT_PORTS.get(url.scheme)
        except ValueError:
            port = None
        if host == PROXY_SERVICE:
            ports = self.proxy_ports(attr.value)
            service = (
                f"{PROXY_SERVICE} (ports {', '.join(ports) or 'none'} in every front door phase "
                "where https is on)"
            )
        elif host.startswith(TRAEFIK_PREFIX):
            gateway = found.get("dask_gateway_values")
            web = _path(gateway[1].value if gateway else {}, "traefik", "service", "ports", "web")
            ports = [str(_path(web, "port") or 80)] if url.scheme == "http" else []
            service = f"{host} (http port {_path(web, 'port') or 80})"
        else:
            self.findings.append(
                _violation(*where, f"the Dask address {url.geturl()} names neither Dask Gateway's "
                           f"traefik service nor {PROXY_SERVICE}", rule, fix)
            )  # fmt: skip
            return
        if str(port) not in ports:
            self.findings.append(
                _violation(*where, f"notebooks call Dask Gateway at {url.geturl()}, port {port}, "
                           f"which {service} does not have: every Gateway() is refused", rule, fix)
            )  # fmt: skip

    def user_pods_private(self) -> None:
        """Notebooks and Dask pods reach no private address range, so no NFS mount target."""
        rule = "user pods do not reach the home directories' NFS"
        found = self.hub_locals()
        if "jupyterhub_values" not in found:
            return  # https_port reports the missing values
        parsed, attr = found["jupyterhub_values"]
        where = (self.tree.rel(parsed.path), attr.line)
        policy = _path(attr.value, "singleuser", "networkPolicy")
        if _path(policy, "enabled") is False:
            self.findings.append(
                _violation(*where, "notebooks have no network policy "
                           "(singleuser.networkPolicy.enabled is false), so they reach the home "
                           "directories' NFS mount targets", rule,
                           "remove singleuser.networkPolicy.enabled = false")
            )  # fmt: skip
        if _path(policy, "egressAllowRules", "privateIPs") is True:
            self.findings.append(
                _violation(*where, "notebooks may reach every private address "
                           "(singleuser.networkPolicy.egressAllowRules.privateIPs is true), the "
                           "home directories' NFS mount targets among them", rule,
                           "set privateIPs = false and allow what notebooks need by pod in "
                           "singleuser.networkPolicy.egress")
            )  # fmt: skip
        egress = _path(policy, "egress")
        rules = [r for r in egress if isinstance(r, dict)] if isinstance(egress, list) else []
        for target in (t for r in rules for t in r.get("to") or []):
            if isinstance(target, dict) and "ipBlock" in target:
                self.findings.append(
                    _violation(*where, "a notebook egress rule allows an address range "
                               f"({_show(target['ipBlock'])}) rather than pods", rule,
                               "allow pods by podSelector; addresses are the chart's "
                               "egressAllowRules (nonPrivateIPs)")
                )  # fmt: skip
        self.dask_pods_private(found)

    def dask_pods_private(self, found: dict[str, tuple[ParsedFile, Attr]]) -> None:
        rule = "user pods do not reach the home directories' NFS"
        policies = [
            (parsed, block)
            for parsed, block in self.blocks_in(self.tree.root / HUB_MODULE, "resource")
            if block.labels[:1] == ["kubernetes_network_policy_v1"]
            and _selects_dask_pods(block, found)
        ]
        if not policies:
            self.findings.append(
                _violation(f"{HUB_MODULE}/main.tf", 1, "no NetworkPolicy selects the Dask "
                           "schedulers and workers, so they reach the home directories' NFS "
                           "mount targets", rule, 'add a kubernetes_network_policy_v1 for pods '
                           'whose app.kubernetes.io/component is "dask-scheduler" or '
                           '"dask-worker", with egress rules that except the private ranges')
            )  # fmt: skip
        for parsed, block in policies:
            spec = _first(block, "spec")
            types = (
                _resolve_value(spec.attrs["policy_types"].value, found)
                if (spec and "policy_types" in spec.attrs)
                else []
            )
            egress = [b for b in spec.blocks if b.type == "egress"] if spec else []
            where = (self.tree.rel(parsed.path), block.line)
            name = f"kubernetes_network_policy_v1.{block.labels[1]}"
            if not isinstance(types, list) or "Egress" not in types:
                self.findings.append(
                    _violation(*where, f"{name} does not limit the Dask pods' egress "
                               f"(policy_types is {_show(types)})", rule,
                               'set policy_types = ["Egress"]')
                )  # fmt: skip
                continue
            for rule_block in egress:
                if not any(b.type == "to" for b in rule_block.blocks):
                    self.findings.append(
                        _violation(self.tree.rel(parsed.path), rule_block.line, f"an egress "
                                   f"rule of {name} has no `to`, so it allows every address",
                                   rule, "name the pods or ranges it allows")
                    )  # fmt: skip
                for to in (b for b in rule_block.blocks if b.type == "to"):
                    for ip_block in (b for b in to.blocks if b.type == "ip_block"):
                        excepted = _resolve_value(
                            ip_block.attrs["except"].value if "except" in ip_block.attrs else [],
                            found,
                        )
                        missing = [r for r in PRIVATE_RANGES if r not in (excepted or [])]
                        if missing:
                            self.findings.append(
                                _violation(self.tree.rel(parsed.path), ip_block.line,
                                           f"an egress rule of {name} lets Dask pods reach "
                                           f"{', '.join(missing)}, where the home directories' "
                                           "NFS mount targets are", rule,
                                           f"add {', '.join(missing)} to its except")
                            )  # fmt: skip

    def home_mount_authorised(self) -> None:
        """The file system policy refuses mounts without TLS and grants mounting to named roles."""
        rule = "home directories mount with IAM and TLS"
        where = self.tree.root / USER_DIRECTORIES_MODULE
        resources = self.blocks_in(where, "resource")
        documents = {b.labels[1]: (f, b) for f, b in self.blocks_in(where, "data")
                     if b.labels[:1] == ["aws_iam_policy_document"]}  # fmt: skip
        policies = [(f, b) for f, b in resources if b.labels[:1] == ["aws_efs_file_system_policy"]]
        if not policies:
            self.findings.append(
                _violation(f"{USER_DIRECTORIES_MODULE}/main.tf", 1, "the home directories' file "
                           "system has no policy, so any NFS client in the VPC may mount it as "
                           "root", rule, "add an aws_efs_file_system_policy that denies "
                           "aws:SecureTransport = false and allows mounting to the EFS CSI "
                           "driver's role only")
            )  # fmt: skip
        for parsed, block in policies:
            policy = block.attrs.get("policy")
            match = _POLICY_DOCUMENT.match(policy.value) if policy and isinstance(
                policy.value, str) else None  # fmt: skip
            found = documents.get(match.group(1)) if match else None
            if found is None:
                self.findings.append(
                    _violation(self.tree.rel(parsed.path), block.line, f"aws_efs_file_system_"
                               f"policy.{block.labels[1]} is not an aws_iam_policy_document of "
                               "this module, so what it allows cannot be checked", rule,
                               "write it as a data \"aws_iam_policy_document\" here")
                )  # fmt: skip
                continue
            self.home_policy_document(*found, rule)
        for parsed, block in resources:
            if block.labels[:1] != ["kubernetes_persistent_volume_v1"]:
                continue
            spec = _first(block, "spec")
            options = spec.attrs["mount_options"].value if spec and (
                "mount_options" in spec.attrs) else []  # fmt: skip
            missing = [o for o in HOME_MOUNT_OPTIONS if o not in (options or [])]
            if missing:
                self.findings.append(
                    _violation(self.tree.rel(parsed.path), block.line, f"kubernetes_persistent_"
                               f"volume_v1.{block.labels[1]} mounts without {', '.join(missing)}, "
                               "which the file system policy requires: every server start fails "
                               "to mount its home", rule, 'set mount_options = ["iam", "tls"]')
                )  # fmt: skip

    def home_policy_document(self, parsed: ParsedFile, document: Block, rule: str) -> None:
        name = f"data.aws_iam_policy_document.{document.labels[1]}"
        statements = [b for b in document.blocks if b.type == "statement"]
        denies_plain = any(
            _value_of(s, "effect") == "Deny"
            and any(
                _value_of(c, "variable") == "aws:SecureTransport"
                and _value_of(c, "values") == ["false"]
                for c in s.blocks
                if c.type == "condition"
            )
            for s in statements
        )
        if not denies_plain:
            self.findings.append(
                _violation(self.tree.rel(parsed.path), document.line, f"{name} does not refuse "
                           "mounts without TLS", rule, "add a Deny statement for every principal "
                           'with condition Bool aws:SecureTransport = ["false"]')
            )  # fmt: skip
        for statement in statements:
            if _value_of(statement, "effect") == "Deny":
                continue
            for principals in (b for b in statement.blocks if b.type == "principals"):
                if "*" in (_value_of(principals, "identifiers") or []):
                    self.findings.append(
                        _violation(self.tree.rel(parsed.path), statement.line, f"{name} lets "
                                   "any principal mount the home directories", rule,
                                   "allow only the EFS CSI driver's role "
                                   "(module.efs_csi_role.arn)")
                    )  # fmt: skip

    def cost_brakes(self) -> None:
        """Idle Dask clusters and notebook servers stop, and a Dask cluster has a size limit."""
        rule = "Dask and idle servers have cost brakes"
        found = self.hub_locals()
        if "dask_gateway_values" in found:
            parsed, attr = found["dask_gateway_values"]
            extra = _path(attr.value, "gateway", "extraConfig")
            code = "\n".join(map(str, extra.values())) if isinstance(extra, dict) else str(extra)
            missing = [setting for setting in DASK_BRAKES if f"{setting} =" not in code]
            if missing:
                self.findings.append(
                    _violation(self.tree.rel(parsed.path), attr.line, "Dask Gateway's "
                               f"gateway.extraConfig does not set {', '.join(missing)}: Dask "
                               "clusters never stop when idle and grow to the whole dask-worker "
                               "node group", rule, "set each from var.dask_limits")
                )  # fmt: skip
        if "jupyterhub_values" in found:
            parsed, attr = found["jupyterhub_values"]
            enabled = _path(attr.value, "cull", "enabled")
            if enabled is not True:
                self.findings.append(
                    _violation(self.tree.rel(parsed.path), attr.line, "idle notebook servers "
                               f"are not stopped (cull.enabled is {_show(enabled)}), so their "
                               "user nodes never scale away", rule, "set cull.enabled = true "
                               "with timeout and every from var.notebook_culling")
                )  # fmt: skip

    def proxy_ports(self, jupyterhub_values: object) -> list[str]:
        """proxy-public's ports in an environment with a domain (the chart's service template).

        A value that depends on the environment's front door (`${local.service_offloads_https}`)
        keeps neither port in every phase: port 80 is gone while the Service offloads https
        (front_door "service" and "both"), 443 once the application load balancer alone serves
        ("alb"). An address must hold in every phase, so neither counts.
        """
        ports = []
        if _path(jupyterhub_values, "proxy", "service", "disableHttpPort") in (False, None):
            ports.append("80")
        if _path(jupyterhub_values, "proxy", "https", "enabled") not in (False, None, PER_PHASE):
            ports.append("443")
        return ports

    def hub_locals(self) -> dict[str, tuple[ParsedFile, Attr]]:
        return {
            name: (parsed, attr)
            for parsed, block in self.blocks_in(self.tree.root / HUB_MODULE, "locals")
            for name, attr in block.attrs.items()
        }

    def replacements_cannot_wedge(self) -> None:
        """A forced replacement of the front door's target group (a listener uses it) or security
        group (the load balancer uses it) must make the new one first, under a new name."""
        for parsed, block in self.blocks_in(self.tree.root / EDGE_MODULE, "resource"):
            if block.labels[0] not in REPLACED_IN_PLACE_OF:
                continue
            before = any(
                b.type == "lifecycle"
                and b.attrs.get("create_before_destroy")
                and b.attrs["create_before_destroy"].value is True
                for b in block.blocks
            )
            if "name" in block.attrs or "name_prefix" not in block.attrs or not before:
                self.findings.append(
                    _violation(
                        self.tree.rel(parsed.path),
                        block.line,
                        f"{'.'.join(block.labels)} would be replaced while another resource uses "
                        "it, under the same name: the replacement would fail and wedge the apply",
                        "replacements that cannot wedge",
                        "give it name_prefix (not name) and lifecycle { create_before_destroy = "
                        "true }",
                    )
                )

    def readiness_gate_alone(self) -> None:
        """The readiness gate label only where the front door alone serves: in "both" it would tie
        the Service's load balancer, which DNS may still point at, to the new path."""
        for parsed, block in self.blocks_in(self.tree.root / HUB_MODULE, "resource"):
            if block.labels[:1] != ["kubernetes_namespace_v1"]:
                continue
            for metadata in (b for b in block.blocks if b.type == "metadata"):
                labels = metadata.attrs.get("labels")
                text = str(labels.value) if labels else ""
                if READINESS_GATE_LABEL in text and not text.startswith(READINESS_GATE_ONLY_ALB):
                    self.findings.append(
                        _violation(
                            self.tree.rel(parsed.path),
                            labels.line,
                            f"the hub's namespace gets {READINESS_GATE_LABEL} where front_door is "
                            'not "alb": a broken path through the new load balancer would take '
                            "the Service's load balancer, which DNS may still point at, down too",
                            "readiness gate only behind the front door alone",
                            f'label it only when front_door == "alb": labels = '
                            f'var.front_door == "alb" ? {{ "{READINESS_GATE_LABEL}" = "enabled" }} '
                            ": {}",
                        )
                    )

    def production_protected(self) -> None:
        rule = "production resources protected"
        for folder, kind, name, what in PREVENT_DESTROY:
            found = [
                (parsed, block)
                for parsed, block in self.blocks_in(self.tree.root / folder, "resource")
                if block.labels == [kind, name]
            ]
            if not found:
                self.findings.append(
                    _violation(
                        f"{folder}/main.tf",
                        1,
                        f"{kind}.{name} ({what}) is gone from {folder}",
                        rule,
                        "keep it, with lifecycle { prevent_destroy = true }",
                    )
                )
                continue
            parsed, block = found[0]
            if not any(
                b.type == "lifecycle"
                and b.attrs.get("prevent_destroy", None)
                and b.attrs["prevent_destroy"].value is True
                for b in block.blocks
            ):
                self.findings.append(
                    _violation(
                        self.tree.rel(parsed.path),
                        block.line,
                        f"{kind}.{name} ({what}) lost prevent_destroy: a plan could delete it",
                        rule,
                        "add lifecycle { prevent_destroy = true }",
                    )
                )
        pools = [
            (parsed, block)
            for parsed, block in self.blocks_in(self.tree.root / COGNITO_MODULE, "resource")
            if block.labels[:1] == ["aws_cognito_user_pool"]
        ]
        for parsed, block in pools:
            if "deletion_protection" not in block.attrs:
                self.findings.append(
                    _violation(
                        self.tree.rel(parsed.path),
                        block.line,
                        f"aws_cognito_user_pool.{block.labels[1]} has no deletion_protection, so "
                        "AWS would delete production's logins",
                        rule,
                        'set deletion_protection = var.protected ? "ACTIVE" : "INACTIVE"',
                    )
                )
        calls = dict(PROTECTED_CALLS)
        for parsed, block in self.blocks_in(self.tree.root, "module"):
            if block.labels[0] not in calls:
                continue
            value = block.attrs["protected"].value if "protected" in block.attrs else _MISSING
            if value not in (True, PROTECTION.get(block.labels[0], SUPERVISED)):
                self.findings.append(
                    _violation(
                        self.tree.rel(parsed.path),
                        block.line,
                        f'module "{block.labels[0]}" does not protect {calls[block.labels[0]]} '
                        f"(protected is {_show(value)})",
                        rule,
                        "pass protected = "
                        + PROTECTION.get(block.labels[0], SUPERVISED).removeprefix("${")[:-1],
                    )
                )
        for parsed, block in self.blocks_in(self.tree.root / EKS_MODULE, "resource"):
            if block.labels[:1] != ["kubernetes_storage_class_v1"]:
                continue
            value = _value_of(block, "reclaim_policy")
            if value not in RETAINED:
                self.findings.append(
                    _violation(
                        self.tree.rel(parsed.path),
                        block.line,
                        f"kubernetes_storage_class_v1.{block.labels[1]} reclaims with "
                        f"{_show(value if value is not None else 'Delete')} in production too: "
                        "deleting the hub's release or namespace would delete its database volume",
                        rule,
                        'set reclaim_policy = var.protected ? "Retain" : "Delete"',
                    )
                )

    def blocks_in(self, directory: Path, kind: str) -> list[tuple[ParsedFile, Block]]:
        module = self.tree.module(directory.resolve()) if directory.is_dir() else None
        if module is None:
            return []
        return [(f, b) for f in module.files for b in f.blocks if b.type == kind]

    def resources(self, kind: str) -> list[tuple[ParsedFile, Block]]:
        found = []
        folder = self.tree.root / "modules"
        directories = [self.tree.root]
        if folder.is_dir():
            directories += sorted(p for p in folder.iterdir() if p.is_dir())
        for directory in directories:
            found += [
                (parsed, block)
                for parsed, block in self.blocks_in(directory, "resource")
                if block.labels[:1] == [kind]
            ]
        return found


def _path(value: object, *keys: str) -> object:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _value_of(block: Block, name: str) -> object:
    return block.attrs[name].value if name in block.attrs else None


def _first(block: Block, kind: str) -> Block | None:
    return next((b for b in block.blocks if b.type == kind), None)


def _resolve_value(value: object, found: dict[str, tuple[ParsedFile, Attr]]) -> object:
    """A value that is exactly `${local.x}` (or `${local.x.y}`) replaced by that local's value."""
    match = (
        re.fullmatch(r"\$\{local\.(\w+)((?:\.\w+)*)\}", value) if isinstance(value, str) else None
    )
    if not match or match.group(1) not in found:
        return value
    resolved = found[match.group(1)][1].value
    for key in filter(None, match.group(2).split(".")):
        resolved = resolved.get(key) if isinstance(resolved, dict) else None
    return resolved


def _selects_dask_pods(block: Block, found: dict[str, tuple[ParsedFile, Attr]]) -> bool:
    """Whether a NetworkPolicy's pod_selector picks Dask Gateway's schedulers and workers."""
    selector = _first(_first(block, "spec") or Block("", [], 0), "pod_selector")
    if selector is None:
        return False
    for expression in (b for b in selector.blocks if b.type == "match_expressions"):
        values = {n: _resolve_value(a.value, found) for n, a in expression.attrs.items()}
        if (
            values.get("key") == "app.kubernetes.io/component"
            and values.get("operator") == "In"
            and isinstance(values.get("values"), list)
            and set(DASK_POD_COMPONENTS) <= set(values["values"])
        ):
            return True
    return False


def _resolve_locals(text: str, found: dict[str, tuple[ParsedFile, Attr]], depth: int = 5) -> str:
    """`${local.x}` replaced by x's value where that is a plain string (nested a few deep)."""
    if text.startswith('${"') and text.endswith('"}'):  # a template, kept as its source
        text = text[3:-2]

    def value(match: re.Match) -> str:
        local = found.get(match.group(1))
        if local is None or not isinstance(local[1].value, str) or depth == 0:
            return match.group(0)
        return _resolve_locals(local[1].value, found, depth - 1)

    return _LOCAL_REFERENCE.sub(value, text)


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
    guide = [env for env in envs if env.name in POLICY and not any(f.error for f in env.var_files)]
    if guide:
        rules.addon_versions(guide)
        rules.cost_brakes()
        rules.readiness_gate_alone()
        rules.replacements_cannot_wedge()
        if any(POLICY[env.name].domain for env in guide):
            rules.https_port()
            rules.dask_address()
        if any(POLICY[env.name].user_directories for env in guide):
            rules.user_pods_private()
            rules.home_mount_authorised()
        if any(POLICY[env.name].supervised for env in guide):
            rules.production_protected()
    return sorted(set(rules.findings))
