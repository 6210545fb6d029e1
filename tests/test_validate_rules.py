"""The guide's environment rules and the environments' variable files, each broken in a copy of
the project's own tree."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.support.tree_copy import (
    copy_project_tree,
    findings,
    line_of,
    remove_value,
    set_value,
    write,
)


@pytest.fixture
def tree(tmp_path):
    return copy_project_tree(tmp_path / "tree")


@pytest.fixture
def check(tree):
    return lambda: findings(tree)


def test_the_project_tree_has_no_findings(check):
    assert check() == []


def test_a_default_dask_worker_group_that_stays_up_is_reported_once_in_variables_tf(tree, check):
    variables = tree / "variables.tf"
    text = variables.read_text()
    start = text.index('variable "node_groups"')
    worker = re.compile(r"dask-worker\"?\s*=\s*\{").search(text, start).start()
    at = text.index("min_size", worker)
    end = text.index("\n", at)
    variables.write_text(text[:at] + "min_size       = 2" + text[end:])
    declared = line_of(variables, 'variable "node_groups"')
    assert check() == [
        f"variables.tf:{declared}: node group "
        '"dask-worker" has min_size 2 (rule "main and dask-worker scale to zero"): set its '
        "min_size = 0"
    ]


def test_a_fourth_environment_folder_fails_validation_naming_what_to_do(tree, check):
    shutil.copytree(tree / "environments/cae-dev", tree / "environments/cae-staging")
    set_value(tree / "environments/cae-staging/terraform.tfvars", "environment", '"cae-staging"')
    set_value(tree / "environments/cae-staging/backend.hcl", "key", '"cae-staging/tfstate"')

    assert check() == [
        "environments/cae-staging/terraform.tfvars:1: cae-staging is not one of the guide's "
        "environments (cae-testing, cae-dev, cae), so no rule says how it may differ from them, "
        'and no promotion step applies it (rule "the guide\'s environments"): remove '
        "environments/cae-staging/, or give it a Policy in POLICY (hubops/tfcheck/rules.py) and a "
        "place in PROMOTION_ORDER (hubops/facts/environments.py)"
    ]


def test_the_backend_rules_of_validate_and_invoke_backend_are_one_table(tree, check):
    from hubops.facts.backend_rules import BACKEND_RULES

    remove_value(tree / "environments/cae-testing/backend.hcl", "use_lockfile")
    remove_value(tree / "environments/cae-testing/backend.hcl", "kms_key_id")
    set_value(tree / "environments/cae-testing/backend.hcl", "encrypt", "false")

    rules_named = [f.split('(rule "')[1].split('")')[0] for f in check()]
    assert sorted(rules_named) == sorted(rule.rule for rule in BACKEND_RULES)


def test_an_environment_without_backend_settings_breaks_the_encrypted_state_rule(tree, check):
    (tree / "environments/cae-testing/backend.hcl").unlink()
    assert check() == [
        "environments/cae-testing/backend.hcl:1: this file is missing, so the state has no "
        'encrypted backend (rule "encrypted state"): create it with bucket, key, region, '
        "encrypt = true, kms_key_id and use_lockfile = true"
    ]


def test_an_environment_that_does_not_set_a_required_variable_is_reported(tree, check):
    remove_value(tree / "environments/cae-dev/terraform.tfvars", "cluster_name")
    declared = line_of(tree / "variables.tf", 'variable "cluster_name"')
    assert check() == [
        'environments/cae-dev/terraform.tfvars:1: does not set "cluster_name", which the root '
        f"module requires (variables.tf:{declared} has no default): set it here"
    ]


def test_a_syntax_error_in_a_module_is_reported_with_its_line(tree, check):
    path = tree / "modules/network/main.tf"
    text = path.read_text()
    write(path, text + '\nresource "aws_eip" "broken" {\n  domain = \n}\n')
    line = len(text.splitlines()) + 3  # the line of `domain =`, which lacks its value
    assert check() == [
        f"modules/network/main.tf:{line}: HCL syntax error at column 12: unexpected '}}': fix "
        "the syntax"
    ]


# -- Access, exposure, add-on versions, production's protection (issue 11) -------------------


def test_an_environment_without_access_entries_is_reported_once(tree, check):
    path = tree / "environments/cae-dev/terraform.tfvars"
    text = path.read_text()
    start = text.index("cluster_access = {")
    end = text.index("}\n", start) + 2
    path.write_text(text[:start] + text[end:])
    findings = check()
    assert len(findings) == 1
    assert 'does not set "cluster_access", which the root module requires' in findings[0]


def test_an_eks_addon_without_a_version_is_reported(tree, check):
    path = tree / "modules/user-directories/main.tf"
    path.write_text(
        path.read_text().replace("  addon_version               = var.efs_csi_addon_version\n", "")
    )
    line = line_of(path, 'resource "aws_eks_addon" "efs_csi"')
    assert (
        f"modules/user-directories/main.tf:{line}: aws_eks_addon.efs_csi has no addon_version, so "
        'EKS picks one and it never changes by review (rule "add-on versions pinned"): set '
        "addon_version from var.addon_versions" in check()
    )


DASK_ADDRESS = (
    "DASK_GATEWAY__ADDRESS        = "
    '"http://${local.traefik_service}/services/${local.dask_gateway}"'
)


def _set_dask_address(tree, address: str) -> int:
    path = tree / "modules/hub/main.tf"
    text = path.read_text()
    assert DASK_ADDRESS in text
    path.write_text(text.replace(DASK_ADDRESS, f"DASK_GATEWAY__ADDRESS = {address}"))
    return line_of(path, "jupyterhub_values = {")


DASK_FIX = (
    '(rule "Dask address names a port that exists"): set DASK_GATEWAY__ADDRESS = '
    '"http://${local.traefik_service}/services/${local.dask_gateway}"'
)


NFS_RULE = '(rule "user pods do not reach the home directories\' NFS")'


def test_a_notebook_egress_rule_by_address_range_is_reported(tree, check):
    path = tree / "modules/hub/main.tf"
    path.write_text(
        path.read_text().replace(
            "to    = [{ podSelector = { matchLabels = local.traefik_pods } }]\n"
            '            ports = [{ port = 8000, protocol = "TCP" }]\n          },',
            'to    = [{ ipBlock = { cidr = "10.0.0.0/16" } }]\n'
            '            ports = [{ port = 8000, protocol = "TCP" }]\n          },',
            1,
        )
    )
    line = line_of(path, "jupyterhub_values = {")
    assert check() == [
        f"modules/hub/main.tf:{line}: a notebook egress rule allows an address range "
        f'({{"cidr": "10.0.0.0/16"}}) rather than pods {NFS_RULE}: allow pods by podSelector; '
        "addresses are the chart's egressAllowRules (nonPrivateIPs)"
    ]


def test_dask_pods_without_a_network_policy_are_reported(tree, check):
    path = tree / "modules/hub/main.tf"
    text = path.read_text()
    start = text.index('resource "kubernetes_network_policy_v1" "dask_clusters"')
    end = text.index('data "kubernetes_service_v1" "proxy_public"')
    path.write_text(text[:start] + text[end:])
    assert check() == [
        "modules/hub/main.tf:1: no NetworkPolicy selects the Dask schedulers and workers, so they "
        f"reach the home directories' NFS mount targets {NFS_RULE}: add a "
        "kubernetes_network_policy_v1 for pods whose app.kubernetes.io/component is "
        '"dask-scheduler" or "dask-worker", with egress rules that except the private ranges'
    ]


HOME_RULE = '(rule "home directories mount with IAM and TLS")'


def test_a_home_policy_letting_any_principal_mount_is_reported(tree, check):
    path = tree / "modules/user-directories/main.tf"
    path.write_text(
        path.read_text().replace("identifiers = [module.efs_csi_role.arn]", 'identifiers = ["*"]')
    )
    line = line_of(path, 'sid       = "CsiDriverMounts"') - 1
    assert check() == [
        f"modules/user-directories/main.tf:{line}: data.aws_iam_policy_document.home_mount lets "
        f"any principal mount the home directories {HOME_RULE}: allow only the EFS CSI driver's "
        "role (module.efs_csi_role.arn)"
    ]


def test_a_home_file_system_without_policy_is_reported(tree, check):
    path = tree / "modules/user-directories/main.tf"
    text = path.read_text()
    start = text.index('resource "aws_efs_file_system_policy" "home"')
    path.write_text(text[:start] + text[text.index("}\n", start) + 2 :])
    assert check() == [
        "modules/user-directories/main.tf:1: the home directories' file system has no policy, so "
        f"any NFS client in the VPC may mount it as root {HOME_RULE}: add an "
        "aws_efs_file_system_policy that denies aws:SecureTransport = false and allows mounting "
        "to the EFS CSI driver's role only"
    ]


BRAKES_RULE = '(rule "Dask and idle servers have cost brakes")'


def test_dask_clusters_without_size_limits_are_reported(tree, check):
    path = tree / "modules/hub/main.tf"
    text = path.read_text()
    start = text.index("      extraConfig = {")
    end = text.index("      }\n", start) + len("      }\n")
    path.write_text(text[:start] + text[end:])
    line = line_of(path, "dask_gateway_values = {")
    assert check() == [
        f"modules/hub/main.tf:{line}: Dask Gateway's gateway.extraConfig does not set "
        "c.ClusterConfig.idle_timeout, c.ClusterConfig.cluster_max_workers, "
        "c.ClusterConfig.cluster_max_cores, c.ClusterConfig.cluster_max_memory: Dask clusters "
        "never stop when idle and grow to the whole dask-worker node group "
        f"{BRAKES_RULE}: set each from var.dask_limits"
    ]


PROTECTED_RULE = '(rule "production resources protected")'


@pytest.mark.parametrize(
    ("protected", "shown"),
    [(None, "not set"), ("var.supervised", '"${var.supervised}"')],
    ids=["not set", "in both phases too"],
)
def test_an_edge_call_that_does_not_protect_the_front_door_alone_is_reported(
    tree, check, protected, shown
):
    path = tree / "main.tf"
    kept = '  protected              = var.supervised && var.front_door == "alb"\n'
    assert kept in path.read_text()
    given = f"  protected              = {protected}\n" if protected else ""
    path.write_text(path.read_text().replace(kept, given))
    line = line_of(path, 'module "edge"')
    assert check() == [
        f'main.tf:{line}: module "edge" does not protect the supervised environment\'s front door '
        f"(its load balancer's address) (protected is {shown}) {PROTECTED_RULE}: pass protected = "
        'var.supervised && var.front_door == "alb"'
    ]


@pytest.mark.parametrize("env", ["cae-dev", "cae"])
def test_an_environment_whose_nodes_follow_aws_breaks_the_pinned_node_release_rule(
    tree, check, env
):
    (tree / f"environments/{env}/promotion.tfvars").unlink()

    assert check() == [
        f"environments/{env}/terraform.tfvars:1: node_release_version is not set, but {env}'s "
        'nodes run only a release its own files pin (rule "node images pinned"): `invoke promote '
        f"--to {env}` pins the release the environment before it ran (in "
        f"environments/{env}/promotion.tfvars)"
    ]


def test_cae_testing_may_follow_the_release_aws_recommends(tree, check):
    assert (
        "node_release_version"
        not in (tree / "environments/cae-testing/terraform.tfvars").read_text()
    )
    assert check() == []


def test_a_readiness_gate_in_the_both_phase_is_reported(tree, check):
    path = tree / "modules/hub/main.tf"
    text = path.read_text()
    alone = (
        'var.front_door == "alb" ? { "elbv2.k8s.aws/pod-readiness-gate-inject" = "enabled" } : {}'
    )
    assert alone in text
    path.write_text(
        text.replace(
            alone,
            'var.front_door == "service" ? {} : '
            '{ "elbv2.k8s.aws/pod-readiness-gate-inject" = "enabled" }',
        )
    )
    line = line_of(path, "labels = var.front_door")

    assert check() == [
        f"modules/hub/main.tf:{line}: the hub's namespace gets "
        'elbv2.k8s.aws/pod-readiness-gate-inject where front_door is not "alb": a broken path '
        "through the new load balancer would take the Service's load balancer, which DNS may "
        'still point at, down too (rule "readiness gate only behind the front door alone"): label '
        'it only when front_door == "alb": labels = var.front_door == "alb" ? '
        '{ "elbv2.k8s.aws/pod-readiness-gate-inject" = "enabled" } : {}'
    ]


@pytest.mark.parametrize(
    ("kind", "name", "named"),
    [
        ("aws_lb_target_group", "proxy", '  name_prefix = "proxy-"\n'),
        ("aws_security_group", "alb", '  name_prefix = "${var.name}-hub-front-door-"\n'),
    ],
)
def test_a_front_door_part_with_a_fixed_name_breaks_the_replacement_rule(
    tree, check, kind, name, named
):
    path = tree / "modules/edge/main.tf"
    text = path.read_text()
    assert named in text
    path.write_text(text.replace(named, named.replace("name_prefix", "name       ")))
    line = line_of(path, f'resource "{kind}" "{name}"')

    assert check() == [
        f"modules/edge/main.tf:{line}: {kind}.{name} would be replaced while another resource "
        "uses it, under the same name: the replacement would fail and wedge the apply (rule "
        '"replacements that cannot wedge"): give it name_prefix (not name) and lifecycle { '
        "create_before_destroy = true }"
    ]


# -- One value of an environment's files set or removed: one finding, where it was ------------

MAIN_STAYS_UP = """{
  hub           = { instance_types = ["t3.large"], min_size = 1, max_size = 2, desired_size = 1 }
  main          = { instance_types = ["r5.xlarge"], min_size = 1, max_size = 10, desired_size = 1 }
  "dask-worker" = { instance_types = ["m5.2xlarge"], min_size = 0, max_size = 20, desired_size = 0 }
}"""
NO_DASK_WORKER = """{
  hub  = { instance_types = ["t3.large"], min_size = 1, max_size = 2, desired_size = 1 }
  main = { instance_types = ["r5.xlarge"], min_size = 0, max_size = 10, desired_size = 0 }
}"""


@pytest.mark.parametrize(
    ("file", "name", "value", "message"),
    [
        pytest.param(
            "environments/cae-dev/terraform.tfvars", "authentication", '"dummy"',
            'authentication is "dummy", but cae-dev needs authentication = "cognito" (rule '
            '"authentication per environment"): set authentication = "cognito"',
            id="cae-dev with dummy authentication",
        ),
        pytest.param(
            "environments/cae-testing/terraform.tfvars", "authentication", '"cognito"',
            'authentication is "cognito", but cae-testing needs authentication = "dummy" (rule '
            '"authentication per environment"): set authentication = "dummy"',
            id="cae-testing with cognito",
        ),
        pytest.param(
            "environments/cae-testing/terraform.tfvars", "domain", '"t.example.org"',
            'domain is "t.example.org", but cae-testing has no DNS name (it is reached by its '
            'load balancer address) (rule "domain or not"): remove domain',
            id="cae-testing with a domain",
        ),
        pytest.param(
            "environments/cae-dev/terraform.tfvars", "user_directories", "true",
            'user_directories is true, but cae-dev needs user_directories = false (rule "user '
            'directories only in cae"): set user_directories = false',
            id="cae-dev with user directories",
        ),
        pytest.param(
            "environments/cae/terraform.tfvars", "user_directories", "false",
            'user_directories is false, but cae needs user_directories = true (rule "user '
            'directories only in cae"): set user_directories = true',
            id="cae without user directories",
        ),
        pytest.param(
            "environments/cae-dev/terraform.tfvars", "supervised", "true",
            'supervised is true, but cae-dev needs supervised = false (rule "only cae is '
            'supervised"): set supervised = false',
            id="a supervised cae-dev",
        ),
        pytest.param(
            "environments/cae/terraform.tfvars", "supervised", "false",
            'supervised is false, but cae needs supervised = true (rule "only cae is '
            'supervised"): set supervised = true',
            id="an unsupervised cae",
        ),
        pytest.param(
            "environments/cae-dev/terraform.tfvars", "node_groups", MAIN_STAYS_UP,
            'node group "main" has min_size 1 (rule "main and dask-worker scale to zero"): set '
            "its min_size = 0",
            id="a main group that stays up",
        ),
        pytest.param(
            "environments/cae-testing/terraform.tfvars", "node_groups", NO_DASK_WORKER,
            'node_groups has no "dask-worker" group (rule "main and dask-worker scale to zero"): '
            "add it with min_size = 0",
            id="no dask-worker group",
        ),
        pytest.param(
            "environments/cae/terraform.tfvars", "user_image_repository", '"cae-only"',
            "cae sets user_image_repository, but every environment uses the one repository given "
            'in variables.tf (rule "one shared image repository"): remove it here',
            id="an image repository of its own",
        ),
        pytest.param(
            "environments/cae-dev/backend.hcl", "key", '"cae-testing/terraform.tfstate"',
            'key "cae-testing/terraform.tfstate" is also the state key of '
            'environments/cae-testing/backend.hcl (rule "distinct state keys"): give each '
            "environment its own key",
            id="two environments with one state key",
        ),
        pytest.param(
            "environments/cae/backend.hcl", "encrypt", "false",
            "encrypt is false, but state holds secrets and must be encrypted (rule \"encrypted "
            'state"): set encrypt = true',
            id="unencrypted state",
        ),
        pytest.param(
            "environments/cae-testing/terraform.tfvars", "colour", '"blue"',
            'sets "colour", which the root module does not declare: remove it, or declare '
            'variable "colour" in variables.tf',
            id="an undeclared variable",
        ),
        pytest.param(
            "environments/cae/terraform.tfvars", "domain", '"hub.example.org" "hub2.example.org"',
            "HCL syntax error at column 28: unexpected '\"': fix the syntax",
            id="a syntax error in an environment file",
        ),
        pytest.param(
            "environments/cae-testing/terraform.tfvars", "hub_allowed_cidrs",
            '["203.0.113.0/24", "0.0.0.0/0"]',
            "hub_allowed_cidrs of cae-testing contains 0.0.0.0/0: anyone on the internet reaches "
            'a hub that lets any password in (rule "an any-password hub is not reachable by '
            'anyone"): list only the networks its users work from',
            id="cae-testing open to the world",
        ),
        pytest.param(
            "environments/cae-dev/terraform.tfvars", "addon_versions",
            '{ "vpc-cni" = "v1.22.3-eksbuild.1" }',
            "cae-dev sets addon_versions, but add-on versions follow the shared "
            "kubernetes_version and are promoted testing -> dev -> cae (rule \"add-on versions "
            'pinned"): remove it here and change the default in variables.tf',
            id="an environment's own add-on versions",
        ),
        pytest.param(
            "environments/cae/promotion.tfvars", "node_release_version", '"1.34.2-20261001"',
            'node_release_version is "1.34.2-20261001", a release of Kubernetes 1.34, but cae '
            'runs "1.35" (rule "node images pinned"): pin a release of 1.35: '
            'node_release_version = "1.35.0-YYYYMMDD"',
            id="a node release of another Kubernetes version",
        ),
    ],
)  # fmt: skip
def test_a_value_that_breaks_a_rule_is_reported_where_it_is_set(
    tree, check, file, name, value, message
):
    line = set_value(tree / file, name, value)
    assert check() == [f"{file}:{line}: {message}"]


@pytest.mark.parametrize(
    ("file", "name", "message"),
    [
        pytest.param(
            "environments/cae/terraform.tfvars", "domain",
            'domain is not set, but cae is reached by its DNS name (rule "domain or not"): set '
            "domain to the hub's DNS name",
            id="cae without a domain",
        ),
        pytest.param(
            "environments/cae-dev/backend.hcl", "kms_key_id",
            "kms_key_id is not set, but state must be encrypted with the environment's own KMS "
            "key (rule \"encrypted state\"): set kms_key_id to that key's ARN or alias",
            id="state without a KMS key",
        ),
        pytest.param(
            "environments/cae-testing/backend.hcl", "use_lockfile",
            "the state is not locked (neither use_lockfile = true nor dynamodb_table), so two "
            'runs could write it at once (rule "locked state"): set use_lockfile = true',
            id="state without a lock",
        ),
        pytest.param(
            "environments/cae-testing/terraform.tfvars", "hub_allowed_cidrs",
            "cae-testing lets any username and password in, and hub_allowed_cidrs is null, so "
            'anyone on the internet reaches it (rule "an any-password hub is not reachable by '
            'anyone"): set hub_allowed_cidrs to the networks its users work from',
            id="cae-testing without source ranges",
        ),
    ],
)  # fmt: skip
def test_a_value_a_rule_needs_that_is_missing_is_reported_at_the_files_first_line(
    tree, check, file, name, message
):
    remove_value(tree / file, name)
    assert check() == [f"{file}:1: {message}"]


# -- One text of a module replaced: one finding, at the line of what it belongs to -------------

JUPYTERHUB_VALUES = "jupyterhub_values = {"


@pytest.mark.parametrize(
    ("file", "old", "new", "at", "message"),
    [
        pytest.param(
            "environments/cae-dev/terraform.tfvars",
            "arn:aws:iam::111122223333:role/hubops-operator",
            "arn:aws:iam::999999999999:role/hubops-operator",
            "cluster_access",
            "cluster_access lists arn:aws:iam::999999999999:role/hubops-operator, of account "
            "999999999999, but cae-dev lives in account 111122223333 (rule \"access entries "
            "present\"): list the roles of the environment's own account",
            id="an access entry of another account",
        ),
        pytest.param(
            "environments/cae/terraform.tfvars", '= "admin"', '= "view"', "cluster_access",
            'cluster_access of cae has no "admin", so nothing that applies it can reach the '
            'cluster (rule "access entries present"): give the roles that apply (CI\'s, the '
            'operators\') "admin"',
            id="access entries without an admin",
        ),
        pytest.param(
            "variables.tf",
            '"coredns"            = "v1.14.3-eksbuild.3"',
            '"coredns"            = "latest"',
            'variable "addon_versions"',
            'addon_versions gives coredns "latest", not an exact version (rule "add-on versions '
            'pinned"): pin coredns to a version such as v1.2.3-eksbuild.1 (aws eks '
            "describe-addon-versions)",
            id="an unpinned add-on version",
        ),
        pytest.param(
            "modules/cognito/main.tf",
            '  deletion_protection      = var.protected ? "ACTIVE" : "INACTIVE"\n',
            "",
            'resource "aws_cognito_user_pool" "this"',
            "aws_cognito_user_pool.this has no deletion_protection, so AWS would delete "
            'production\'s logins (rule "production resources protected"): set '
            'deletion_protection = var.protected ? "ACTIVE" : "INACTIVE"',
            id="a user pool without deletion protection",
        ),
        pytest.param(
            "main.tf",
            "  protected = var.supervised\n\n  depends_on",
            "\n  depends_on",
            'module "cognito"',
            'module "cognito" does not protect the supervised environment\'s user pool '
            '(protected is not set) (rule "production resources protected"): pass protected = '
            "var.supervised",
            id="an unprotected cognito call",
        ),
        pytest.param(
            "modules/hub/main.tf",
            "disableHttpPort = local.service_offloads_https",
            "disableHttpPort = false",
            JUPYTERHUB_VALUES,
            "the hub's proxy service keeps port 80 open where it serves https "
            '(proxy.service.disableHttpPort is false) (rule "no open http port on https '
            'environments"): set proxy.service.disableHttpPort = local.service_offloads_https',
            id="an https hub with port 80 open",
        ),
        pytest.param(
            "modules/hub/main.tf", DASK_ADDRESS, "", JUPYTERHUB_VALUES,
            "notebooks are not told where Dask Gateway is "
            f"(singleuser.extraEnv.DASK_GATEWAY__ADDRESS is not set) {DASK_FIX}",
            id="no dask address for notebooks",
        ),
        pytest.param(
            "modules/hub/main.tf",
            "egressAllowRules = { privateIPs = false }",
            "egressAllowRules = { privateIPs = true }",
            JUPYTERHUB_VALUES,
            "notebooks may reach every private address "
            "(singleuser.networkPolicy.egressAllowRules.privateIPs is true), the home "
            f"directories' NFS mount targets among them {NFS_RULE}: set privateIPs = false and "
            "allow what notebooks need by pod in singleuser.networkPolicy.egress",
            id="notebooks allowed every private address",
        ),
        pytest.param(
            "modules/hub/main.tf",
            'private_ranges = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", '
            '"169.254.169.254/32"]',
            'private_ranges = ["172.16.0.0/12", "192.168.0.0/16", "169.254.169.254/32"]',
            "ip_block {",
            "an egress rule of kubernetes_network_policy_v1.dask_clusters lets Dask pods reach "
            "10.0.0.0/8, where the home directories' NFS mount targets are "
            f"{NFS_RULE}: add 10.0.0.0/8 to its except",
            id="dask pods allowed a private range",
        ),
        pytest.param(
            "modules/user-directories/main.tf",
            'variable = "aws:SecureTransport"',
            'variable = "x"',
            'data "aws_iam_policy_document" "home_mount"',
            "data.aws_iam_policy_document.home_mount does not refuse mounts without TLS "
            f"{HOME_RULE}: add a Deny statement for every principal with condition Bool "
            'aws:SecureTransport = ["false"]',
            id="a home policy allowing plain nfs",
        ),
        pytest.param(
            "modules/user-directories/main.tf",
            'mount_options = ["iam", "tls"]',
            'mount_options = ["tls"]',
            'resource "kubernetes_persistent_volume_v1" "home"',
            "kubernetes_persistent_volume_v1.home mounts without iam, which the file system "
            "policy requires: every server start fails to mount its home "
            f'{HOME_RULE}: set mount_options = ["iam", "tls"]',
            id="a home volume mounting without iam",
        ),
        pytest.param(
            "modules/hub/main.tf",
            "c.ClusterConfig.idle_timeout = ${var.dask_limits.idle_timeout_minutes * 60}\n",
            "",
            "dask_gateway_values = {",
            "Dask Gateway's gateway.extraConfig does not set c.ClusterConfig.idle_timeout: Dask "
            "clusters never stop when idle and grow to the whole dask-worker node group "
            f"{BRAKES_RULE}: set each from var.dask_limits",
            id="dask clusters without an idle timeout",
        ),
        pytest.param(
            "modules/hub/main.tf",
            "      enabled = true\n",
            "      enabled = false\n",
            JUPYTERHUB_VALUES,
            "idle notebook servers are not stopped (cull.enabled is false), so their user nodes "
            f"never scale away {BRAKES_RULE}: set cull.enabled = true with timeout and every "
            "from var.notebook_culling",
            id="notebook servers never culled",
        ),
        pytest.param(
            "main.tf", "  protected = var.supervised\n}", "}", 'module "eks"',
            'module "eks" does not protect the supervised environment\'s cluster and hub database '
            f"volume (protected is not set) {PROTECTED_RULE}: pass protected = var.supervised",
            id="an unprotected eks call",
        ),
        pytest.param(
            "modules/eks/main.tf",
            'reclaim_policy         = var.protected ? "Retain" : "Delete"',
            'reclaim_policy         = "Delete"',
            'resource "kubernetes_storage_class_v1" "gp3"',
            'kubernetes_storage_class_v1.gp3 reclaims with "Delete" in production too: deleting '
            "the hub's release or namespace would delete its database volume "
            f'{PROTECTED_RULE}: set reclaim_policy = var.protected ? "Retain" : "Delete"',
            id="a hub database storage class that deletes in production",
        ),
    ],
)  # fmt: skip
def test_a_module_text_that_breaks_a_rule_is_reported_where_it_belongs(
    tree, check, file, old, new, at, message
):
    path = tree / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    line = line_of(path, at)
    assert check() == [f"{file}:{line}: {message}"]


LIFECYCLE = "  lifecycle {\n    prevent_destroy = true\n  }\n"


@pytest.mark.parametrize(
    ("file", "resource", "message"),
    [
        pytest.param(
            "modules/user-directories/main.tf", 'resource "aws_efs_file_system" "home"',
            "aws_efs_file_system.home (the users' directories) lost prevent_destroy: a plan "
            'could delete it (rule "production resources protected"): add lifecycle { '
            "prevent_destroy = true }",
            id="the users' directories",
        ),
        pytest.param(
            "modules/eks/main.tf", 'resource "terraform_data" "cluster_guard"',
            "terraform_data.cluster_guard (the guard of the cluster) lost prevent_destroy: a plan "
            f"could delete it {PROTECTED_RULE}: add lifecycle {{ prevent_destroy = true }}",
            id="the cluster's guard",
        ),
        pytest.param(
            "modules/edge/main.tf", 'resource "terraform_data" "front_door_guard"',
            "terraform_data.front_door_guard (the guard of the hub's front door) lost "
            f"prevent_destroy: a plan could delete it {PROTECTED_RULE}: add lifecycle "
            "{ prevent_destroy = true }",
            id="the front door's guard",
        ),
    ],
)  # fmt: skip
def test_a_protected_resource_without_prevent_destroy_is_reported(
    tree, check, file, resource, message
):
    path = tree / file
    text = path.read_text()
    cut = text.index(LIFECYCLE, text.index(resource))
    path.write_text(text[:cut] + text[cut + len(LIFECYCLE) :])
    line = line_of(path, resource)
    assert check() == [f"{file}:{line}: {message}"]


@pytest.mark.parametrize(
    ("address", "message"),
    [
        pytest.param(
            '"http://${local.proxy_service}/services/${local.dask_gateway}"',
            "notebooks call Dask Gateway at http://proxy-public/services/dask-gateway, port 80, "
            "which proxy-public (ports none in every front door phase where https is on) does "
            f"not have: every Gateway() is refused {DASK_FIX}",
            id="through the proxy port that https removes",
        ),
        pytest.param(
            '"http://${local.traefik_service}:8786/services/dask-gateway"',
            "notebooks call Dask Gateway at "
            "http://traefik-dask-gateway.${var.namespace}:8786/services/dask-gateway, port 8786, "
            "which traefik-dask-gateway (http port 80) does not have: every Gateway() is refused "
            f"{DASK_FIX}",
            id="at a port traefik does not serve",
        ),
        pytest.param(
            '"http://dask.example.org/services/dask-gateway"',
            "the Dask address http://dask.example.org/services/dask-gateway names neither Dask "
            f"Gateway's traefik service nor proxy-public {DASK_FIX}",
            id="naming another service",
        ),
    ],
)
def test_a_dask_address_notebooks_cannot_reach_is_reported(tree, check, address, message):
    line = _set_dask_address(tree, address)
    assert check() == [f"modules/hub/main.tf:{line}: {message}"]
