# The hub's front door as the tree makes it, applied by the engine against moto: the project's
# modules/edge (here a link to it, for invoke validate; a copy in the repository that
# tests/support/engine_edge.py makes), so an application load balancer, its http listener (no
# domain here, so no certificate: moto's ACM certificates cannot be issued), the proxy's target
# group and the security groups. What Kubernetes would add (the cluster, the release, the
# controller binding pods) is out of reach here: a terraform_data stands in for it.

provider "aws" {
  region = var.aws_region

  # moto's server (AWS_ENDPOINT_URL) answers for any account; nothing here reaches real AWS.
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}

# moto's default VPC and its default subnets (one per zone) stand in for modules/network.
data "aws_vpc" "default" {
  default = true
}

data "aws_subnets" "default" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.default.id]
  }
}

# The nodes' (EKS cluster) security group, which the front door sends to.
resource "aws_security_group" "pods" {
  name        = "${var.cluster_name}-pods"
  description = "Stands in for the EKS cluster security group of the nodes and pods."
  vpc_id      = data.aws_vpc.default.id
}

module "edge" {
  source = "./modules/edge"

  name                   = "${var.cluster_name}${var.front_door_generation == "1" ? "" : "-${var.front_door_generation}"}"
  hub                    = "${var.hub_namespace}/proxy-public"
  cluster_name           = var.cluster_name
  vpc_id                 = data.aws_vpc.default.id
  public_subnet_ids      = slice(sort(data.aws_subnets.default.ids), 0, 2)
  allowed_cidrs          = ["203.0.113.0/24"]
  pods_security_group_id = aws_security_group.pods.id
  # hubops's --allow-destroy is what these tests exercise: the module's plan-time guard (and
  # AWS's deletion protection) would stop the engine before hubops could be asked.
  protected = false
}

# Stands in for the rest of the hub (a node group, the JupyterHub release): changing it leaves
# the front door alone.
resource "terraform_data" "hub_release" {
  input = var.hub_release_revision
}
