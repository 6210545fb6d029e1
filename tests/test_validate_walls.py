"""The rules about walls between users and the health check's facts, each broken in a copy of the
project's own tree (the exact messages a user sees)."""

from __future__ import annotations

import pytest

from tests.support.tree_copy import (
    copy_project_tree,
    findings,
    line_of,
    remove_value,
    set_value,
)

HUB = "modules/hub/main.tf"
SCOPE_RULE = '(rule "Dask Gateway requires its access scope")'
DASK_RULE = '(rule "notebooks reach Dask only through traefik")'
HTTPS_RULE = '(rule "the hub knows it is served over https")'
HSTS_RULE = '(rule "https only, and remembered")'
HEALTH_RULE = '(rule "the health check acts on its own user only")'
CONTROLLER_RULE = '(rule "the load balancer controller only binds targets")'
API_RULE = '(rule "production\'s API from known networks")'
HEALTH_FIX = 'limit each scope to "!user=hubops-health" (or "access:services!service=dask-gateway")'


@pytest.fixture
def tree(tmp_path):
    return copy_project_tree(tmp_path / "tree")


def edit(tree, path, old, new):
    file = tree / path
    text = file.read_text()
    assert old in text, old
    file.write_text(text.replace(old, new, 1))
    return file


def values_line(tree):
    return line_of(tree / HUB, "jupyterhub_values = {")


def test_the_docs_typo_in_the_gateway_scope_is_reported_for_every_role_that_carries_it(tree):
    # Dask Gateway's own docs write "access:services!service-dask-gateway": a scope JupyterHub
    # accepts and the gateway never matches.
    edit(
        tree,
        HUB,
        'dask_gateway_access = "access:services!service=${local.dask_gateway}"',
        'dask_gateway_access = "access:services!service-${local.dask_gateway}"',
    )
    line = values_line(tree)
    assert findings(tree) == [
        f'{HUB}:{line}: the "hubops-health" role grants scopes beyond its user '
        f"(access:services!service-dask-gateway) {HEALTH_RULE}: {HEALTH_FIX}",
        f'{HUB}:{line}: the "server" role (hub.loadRoles.server.scopes ["users:activity!user", '
        '"access:servers!server", "access:services!service-dask-gateway"]) lacks '
        f"access:services!service=dask-gateway {SCOPE_RULE}: list exactly "
        '"access:services!service=dask-gateway" beside users:activity!user, access:servers!server',
        f'{HUB}:{line}: the "user" role (hub.loadRoles.user.scopes ["self", '
        '"access:services!service-dask-gateway"]) lacks access:services!service=dask-gateway '
        f'{SCOPE_RULE}: list exactly "access:services!service=dask-gateway" beside self',
    ]


def test_a_gateway_without_its_service_name_accepts_any_token_and_is_reported(tree):
    edit(
        tree, HUB, "jupyterhub = { jupyterhubServiceName = local.dask_gateway }", "jupyterhub = {}"
    )
    line = line_of(tree / HUB, "dask_gateway_values = {")
    assert findings(tree) == [
        f"{HUB}:{line}: Dask Gateway does not know its JupyterHub service name "
        "(gateway.auth.jupyterhub.jupyterhubServiceName is not set), so any token of any user "
        f'opens it {SCOPE_RULE}: set jupyterhubServiceName = "dask-gateway"'
    ]


def test_a_server_role_that_drops_a_default_scope_is_reported(tree):
    edit(
        tree,
        HUB,
        '"users:activity!user", "access:servers!server", local.dask_gateway_access',
        '"users:activity!user", local.dask_gateway_access',
    )
    assert findings(tree) == [
        f'{HUB}:{values_line(tree)}: the "server" role (hub.loadRoles.server.scopes '
        '["users:activity!user", "access:services!service=dask-gateway"]) lacks '
        f'access:servers!server {SCOPE_RULE}: list exactly "access:services!service=dask-gateway" '
        "beside users:activity!user, access:servers!server"
    ]


def test_notebooks_reaching_dask_pods_directly_are_reported(tree):
    edit(
        tree,
        HUB,
        '            ports = [{ port = 8000, protocol = "TCP" }]\n          },\n        ]',
        '            ports = [{ port = 8000, protocol = "TCP" }]\n          },\n'
        "          { to = [{ podSelector = { matchExpressions = [local.dask_cluster_pods] } }] },\n"
        "        ]",
    )
    assert findings(tree) == [
        f"{HUB}:{values_line(tree)}: a notebook egress rule reaches pods other than Dask "
        'Gateway\'s traefik ({"podSelector": {"matchExpressions": '
        '["${local.dask_cluster_pods}"]}}):'
        f" other users' Dask dashboards answer by pod address {DASK_RULE}: allow notebooks only "
        "traefik's pods (port 8000)"
    ]


def test_dask_pods_open_to_every_pod_are_reported(tree):
    edit(
        tree,
        HUB,
        'policy_types = ["Ingress", "Egress"]\n\n    # Dask',
        'policy_types = ["Egress"]\n\n    # Dask',
    )
    line = line_of(tree / HUB, 'resource "kubernetes_network_policy_v1" "dask_clusters"')
    assert findings(tree) == [
        f"{HUB}:{line}: kubernetes_network_policy_v1.dask_clusters lets pods other than Dask "
        f"Gateway's and Dask's connect to Dask pods (policy_types [\"Egress\"]) {DASK_RULE}: add "
        '"Ingress" to policy_types, with one ingress rule from pods labelled '
        'app.kubernetes.io/name = "dask-gateway"'
    ]


def test_standard_network_policy_mode_is_reported(tree):
    path = edit(
        tree,
        "modules/eks/main.tf",
        'NETWORK_POLICY_ENFORCING_MODE = "strict"',
        'NETWORK_POLICY_ENFORCING_MODE = "standard"',
    )
    line = line_of(path, "addons = {")
    assert findings(tree) == [
        f"modules/eks/main.tf:{line}: vpc-cni does not enforce network policies in strict mode "
        '(enableNetworkPolicy "true", NETWORK_POLICY_ENFORCING_MODE "standard"): a new pod talks '
        'to anyone until its policies arrive (rule "network policies enforced strictly"): set '
        'configuration = { enableNetworkPolicy = "true", env = { NETWORK_POLICY_ENFORCING_MODE = '
        '"strict" } }'
    ]


def test_a_proxy_that_adds_its_own_forwarded_headers_is_reported(tree):
    edit(tree, HUB, 'extraCommandLineFlags = ["--no-x-forward"]', "extraCommandLineFlags = []")
    assert findings(tree) == [
        f"{HUB}:{values_line(tree)}: the proxy appends its own X-Forwarded-Proto (http) after the "
        "load balancer's https (proxy.chp.extraCommandLineFlags is []), and the hub reads the "
        f"last one: cookies without Secure {HTTPS_RULE}: set proxy.chp.extraCommandLineFlags = "
        '["--no-x-forward"]'
    ]


def test_a_hub_without_its_public_https_url_is_reported(tree):
    edit(tree, HUB, 'public_url = local.https ? "https://${var.domain}/" : ""', 'public_url = ""')
    assert findings(tree) == [
        f"{HUB}:{values_line(tree)}: the hub does not know its public https address "
        f'(hub.config.JupyterHub.public_url is "") {HTTPS_RULE}: set public_url = local.https ? '
        '"https://${var.domain}/" : ""'
    ]


def test_a_hub_whose_xsrf_cookie_goes_without_secure_is_reported(tree):
    edit(tree, HUB, "xsrf_cookie_kwargs", "xsrf_cookie_options")
    assert findings(tree) == [
        f"{HUB}:{values_line(tree)}: the hub sets its _xsrf cookie without Secure (hub.extraConfig "
        f"does not set tornado_settings' xsrf_cookie_kwargs) {HTTPS_RULE}: set hub.extraConfig = "
        'local.https ? { "10-secure-xsrf-cookie" = "c.JupyterHub.tornado_settings.update('
        '{\\"xsrf_cookie_kwargs\\": {\\"secure\\": True}})" } : {}'
    ]


def test_a_short_lived_hsts_header_is_reported(tree):
    edit(
        tree,
        "modules/edge/variables.tf",
        'default     = "max-age=31536000; includeSubDomains"',
        'default     = "max-age=300"',
    )
    line = line_of(tree / "modules/edge/main.tf", 'resource "aws_lb_listener" "https"')
    assert findings(tree) == [
        f"modules/edge/main.tf:{line}: the https listener sends no lasting HSTS header "
        '(routing_http_response_strict_transport_security_header_value is "max-age=300") '
        f'{HSTS_RULE}: set it to "max-age=31536000; includeSubDomains"'
    ]


def test_a_temporary_redirect_to_https_is_reported(tree):
    path = edit(
        tree, "modules/edge/main.tf", 'status_code = "HTTP_301"', 'status_code = "HTTP_302"'
    )
    line = line_of(path, 'resource "aws_lb_listener" "http_redirect"')
    assert findings(tree) == [
        f"modules/edge/main.tf:{line}: the http listener does not redirect permanently "
        f'(HTTP_301) to HTTPS {HSTS_RULE}: redirect with protocol = "HTTPS", status_code = '
        '"HTTP_301"'
    ]


def test_a_health_scope_on_every_user_is_reported(tree):
    edit(tree, HUB, '"read:users!user=${local.health}"', '"read:users"')
    assert findings(tree) == [
        f'{HUB}:{values_line(tree)}: the "hubops-health" role grants scopes beyond its user '
        f"(read:users) {HEALTH_RULE}: {HEALTH_FIX}"
    ]


def test_a_health_role_that_names_no_user_is_reported(tree):
    edit(tree, HUB, "users    = [local.health]", "users    = []")
    assert findings(tree) == [
        f'{HUB}:{values_line(tree)}: the "hubops-health" role\'s users are [] {HEALTH_RULE}: '
        'set users = ["hubops-health"] (the user: JupyterHub creates it at startup)'
    ]


def test_a_controller_registering_targets_in_any_group_is_reported(tree):
    path = edit(
        tree,
        "modules/load-balancer-controller/main.tf",
        "resources = [var.target_group_arn]",
        'resources = ["arn:aws:elasticloadbalancing:*:*:targetgroup/*/*"]',
    )
    line = line_of(path, 'sid       = "BindTargets"') - 1
    assert findings(tree) == [
        f"modules/load-balancer-controller/main.tf:{line}: elasticloadbalancing:RegisterTargets, "
        'elasticloadbalancing:DeregisterTargets on ["arn:aws:elasticloadbalancing:*:*:'
        f"targetgroup/*/*\"], not only the front door's target group {CONTROLLER_RULE}: set "
        "resources = [var.target_group_arn]"
    ]


def test_a_controller_allowed_to_make_load_balancers_is_reported(tree):
    path = edit(
        tree,
        "modules/load-balancer-controller/main.tf",
        '"ec2:DescribeVpcs",',
        '"ec2:DescribeVpcs",\n      "elasticloadbalancing:CreateLoadBalancer",',
    )
    line = line_of(path, 'sid = "Describe"') - 1
    assert findings(tree) == [
        f"modules/load-balancer-controller/main.tf:{line}: the controller's IAM policy allows "
        "elasticloadbalancing:CreateLoadBalancer, which a TargetGroupBinding never needs "
        f"{CONTROLLER_RULE}: allow only ec2:DescribeVpcs, elasticloadbalancing:DescribeTargetGroups"
        ", elasticloadbalancing:DescribeTargetHealth, elasticloadbalancing:RegisterTargets, "
        "elasticloadbalancing:DeregisterTargets"
    ]


def test_production_api_open_to_the_internet_is_reported(tree):
    line = set_value(
        tree / "environments/cae/terraform.tfvars", "api_public_access_cidrs", '["0.0.0.0/0"]'
    )
    assert findings(tree) == [
        f'environments/cae/terraform.tfvars:{line}: api_public_access_cidrs is ["0.0.0.0/0"]: '
        f"anyone on the internet reaches cae's Kubernetes API {API_RULE}: remove "
        "api_public_access_cidrs and set operator_cidrs and ci_runner_cidrs"
    ]


def test_production_api_without_ci_runners_is_reported(tree):
    remove_value(tree / "environments/cae/terraform.tfvars", "ci_runner_cidrs")
    assert findings(tree) == [
        "environments/cae/terraform.tfvars:1: ci_runner_cidrs is []: cae's Kubernetes API needs "
        "its operators' networks and the fixed addresses of the runners that apply it, and no "
        f'more {API_RULE}: set ci_runner_cidrs to those networks (docs/opentofu-tree.md, "Access")'
    ]
