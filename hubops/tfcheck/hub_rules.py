"""The guide's rules about the hub the tree deploys: its ports and Dask's address, what user
pods may reach, the home directories' mount, the cost brakes, the readiness gate."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from hubops.adapters.hcl import Attr, Block, ParsedFile
from hubops.tfcheck.rule_base import (
    HUB_MODULE,
    MISSING,
    RuleBase,
    as_text,
    path_in,
    resolve_locals,
    resolve_value,
    value_of,
    violation,
)

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


class HubRules(RuleBase):
    """Rules over modules/hub (and what its pods may reach)."""

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
            value = service.get("disableHttpPort", MISSING) if isinstance(service, dict) else None
            # Behind the application load balancer alone (local.service_offloads_https false),
            # proxy-public is a ClusterIP Service: its port 80 is not reachable from outside.
            if value not in (True, "${local.https}", PER_PHASE):
                self.findings.append(
                    violation(
                        self.tree.rel(parsed.path),
                        attr.line,
                        "the hub's proxy service keeps port 80 open where it serves https "
                        f"(proxy.service.disableHttpPort is {as_text(value)})",
                        rule,
                        "set proxy.service.disableHttpPort = local.service_offloads_https",
                    )
                )
            return
        self.findings.append(
            violation(
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
        env = path_in(attr.value, "singleuser", "extraEnv")
        address = env.get(DASK_ADDRESS_VARIABLE, MISSING) if isinstance(env, dict) else MISSING
        if not isinstance(address, str):
            self.findings.append(
                violation(*where, "notebooks are not told where Dask Gateway is "
                           f"(singleuser.extraEnv.{DASK_ADDRESS_VARIABLE} is {as_text(address)})",
                           rule, fix)
            )  # fmt: skip
            return
        url = urlsplit(resolve_locals(address, found))
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
            web = path_in(gateway[1].value if gateway else {}, "traefik", "service", "ports", "web")
            ports = [str(path_in(web, "port") or 80)] if url.scheme == "http" else []
            service = f"{host} (http port {path_in(web, 'port') or 80})"
        else:
            self.findings.append(
                violation(*where, f"the Dask address {url.geturl()} names neither Dask Gateway's "
                           f"traefik service nor {PROXY_SERVICE}", rule, fix)
            )  # fmt: skip
            return
        if str(port) not in ports:
            self.findings.append(
                violation(*where, f"notebooks call Dask Gateway at {url.geturl()}, port {port}, "
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
        policy = path_in(attr.value, "singleuser", "networkPolicy")
        if path_in(policy, "enabled") is False:
            self.findings.append(
                violation(*where, "notebooks have no network policy "
                           "(singleuser.networkPolicy.enabled is false), so they reach the home "
                           "directories' NFS mount targets", rule,
                           "remove singleuser.networkPolicy.enabled = false")
            )  # fmt: skip
        if path_in(policy, "egressAllowRules", "privateIPs") is True:
            self.findings.append(
                violation(*where, "notebooks may reach every private address "
                           "(singleuser.networkPolicy.egressAllowRules.privateIPs is true), the "
                           "home directories' NFS mount targets among them", rule,
                           "set privateIPs = false and allow what notebooks need by pod in "
                           "singleuser.networkPolicy.egress")
            )  # fmt: skip
        egress = path_in(policy, "egress")
        rules = [r for r in egress if isinstance(r, dict)] if isinstance(egress, list) else []
        for target in (t for r in rules for t in r.get("to") or []):
            if isinstance(target, dict) and "ipBlock" in target:
                self.findings.append(
                    violation(*where, "a notebook egress rule allows an address range "
                               f"({as_text(target['ipBlock'])}) rather than pods", rule,
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
                violation(f"{HUB_MODULE}/main.tf", 1, "no NetworkPolicy selects the Dask "
                           "schedulers and workers, so they reach the home directories' NFS "
                           "mount targets", rule, 'add a kubernetes_network_policy_v1 for pods '
                           'whose app.kubernetes.io/component is "dask-scheduler" or '
                           '"dask-worker", with egress rules that except the private ranges')
            )  # fmt: skip
        for parsed, block in policies:
            spec = _first(block, "spec")
            types = (
                resolve_value(spec.attrs["policy_types"].value, found)
                if (spec and "policy_types" in spec.attrs)
                else []
            )
            egress = [b for b in spec.blocks if b.type == "egress"] if spec else []
            where = (self.tree.rel(parsed.path), block.line)
            name = f"kubernetes_network_policy_v1.{block.labels[1]}"
            if not isinstance(types, list) or "Egress" not in types:
                self.findings.append(
                    violation(*where, f"{name} does not limit the Dask pods' egress "
                               f"(policy_types is {as_text(types)})", rule,
                               'set policy_types = ["Egress"]')
                )  # fmt: skip
                continue
            for rule_block in egress:
                if not any(b.type == "to" for b in rule_block.blocks):
                    self.findings.append(
                        violation(self.tree.rel(parsed.path), rule_block.line, f"an egress "
                                   f"rule of {name} has no `to`, so it allows every address",
                                   rule, "name the pods or ranges it allows")
                    )  # fmt: skip
                for to in (b for b in rule_block.blocks if b.type == "to"):
                    for ip_block in (b for b in to.blocks if b.type == "ip_block"):
                        excepted = resolve_value(
                            ip_block.attrs["except"].value if "except" in ip_block.attrs else [],
                            found,
                        )
                        missing = [r for r in PRIVATE_RANGES if r not in (excepted or [])]
                        if missing:
                            self.findings.append(
                                violation(self.tree.rel(parsed.path), ip_block.line,
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
                violation(f"{USER_DIRECTORIES_MODULE}/main.tf", 1, "the home directories' file "
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
                    violation(self.tree.rel(parsed.path), block.line, f"aws_efs_file_system_"
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
                    violation(self.tree.rel(parsed.path), block.line, f"kubernetes_persistent_"
                               f"volume_v1.{block.labels[1]} mounts without {', '.join(missing)}, "
                               "which the file system policy requires: every server start fails "
                               "to mount its home", rule, 'set mount_options = ["iam", "tls"]')
                )  # fmt: skip

    def home_policy_document(self, parsed: ParsedFile, document: Block, rule: str) -> None:
        name = f"data.aws_iam_policy_document.{document.labels[1]}"
        statements = [b for b in document.blocks if b.type == "statement"]
        denies_plain = any(
            value_of(s, "effect") == "Deny"
            and any(
                value_of(c, "variable") == "aws:SecureTransport"
                and value_of(c, "values") == ["false"]
                for c in s.blocks
                if c.type == "condition"
            )
            for s in statements
        )
        if not denies_plain:
            self.findings.append(
                violation(self.tree.rel(parsed.path), document.line, f"{name} does not refuse "
                           "mounts without TLS", rule, "add a Deny statement for every principal "
                           'with condition Bool aws:SecureTransport = ["false"]')
            )  # fmt: skip
        for statement in statements:
            if value_of(statement, "effect") == "Deny":
                continue
            for principals in (b for b in statement.blocks if b.type == "principals"):
                if "*" in (value_of(principals, "identifiers") or []):
                    self.findings.append(
                        violation(self.tree.rel(parsed.path), statement.line, f"{name} lets "
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
            extra = path_in(attr.value, "gateway", "extraConfig")
            code = "\n".join(map(str, extra.values())) if isinstance(extra, dict) else str(extra)
            missing = [setting for setting in DASK_BRAKES if f"{setting} =" not in code]
            if missing:
                self.findings.append(
                    violation(self.tree.rel(parsed.path), attr.line, "Dask Gateway's "
                               f"gateway.extraConfig does not set {', '.join(missing)}: Dask "
                               "clusters never stop when idle and grow to the whole dask-worker "
                               "node group", rule, "set each from var.dask_limits")
                )  # fmt: skip
        if "jupyterhub_values" in found:
            parsed, attr = found["jupyterhub_values"]
            enabled = path_in(attr.value, "cull", "enabled")
            if enabled is not True:
                self.findings.append(
                    violation(self.tree.rel(parsed.path), attr.line, "idle notebook servers "
                               f"are not stopped (cull.enabled is {as_text(enabled)}), so their "
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
        if path_in(jupyterhub_values, "proxy", "service", "disableHttpPort") in (False, None):
            ports.append("80")
        if path_in(jupyterhub_values, "proxy", "https", "enabled") not in (False, None, PER_PHASE):
            ports.append("443")
        return ports

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
                        violation(
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


def _first(block: Block, kind: str) -> Block | None:
    return next((b for b in block.blocks if b.type == kind), None)


def _selects_dask_pods(block: Block, found: dict[str, tuple[ParsedFile, Attr]]) -> bool:
    """Whether a NetworkPolicy's pod_selector picks Dask Gateway's schedulers and workers."""
    selector = _first(_first(block, "spec") or Block("", [], 0), "pod_selector")
    if selector is None:
        return False
    for expression in (b for b in selector.blocks if b.type == "match_expressions"):
        values = {n: resolve_value(a.value, found) for n, a in expression.attrs.items()}
        if (
            values.get("key") == "app.kubernetes.io/component"
            and values.get("operator") == "In"
            and isinstance(values.get("values"), list)
            and set(DASK_POD_COMPONENTS) <= set(values["values"])
        ):
            return True
    return False
