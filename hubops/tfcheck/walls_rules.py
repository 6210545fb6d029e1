"""The guide's rules about the walls between users and what the health check relies on: Dask
Gateway's access scope, who reaches Dask pods, strict network policies, the hub's https facts,
the front door's HSTS, the health check's token, the controller's IAM policy, production's API."""

from __future__ import annotations

import re

from hubops.adapters.hcl import Block
from hubops.tfcheck.environment_rules import WORLD
from hubops.tfcheck.rule_base import (
    HUB_MODULE,
    MISSING,
    EnvironmentFiles,
    RuleBase,
    as_text,
    path_in,
    resolve_locals,
    resolve_value,
    value_of,
    violation,
)

GATEWAY = "dask-gateway"
GATEWAY_SCOPE = f"access:services!service={GATEWAY}"
# JupyterHub 5's "server" role: overriding it replaces these, so they must stay listed.
SERVER_ROLE_DEFAULTS = ("users:activity!user", "access:servers!server")
HEALTH = "hubops-health"
EKS_MODULE = "modules/eks"
EDGE_MODULE = "modules/edge"
CONTROLLER_MODULE = "modules/load-balancer-controller"
HSTS_ATTRIBUTE = "routing_http_response_strict_transport_security_header_value"
HSTS_MIN_AGE = 31536000
# What the controller may do with a TargetGroupBinding alone; the writes only on the one group.
CONTROLLER_READS = (
    "ec2:DescribeVpcs",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
)
CONTROLLER_WRITES = (
    "elasticloadbalancing:RegisterTargets",
    "elasticloadbalancing:DeregisterTargets",
)


class WallsRules(RuleBase):
    """Rules over modules/hub, eks, edge and load-balancer-controller, and production's API."""

    def _scopes(self, role: object, found) -> list[object]:
        scopes = path_in(role, "scopes")
        if not isinstance(scopes, list):
            return []
        return [resolve_locals(s, found) if isinstance(s, str) else s for s in scopes]

    def gateway_scopes(self) -> None:
        """Dask Gateway checks its access scope, which users and their servers' tokens hold."""
        rule = "Dask Gateway requires its access scope"
        found = self.hub_locals()
        if "jupyterhub_values" not in found or "dask_gateway_values" not in found:
            return  # https_port reports the missing values
        parsed, attr = found["dask_gateway_values"]
        name = path_in(attr.value, "gateway", "auth", "jupyterhub", "jupyterhubServiceName")
        name = resolve_locals(name, found) if isinstance(name, str) else name
        shown = as_text(MISSING if name is None else name)
        if name != GATEWAY:
            self.findings.append(
                violation(self.tree.rel(parsed.path), attr.line, "Dask Gateway does not know "
                           "its JupyterHub service name (gateway.auth.jupyterhub."
                           f"jupyterhubServiceName is {shown}), "
                           "so any token of any user opens it", rule,
                           f'set jupyterhubServiceName = "{GATEWAY}"')
            )  # fmt: skip
        parsed, attr = found["jupyterhub_values"]
        roles = path_in(attr.value, "hub", "loadRoles")
        for role, required in (("user", ("self",)), ("server", SERVER_ROLE_DEFAULTS)):
            scopes = self._scopes(path_in(roles, role), found)
            missing = [s for s in (*required, GATEWAY_SCOPE) if s not in scopes]
            if missing:
                self.findings.append(
                    violation(self.tree.rel(parsed.path), attr.line, f'the "{role}" role '
                               f"(hub.loadRoles.{role}.scopes {as_text(scopes)}) lacks "
                               f"{', '.join(missing)}", rule,
                               f'list exactly "{GATEWAY_SCOPE}" beside '
                               f"{', '.join(required)}")
                )  # fmt: skip

    def dask_ingress(self) -> None:
        """Notebooks reach Dask through traefik; only Gateway's and Dask pods reach Dask pods."""
        rule = "notebooks reach Dask only through traefik"
        found = self.hub_locals()
        if "jupyterhub_values" not in found:
            return
        parsed, attr = found["jupyterhub_values"]
        traefik = resolve_value("${local.traefik_pods}", found)
        egress = path_in(attr.value, "singleuser", "networkPolicy", "egress")
        for entry in egress if isinstance(egress, list) else []:
            targets = entry.get("to") if isinstance(entry, dict) else None
            for target in targets or [None]:
                labels = resolve_value(path_in(target, "podSelector", "matchLabels"), found)
                if "ipBlock" in (target or {}) or labels == traefik:
                    continue  # address ranges: user_pods_private's finding
                self.findings.append(
                    violation(self.tree.rel(parsed.path), attr.line, "a notebook egress rule "
                               "reaches pods other than Dask Gateway's traefik "
                               f"({as_text(target)}): other users' Dask dashboards answer by "
                               "pod address", rule,
                               "allow notebooks only traefik's pods (port 8000)")
                )  # fmt: skip
        for parsed, block in self.blocks_in(self.tree.root / HUB_MODULE, "resource"):
            if block.labels != ["kubernetes_network_policy_v1", "dask_clusters"]:
                continue
            spec = next((b for b in block.blocks if b.type == "spec"), None)
            types = value_of(spec, "policy_types") if spec else None
            ingress = [b for b in spec.blocks if b.type == "ingress"] if spec else []
            sources = [b for i in ingress for b in i.blocks if b.type == "from"]
            open_rule = any(not any(b.type == "from" for b in i.blocks) for i in ingress)
            foreign = [
                s
                for s in sources
                for sel in s.blocks
                if sel.type != "pod_selector"
                or _labels(value_of(sel, "match_labels"), found)
                != {"app.kubernetes.io/name": GATEWAY}
            ]
            if not isinstance(types, list) or "Ingress" not in types or open_rule or foreign:
                self.findings.append(
                    violation(self.tree.rel(parsed.path), block.line, "kubernetes_network_policy_"
                               "v1.dask_clusters lets pods other than Dask Gateway's and Dask's "
                               f"connect to Dask pods (policy_types {as_text(types)})", rule,
                               'add "Ingress" to policy_types, with one ingress rule from pods '
                               f'labelled app.kubernetes.io/name = "{GATEWAY}"')
                )  # fmt: skip

    def strict_network_policy(self) -> None:
        """vpc-cni enforces network policies, in strict mode (a new pod is never open)."""
        rule = "network policies enforced strictly"
        for parsed, block in self.blocks_in(self.tree.root / EKS_MODULE, "locals"):
            if "addons" not in block.attrs:
                continue
            attr = block.attrs["addons"]
            config = path_in(attr.value, "vpc-cni", "configuration")
            mode = path_in(config, "env", "NETWORK_POLICY_ENFORCING_MODE")
            if path_in(config, "enableNetworkPolicy") != "true" or mode != "strict":
                self.findings.append(
                    violation(self.tree.rel(parsed.path), attr.line, "vpc-cni does not enforce "
                               "network policies in strict mode (enableNetworkPolicy "
                               f"{as_text(path_in(config, 'enableNetworkPolicy'))}, "
                               f"NETWORK_POLICY_ENFORCING_MODE {as_text(mode)}): a new pod "
                               "talks to anyone until its policies arrive", rule,
                               'set configuration = { enableNetworkPolicy = "true", env = '
                               '{ NETWORK_POLICY_ENFORCING_MODE = "strict" } }')
                )  # fmt: skip
            return

    def hub_knows_https(self) -> None:
        """Behind the load balancer the hub sees https: no proxy hop, and its public URL."""
        rule = "the hub knows it is served over https"
        found = self.hub_locals()
        if "jupyterhub_values" not in found:
            return
        parsed, attr = found["jupyterhub_values"]
        flags = path_in(attr.value, "proxy", "chp", "extraCommandLineFlags")
        if not isinstance(flags, list) or "--no-x-forward" not in flags:
            self.findings.append(
                violation(self.tree.rel(parsed.path), attr.line, "the proxy appends its own "
                           "X-Forwarded-Proto (http) after the load balancer's https "
                           f"(proxy.chp.extraCommandLineFlags is {as_text(flags)}), and the hub "
                           "reads the last one: cookies without Secure", rule,
                           'set proxy.chp.extraCommandLineFlags = ["--no-x-forward"]')
            )  # fmt: skip
        extra = path_in(attr.value, "hub", "extraConfig")
        if "xsrf_cookie_kwargs" not in str(extra) or "True" not in str(extra):
            self.findings.append(
                violation(self.tree.rel(parsed.path), attr.line, "the hub sets its _xsrf cookie "
                           "without Secure (hub.extraConfig does not set tornado_settings' "
                           "xsrf_cookie_kwargs)", rule,
                           'set hub.extraConfig = local.https ? { "10-secure-xsrf-cookie" = '
                           '"c.JupyterHub.tornado_settings.update({\\"xsrf_cookie_kwargs\\": '
                           '{\\"secure\\": True}})" } : {}')
            )  # fmt: skip
        url = path_in(attr.value, "hub", "config", "JupyterHub", "public_url")
        if not isinstance(url, str) or '"https://${var.domain}/"' not in url:
            self.findings.append(
                violation(self.tree.rel(parsed.path), attr.line, "the hub does not know its "
                           "public https address (hub.config.JupyterHub.public_url is "
                           f"{as_text(url if url is not None else MISSING)})", rule,
                           'set public_url = local.https ? "https://${var.domain}/" : ""')
            )  # fmt: skip

    def front_door_hsts(self) -> None:
        """The https listener sends HSTS; plain http is answered with a permanent redirect."""
        rule = "https only, and remembered"
        where = self.tree.root / EDGE_MODULE
        variables = {b.labels[0]: b for _, b in self.blocks_in(where, "variable") if b.labels}
        for parsed, block in self.blocks_in(where, "resource"):
            if block.labels == ["aws_lb_listener", "https"]:
                value = value_of(block, HSTS_ATTRIBUTE)
                match = re.fullmatch(r"\$\{var\.(\w+)\}", value) if isinstance(value, str) else None
                if match and match.group(1) in variables:
                    value = value_of(variables[match.group(1)], "default")
                age = re.search(r"max-age=(\d+)", value) if isinstance(value, str) else None
                if age is None or int(age.group(1)) < HSTS_MIN_AGE:
                    self.findings.append(
                        violation(self.tree.rel(parsed.path), block.line, "the https listener "
                                   f"sends no lasting HSTS header ({HSTS_ATTRIBUTE} is "
                                   f"{as_text(value if value is not None else MISSING)})", rule,
                                   f'set it to "max-age={HSTS_MIN_AGE}; includeSubDomains"')
                    )  # fmt: skip
            if block.labels == ["aws_lb_listener", "http_redirect"]:
                redirect = [r for a in block.blocks if a.type == "default_action"
                            for r in a.blocks if r.type == "redirect"]  # fmt: skip
                if not any(
                    value_of(r, "status_code") == "HTTP_301" and value_of(r, "protocol") == "HTTPS"
                    for r in redirect
                ):
                    self.findings.append(
                        violation(self.tree.rel(parsed.path), block.line, "the http listener "
                                   "does not redirect permanently (HTTP_301) to HTTPS", rule,
                                   'redirect with protocol = "HTTPS", status_code = "HTTP_301"')
                    )  # fmt: skip

    def health_token_scopes(self) -> None:
        """The health check's service acts on its own user only (and Dask Gateway)."""
        rule = "the health check acts on its own user only"
        found = self.hub_locals()
        if "jupyterhub_values" not in found:
            return
        parsed, attr = found["jupyterhub_values"]
        where = (self.tree.rel(parsed.path), attr.line)
        roles = path_in(attr.value, "hub", "loadRoles")
        roles = roles if isinstance(roles, dict) else {}
        named = {resolve_locals(k, found): v for k, v in roles.items()}
        role = named.get(HEALTH)
        if not isinstance(role, dict):
            self.findings.append(
                violation(*where, f'no "{HEALTH}" role in hub.loadRoles, so the health '
                           "check's token has no scopes", rule, f'add hub.loadRoles["{HEALTH}"] '
                           f'for service and user "{HEALTH}"')
            )  # fmt: skip
            return
        scopes = self._scopes(role, found)
        wide = [s for s in scopes if s != GATEWAY_SCOPE and not str(s).endswith(f"!user={HEALTH}")]
        if wide or not scopes:
            self.findings.append(
                violation(*where, f'the "{HEALTH}" role grants scopes beyond its user '
                           f"({', '.join(map(str, wide)) or 'none at all'})", rule,
                           f'limit each scope to "!user={HEALTH}" (or "{GATEWAY_SCOPE}")')
            )  # fmt: skip
        for kind in ("services", "users"):
            bearers = [resolve_locals(b, found) for b in role.get(kind) or []]
            if bearers != [HEALTH]:
                self.findings.append(
                    violation(*where, f'the "{HEALTH}" role\'s {kind} are {as_text(bearers)}',
                               rule, f'set {kind} = ["{HEALTH}"] (the user: JupyterHub creates '
                               "it at startup)")
                )  # fmt: skip

    def controller_policy(self) -> None:
        """The load balancer controller reads, and writes only targets of the front door's group."""
        rule = "the load balancer controller only binds targets"
        where = self.tree.root / CONTROLLER_MODULE
        for parsed, block in self.blocks_in(where, "data"):
            if block.labels != ["aws_iam_policy_document", "controller"]:
                continue
            for statement in (b for b in block.blocks if b.type == "statement"):
                self._controller_statement(parsed, statement, rule)

    def _controller_statement(self, parsed, statement: Block, rule: str) -> None:
        actions = value_of(statement, "actions") or []
        resources = value_of(statement, "resources") or []
        extra = [a for a in actions if a not in CONTROLLER_READS + CONTROLLER_WRITES]
        if extra:
            self.findings.append(
                violation(self.tree.rel(parsed.path), statement.line, "the controller's IAM "
                           f"policy allows {', '.join(map(str, extra))}, which a "
                           "TargetGroupBinding never needs", rule,
                           f"allow only {', '.join(CONTROLLER_READS + CONTROLLER_WRITES)}")
            )  # fmt: skip
        writes = [a for a in actions if a in CONTROLLER_WRITES]
        if writes and resources != ["${var.target_group_arn}"]:
            self.findings.append(
                violation(self.tree.rel(parsed.path), statement.line, f"{', '.join(writes)} "
                           f"on {as_text(resources)}, not only the front door's target group",
                           rule, "set resources = [var.target_group_arn]")
            )  # fmt: skip

    def production_api(self, env: EnvironmentFiles) -> None:
        """A supervised environment's Kubernetes API answers its operators and CI, not everyone."""
        rule = "production's API from known networks"
        path, line, value, _ = self.value(env, "api_public_access_cidrs")
        if isinstance(value, list):
            if any(cidr in WORLD for cidr in value):
                self.findings.append(
                    violation(path, line, f"api_public_access_cidrs is {as_text(value)}: anyone "
                               f"on the internet reaches {env.name}'s Kubernetes API", rule,
                               "remove api_public_access_cidrs and set operator_cidrs and "
                               "ci_runner_cidrs")
                )  # fmt: skip
            return
        for name in ("operator_cidrs", "ci_runner_cidrs"):
            path, line, cidrs, _ = self.value(env, name)
            if not isinstance(cidrs, list) or not cidrs or any(c in WORLD for c in cidrs):
                self.findings.append(
                    violation(path, line, f"{name} is {as_text(cidrs)}: {env.name}'s Kubernetes "
                               "API needs its operators' networks and the fixed addresses of "
                               "the runners that apply it, and no more", rule,
                               f"set {name} to those networks (docs/opentofu-tree.md, "
                               '"Access")')
                )  # fmt: skip


def _labels(labels: object, found) -> object:
    """A match_labels map with each value's locals resolved."""
    if not isinstance(labels, dict):
        return labels
    return {k: resolve_locals(v, found) if isinstance(v, str) else v for k, v in labels.items()}
