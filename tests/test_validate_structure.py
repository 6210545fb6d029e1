"""The structural cross-checks on trees other than the project's: quiet on correct trees written
the way widely used public modules are, exact on each kind of mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hubops.tfcheck import validate_tree
from tests.support.tree_copy import findings, write

# A root module in the style of terraform-aws-modules' examples: registry and git sources,
# for_each and count on modules, provider aliases, depends_on, locals, templates, heredocs.
PUBLIC_ROOT = {
    "main.tf": r"""
provider "aws" {
  region = var.region
}

provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"
}

data "aws_availability_zones" "available" {}

locals {
  name     = "ex-${basename(path.cwd)}"
  azs      = slice(data.aws_availability_zones.available.names, 0, 3)
  vpc_cidr = "10.0.0.0/16"
  tags = merge(var.tags, {
    Example    = local.name
    GithubRepo = "terraform-aws-eks"
  })
  node_groups = {
    for name, group in var.node_groups : name => merge(group, {
      labels = { "node-group" = name }
    }) if group.enabled
  }
  user_data = <<-EOT
    #!/bin/bash
    echo "${local.name}" > /etc/cluster-name
    %{ for key, value in var.node_labels ~}
    echo "${key}=${value}" >> /etc/labels
    %{ endfor ~}
    echo "$${HOME} stays literal, as does %%{ this }"
  EOT
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 5.0"

  name            = local.name
  cidr            = local.vpc_cidr
  azs             = local.azs
  private_subnets = [for k, v in local.azs : cidrsubnet(local.vpc_cidr, 4, k)]
  public_subnets  = [for k, v in local.azs : cidrsubnet(local.vpc_cidr, 8, k + 48)]

  public_subnet_tags = {
    "kubernetes.io/role/elb" = 1
  }
  tags = local.tags
}

module "irsa" {
  source = "git::https://github.com/example/terraform-aws-irsa.git//modules/role?ref=v1.2.0"
  count  = var.create_irsa ? 1 : 0

  role_name = "${local.name}-irsa"
}

module "node_group" {
  source   = "./modules/node-group"
  for_each = local.node_groups

  cluster_name   = module.eks_cluster.name
  name           = each.key
  instance_types = each.value.instance_types
  scaling        = each.value.scaling
  subnet_ids     = module.vpc.private_subnets
  labels         = each.value.labels
  user_data      = base64encode(local.user_data)
  tags           = local.tags

  providers = {
    aws = aws
  }
  depends_on = [module.vpc]
}

module "eks_cluster" {
  source = "./modules/cluster"

  name       = local.name
  subnet_ids = module.vpc.private_subnets
  bootstrap  = templatefile("${path.module}/templates/bootstrap.sh.tftpl", { name = local.name })

  providers = {
    aws.dns = aws.us_east_1
  }
}

resource "aws_security_group" "this" {
  name_prefix = "${local.name}-"
  vpc_id      = module.vpc.vpc_id

  dynamic "ingress" {
    for_each = var.ingress_rules
    iterator = rule
    content {
      from_port   = rule.value.from_port
      to_port     = rule.value.to_port
      protocol    = rule.value.protocol
      cidr_blocks = try(rule.value.cidr_blocks, [local.vpc_cidr])
      self        = lookup(rule.value, "self", null)
    }
  }

  provisioner "local-exec" {
    command = "echo ${self.id} > sg.txt"
  }

  lifecycle {
    create_before_destroy = true
  }
}

moved {
  from = aws_security_group.old
  to   = aws_security_group.this
}

check "cluster_reachable" {
  assert {
    condition     = module.eks_cluster.endpoint != ""
    error_message = "The cluster endpoint of ${local.name} is empty."
  }
}
""",
    "variables.tf": r"""
variable "region" {
  description = "AWS region"
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}-[a-z]+-[0-9]$", var.region))
    error_message = "The region ${var.region} is not an AWS region name."
  }
}

variable "tags" {
  description = "Tags for every resource"
  type        = map(string)
  default     = {}
}

variable "create_irsa" {
  description = "Whether to create the IRSA role"
  type        = bool
  default     = true
}

variable "node_groups" {
  description = "Node groups by name"
  type = map(object({
    enabled        = optional(bool, true)
    instance_types = optional(list(string), ["m5.large"])
    scaling = optional(object({
      min     = optional(number, 0)
      max     = optional(number, 3)
      desired = optional(number)
    }), {})
  }))
  default = {
    default = {}
  }
}

variable "node_labels" {
  description = "Labels written onto every node"
  type        = map(string)
  default     = {}
}

variable "ingress_rules" {
  description = "Extra ingress rules"
  type = list(object({
    from_port   = number
    to_port     = number
    protocol    = optional(string, "tcp")
    cidr_blocks = optional(list(string))
  }))
  default = []
}
""",
    "outputs.tf": r"""
output "node_groups" {
  description = "Node groups, by name"
  value       = { for name, group in module.node_group : name => group.id }
}

output "cluster_name" {
  description = "The cluster's name"
  value       = module.eks_cluster.name
}
""",
    "versions.tf": r"""
terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source                = "hashicorp/aws"
      version               = ">= 5.40"
      configuration_aliases = []
    }
  }
}
""",
    "terraform.tfvars": 'region = "eu-central-1"\ntags = { Team = "platform" }\n',
    "modules/node-group/main.tf": r"""
resource "aws_eks_node_group" "this" {
  count = var.create ? 1 : 0

  cluster_name    = var.cluster_name
  node_group_name = var.name
  subnet_ids      = var.subnet_ids
  instance_types  = var.instance_types
  labels          = var.labels

  scaling_config {
    min_size     = var.scaling.min
    max_size     = var.scaling.max
    desired_size = coalesce(var.scaling.desired, var.scaling.min)
  }

  dynamic "taint" {
    for_each = var.taints
    content {
      key    = taint.value.key
      value  = lookup(taint.value, "value", null)
      effect = taint.value.effect
    }
  }

  launch_template {
    id      = aws_launch_template.this[count.index].id
    version = aws_launch_template.this[count.index].latest_version
  }

  tags = merge(var.tags, { Name = var.name })

  lifecycle {
    ignore_changes = [scaling_config[0].desired_size]
  }
}

resource "aws_launch_template" "this" {
  count     = var.create ? 1 : 0
  user_data = var.user_data
}
""",
    "modules/node-group/variables.tf": r"""
variable "create" {
  description = "Whether to create the node group"
  type        = bool
  default     = true
}

variable "cluster_name" {
  description = "The cluster"
  type        = string
}

variable "name" {
  description = "The node group's name"
  type        = string
}

variable "subnet_ids" {
  description = "Subnets"
  type        = list(string)
}

variable "instance_types" {
  description = "Instance types"
  type        = list(string)
  default     = null
}

variable "scaling" {
  description = "min, max, desired"
  type = object({
    min     = optional(number, 0)
    max     = optional(number, 3)
    desired = optional(number)
  })
  default = {}
}

variable "labels" {
  description = "Kubernetes labels"
  type        = map(string)
  default     = null
}

variable "taints" {
  description = "Kubernetes taints"
  type        = any
  default     = {}
}

variable "tags" {
  description = "Tags"
  type        = map(string)
  default     = {}
}
""",
    # Declared in JSON, as generators write them; mixed with HCL in one module.
    "modules/node-group/user_data.tf.json": json.dumps(
        {
            "variable": {
                "user_data": {"description": "User data", "type": "string", "default": ""}
            },
            "output": {"id": {"value": "${try(aws_eks_node_group.this[0].id, var.name)}"}},
        },
        indent=2,
    ),
    "modules/cluster/main.tf": r"""
resource "aws_eks_cluster" "this" {
  name = var.name

  vpc_config {
    subnet_ids = var.subnet_ids
  }
}

resource "aws_route53_record" "api" {
  provider = aws.dns
  count    = var.zone_id == null ? 0 : 1
  zone_id  = var.zone_id
  name     = "api.${var.name}"
  type     = "CNAME"
  ttl      = 300
  records  = [aws_eks_cluster.this.endpoint]
}

resource "terraform_data" "bootstrap" {
  input = var.bootstrap
}
""",
    "modules/cluster/variables.tf": r"""
variable "name" {
  description = "Cluster name"
  type        = string
}

variable "subnet_ids" {
  description = "Subnets"
  type        = list(string)
}

variable "zone_id" {
  description = "Route 53 zone for the API record"
  type        = string
  default     = null
}

variable "bootstrap" {
  description = "Bootstrap script"
  type        = string
  default     = ""
}
""",
    "modules/cluster/outputs.tf": r"""
output "name" {
  description = "Cluster name"
  value       = aws_eks_cluster.this.name
}

output "endpoint" {
  description = "API endpoint"
  value       = aws_eks_cluster.this.endpoint
}
""",
    "modules/cluster/versions.tf": r"""
terraform {
  required_providers {
    aws = {
      source                = "hashicorp/aws"
      version               = ">= 5.40"
      configuration_aliases = [aws.dns]
    }
  }
}
""",
    "modules/cluster/override.tf": r"""
variable "zone_id" {
  default = "Z123"
}
""",
    # An example in its own folder calling the module above, like every public module repo has.
    "examples/complete/main.tf": r"""
module "cluster" {
  source = "../../modules/cluster"

  name       = "complete"
  subnet_ids = ["subnet-1", "subnet-2"]
}
""",
    "templates/bootstrap.sh.tftpl": "#!/bin/sh\necho ${name} ${undeclared_template_var}\n",
    # What `tofu init` leaves behind is never checked.
    ".terraform/modules/vpc/main.tf": 'resource "x" "y" {\n  broken = var.nope\n',
}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        write(root / name, text.lstrip("\n"))
    return root


def test_a_correct_tree_in_the_style_of_public_modules_has_no_findings(tmp_path):
    root = write_tree(tmp_path / "tree", PUBLIC_ROOT)
    report = validate_tree(root, run_tofu=False)
    assert [str(f) for f in report.findings] == []
    assert report.modules == 4
    assert report.unchecked_calls == 2  # the registry and the git module


def test_a_var_reference_to_an_undeclared_variable_is_reported(tmp_path):
    files = dict(PUBLIC_ROOT)
    files["modules/cluster/main.tf"] += '\nlocals {\n  region = "${var.regoin}-x"\n}\n'
    root = write_tree(tmp_path / "tree", files)
    line = len(files["modules/cluster/main.tf"].lstrip("\n").splitlines()) - 1
    assert findings(root) == [
        f"modules/cluster/main.tf:{line}: var.regoin is not declared in modules/cluster: add a "
        'variable "regoin" block there, or fix the name'
    ]


def test_a_var_reference_inside_a_heredoc_template_is_checked(tmp_path):
    files = dict(PUBLIC_ROOT)
    files["main.tf"] = files["main.tf"].replace(
        'echo "${local.name}" > /etc/cluster-name', 'echo "${var.cluster}" > /etc/cluster-name'
    )
    root = write_tree(tmp_path / "tree", files)
    line = (
        files["main.tf"]
        .lstrip("\n")
        .splitlines()
        .index('    echo "${var.cluster}" > /etc/cluster-name')
    )
    assert findings(root) == [
        f"main.tf:{line + 1}: var.cluster is not declared in the root module: add a variable "
        '"cluster" block there, or fix the name'
    ]


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"),
    [
        pytest.param(
            "examples/complete/main.tf",
            '  name       = "complete"\n',
            '  name       = "complete"\n  region     = "eu-west-1"\n',
            [
                'examples/complete/main.tf:5: module "cluster" passes "region", which '
                'modules/cluster does not declare: declare variable "region" there, or remove '
                "the argument"
            ],
            id="a module argument the module does not declare",
        ),
        pytest.param(
            "examples/complete/main.tf",
            '  subnet_ids = ["subnet-1", "subnet-2"]\n',
            "",
            [
                'examples/complete/main.tf:1: module "cluster" does not pass "subnet_ids", which '
                "modules/cluster requires (it has no default): pass it, or give the variable a "
                "default"
            ],
            id="a module call missing a variable without default",
        ),
        pytest.param(
            "modules/cluster/variables.tf",
            "  type        = string\n  default     = null\n",
            "  type        = string\n",
            [],
            id="a variable given a default by an override file need not be passed",
        ),
        pytest.param(
            "examples/complete/main.tf",
            "../../modules/cluster",
            "../../modules/clusters",
            [
                'examples/complete/main.tf:1: module "cluster" has source '
                '"../../modules/clusters", which does not exist: fix the path'
            ],
            id="a local module source that does not exist",
        ),
        pytest.param(
            "examples/complete/main.tf",
            "../../modules/cluster",
            "../../templates",
            [
                'examples/complete/main.tf:1: module "cluster" has source "../../templates", '
                "which holds no .tf files: fix the path"
            ],
            id="a local module source without configuration files",
        ),
        pytest.param(
            "examples/complete/main.tf",
            '  source = "../../modules/cluster"\n',
            "",
            ['examples/complete/main.tf:1: module "cluster" has no source: add one'],
            id="a module without source",
        ),
    ],
)
def test_a_module_call_is_checked_against_the_module_it_calls(tmp_path, name, old, new, expected):
    files = dict(PUBLIC_ROOT)
    assert old in files[name]
    files[name] = files[name].replace(old, new)
    root = write_tree(tmp_path / "tree", files)
    assert findings(root) == expected


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        pytest.param(
            "modules/cluster/extra.tf.json",
            json.dumps({"output": {"region": {"value": "${var.region}"}}}, indent=2),
            "modules/cluster/extra.tf.json:3: var.region is not declared in modules/cluster: add "
            'a variable "region" block there, or fix the name',
            id="a var reference in a tf.json file",
        ),
        pytest.param(
            "modules/cluster/more.tf",
            'variable "name" {\n  description = "Again"\n  type        = string\n}\n',
            'modules/cluster/variables.tf:1: variable "name" is declared again (first at '
            "modules/cluster/more.tf:1): remove one (or rename it)",
            id="a variable declared twice in one module",
        ),
    ],
)
def test_a_file_added_to_a_module_is_checked_with_it(tmp_path, name, text, message):
    files = dict(PUBLIC_ROOT)
    files[name] = text
    root = write_tree(tmp_path / "tree", files)
    assert findings(root) == [message]


def test_a_tofu_file_replaces_the_tf_file_of_the_same_name(tmp_path):
    files = dict(PUBLIC_ROOT)
    # cluster/main.tofu (which OpenTofu reads instead of main.tf) uses a variable main.tf lacks.
    files["modules/cluster/main.tofu"] = files["modules/cluster/main.tf"]
    files["modules/cluster/main.tf"] = 'resource "x" "y" {\n  a = var.only_in_tf\n}\n'
    root = write_tree(tmp_path / "tree", files)
    assert findings(root) == []


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "modules/cluster/broken.tf",
            "locals {\n  a = [1, 2\n  b = 3\n}\n",
            "modules/cluster/broken.tf:3: HCL syntax error at column 3: unexpected 'b': fix the "
            "syntax",
        ),
        (
            "modules/cluster/unclosed.tf",
            'resource "aws_eip" "this" {\n  domain = "vpc"\n',
            "modules/cluster/unclosed.tf:2: HCL syntax error at column 1: unexpected end of file "
            "(an unclosed brace, bracket or quote?): fix the syntax",
        ),
        (
            "modules/cluster/broken.tf.json",
            '{\n  "locals": {\n    "a": 1,\n  }\n}\n',
            "modules/cluster/broken.tf.json:4: JSON syntax error at column 3: Expecting property "
            "name enclosed in double quotes: fix the syntax",
        ),
        (
            "terraform.tfvars",
            'region = "eu-central-1"\ntags = { Team = }\n',
            "terraform.tfvars:2: HCL syntax error at column 17: unexpected '}': fix the syntax",
        ),
    ],
)
def test_a_file_that_does_not_parse_is_reported_with_its_line(tmp_path, name, text, message):
    files = dict(PUBLIC_ROOT)
    files[name] = text
    root = write_tree(tmp_path / "tree", files)
    assert findings(root) == [message]


@pytest.mark.parametrize(
    "name", ["sizes.auto.tfvars", "terraform.tfvars.json", "main.tofu", "extra.tofu.json"]
)
def test_a_syntax_error_in_any_root_file_opentofu_loads_is_reported(tmp_path, name):
    files = dict(PUBLIC_ROOT)
    files[name] = "{\n" if name.endswith(".json") else "a = [1,\n"
    root = write_tree(tmp_path / "tree", files)

    [finding] = findings(root)

    assert finding.startswith(f"{name}:")


@pytest.mark.parametrize(
    "name", ["templates/cae.tfvars", "example.tfvars", "modules/cluster/terraform.tfvars"]
)
def test_a_tfvars_file_opentofu_never_reads_is_not_part_of_the_tree(tmp_path, name):
    files = dict(PUBLIC_ROOT)
    files[name] = 'region = "${REGION}" {{ generated }\n'  # a template, not HCL
    root = write_tree(tmp_path / "tree", files)

    assert findings(root) == []
