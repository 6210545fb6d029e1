# The hub on EKS: one composition for every environment. Each environment differs only in the
# values of environments/ENV/terraform.tfvars (authentication, domain and https, user directories,
# supervision, names); the count expressions below are where those values switch parts on or off.

locals {
  # On everything the aws provider creates (default_tags), and passed on to what it cannot reach:
  # the nodes' instances and volumes, the CSI driver's volumes, the hub's load balancer.
  tags = {
    Environment = var.environment
    Supervised  = tostring(var.supervised)
    ManagedBy   = "opentofu"
  }

  # Who reaches the Kubernetes API: the environment's one list, else its operators' and CI's
  # networks (production's default: no longer the whole internet).
  api_public_access_cidrs = var.api_public_access_cidrs != null ? var.api_public_access_cidrs : concat(var.operator_cidrs, var.ci_runner_cidrs)
}

provider "aws" {
  region              = var.aws_region
  allowed_account_ids = [var.aws_account_id]

  default_tags {
    tags = local.tags
  }
}

# Kubernetes and Helm talk to the cluster this configuration creates, with a short-lived token
# from the AWS CLI (the same credentials OpenTofu uses; nothing is written to a kubeconfig). Those
# credentials must be one of the environment's cluster_access principals: the eks module's outputs
# used here become available only once the access entries exist.
provider "kubernetes" {
  host                   = module.eks.cluster_endpoint
  cluster_ca_certificate = base64decode(module.eks.cluster_certificate_authority_data)
  exec {
    api_version = "client.authentication.k8s.io/v1beta1"
    command     = "aws"
    args        = ["eks", "get-token", "--cluster-name", module.eks.cluster_name, "--region", var.aws_region]
  }
}

provider "helm" {
  kubernetes = {
    host                   = module.eks.cluster_endpoint
    cluster_ca_certificate = base64decode(module.eks.cluster_certificate_authority_data)
    exec = {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", module.eks.cluster_name, "--region", var.aws_region]
    }
  }
}

# Rules between variables that a single variable's validation cannot express.
resource "terraform_data" "environment_rules" {
  input = var.environment

  lifecycle {
    precondition {
      condition     = var.authentication != "cognito" || var.domain != null
      error_message = "authentication = \"cognito\" needs a domain for the OAuth callback: set domain in environments/${var.environment}/terraform.tfvars."
    }
    precondition {
      condition     = length(local.api_public_access_cidrs) > 0
      error_message = "Nobody could reach the Kubernetes API: set operator_cidrs and ci_runner_cidrs (or api_public_access_cidrs) in environments/${var.environment}/terraform.tfvars."
    }
    precondition {
      condition     = !var.supervised || var.node_release_version != null
      error_message = "A supervised environment's nodes run only a release pinned in its own files: set node_release_version in environments/${var.environment}/terraform.tfvars to the release cae-dev runs."
    }
    precondition {
      condition     = var.node_release_version == null || startswith(coalesce(var.node_release_version, "-"), "${var.kubernetes_version}.")
      error_message = "node_release_version must be a release of kubernetes_version (${var.kubernetes_version}): pin a release of that version in environments/${var.environment}/terraform.tfvars."
    }
  }
}

# The user image lives in one repository shared by all environments; it is created once, outside
# any environment's state, so destroying cae-dev or cae-testing can never delete production's image.
data "aws_ecr_repository" "user_image" {
  name = var.user_image_repository
}

module "network" {
  source = "./modules/network"

  name         = var.cluster_name
  cluster_name = var.cluster_name
  vpc_cidr     = var.vpc_cidr
}

module "eks" {
  source = "./modules/eks"

  cluster_name        = var.cluster_name
  kubernetes_version  = var.kubernetes_version
  support_type        = var.kubernetes_support_type
  addon_versions      = var.addon_versions
  aws_region          = var.aws_region
  private_subnet_ids  = module.network.private_subnet_ids
  public_access_cidrs = local.api_public_access_cidrs
  access_entries      = var.cluster_access
  node_groups         = var.node_groups
  release_version     = var.node_release_version
  tags                = local.tags

  dask_worker_capacity_type = var.dask_worker_capacity_type
  log_retention_days        = var.control_plane_log_retention_days
  # Production's cluster is never replaced or destroyed by a plan, and its hub database volume
  # is retained.
  protected = var.supervised
}

module "certificate" {
  source = "./modules/certificate"
  count  = var.domain == null ? 0 : 1

  domain = var.domain
}

module "cognito" {
  source = "./modules/cognito"
  count  = var.authentication == "cognito" ? 1 : 0

  name           = var.cluster_name
  aws_account_id = var.aws_account_id
  aws_region     = var.aws_region
  domain         = var.domain
  # Production's logins survive every apply (supervised environments are never destroyed).
  protected = var.supervised

  depends_on = [terraform_data.environment_rules]
}

module "user_directories" {
  source = "./modules/user-directories"
  count  = var.user_directories ? 1 : 0

  name                   = var.cluster_name
  vpc_id                 = module.network.vpc_id
  private_subnet_ids     = module.network.private_subnet_ids
  node_security_group_id = module.eks.node_security_group_id
  oidc_provider_arn      = module.eks.oidc_provider_arn
  oidc_issuer            = module.eks.oidc_issuer
  # The EFS CSI driver add-on only becomes active once nodes run its pods. This output waits for
  # the node groups; a depends_on on the whole module would instead defer every data source here
  # to the apply whenever anything in the cluster changes.
  cluster_name          = module.eks.nodes_ready_cluster_name
  efs_csi_addon_version = var.addon_versions["aws-efs-csi-driver"]
}

# The hub's front door owned by the tree (front_door = "both" or "alb"): an application load
# balancer whose address survives the hub's Service, release and cluster, and the controller that
# keeps its target group filled with the proxy's pods.
module "edge" {
  source = "./modules/edge"
  count  = var.front_door == "service" ? 0 : 1

  name = var.cluster_name
  # Production's front door, once it alone serves, is never replaced or destroyed by a plan
  # (deletion protection, guard). In "both" DNS may still point at the Service's load balancer,
  # and the runbook's back-out (front_door = "service") deletes it, acknowledged with
  # --allow-destroy (docs/opentofu-tree.md, "Migrating an environment to its own front door").
  protected              = var.supervised && var.front_door == "alb"
  hub                    = "${var.hub_namespace}/proxy-public"
  cluster_name           = var.cluster_name
  vpc_id                 = module.network.vpc_id
  public_subnet_ids      = module.network.public_subnet_ids
  certificate_arn        = var.domain == null ? null : module.certificate[0].certificate_arn
  allowed_cidrs          = var.hub_allowed_cidrs
  pods_security_group_id = module.eks.node_security_group_id
}

module "load_balancer_controller" {
  source = "./modules/load-balancer-controller"
  count  = var.front_door == "service" ? 0 : 1

  # Available once the node groups exist: its two replicas run on the core nodes.
  cluster_name      = module.eks.nodes_ready_cluster_name
  aws_region        = var.aws_region
  vpc_id            = module.network.vpc_id
  target_group_arn  = module.edge[0].target_group_arn
  oidc_provider_arn = module.eks.oidc_provider_arn
  oidc_issuer       = module.eks.oidc_issuer
  node_selector     = { "hub.jupyter.org/node-purpose" = "core" }
}

module "hub" {
  source = "./modules/hub"

  name                  = var.cluster_name
  namespace             = var.hub_namespace
  user_image_repository = data.aws_ecr_repository.user_image.repository_url
  user_image_tag        = var.user_image_tag
  domain                = var.domain
  certificate_arn       = var.domain == null ? null : module.certificate[0].certificate_arn
  authentication        = var.authentication
  oauth                 = var.authentication == "cognito" ? module.cognito[0].oauth : null
  oauth_client_secret   = var.authentication == "cognito" ? module.cognito[0].client_secret : null
  home_volume_name      = var.user_directories ? module.user_directories[0].persistent_volume_name : null
  home_storage_class    = var.user_directories ? module.user_directories[0].storage_class_name : null
  allowed_cidrs         = var.hub_allowed_cidrs
  load_balancer_tags    = local.tags
  front_door            = var.front_door
  front_door_binding = var.front_door == "service" ? null : {
    target_group_arn = module.edge[0].target_group_arn
    controller       = module.load_balancer_controller[0].release
  }
  # The default storage class exists only once the EBS CSI driver runs on the nodes: the release
  # waits for it through this value (not a depends_on on the whole module, which would defer the
  # load balancer's address in every plan where anything in the cluster changes).
  storage_class = module.eks.default_storage_class

  admin_users      = var.hub_admin_users
  notebook_culling = var.notebook_culling
  dask_limits      = var.dask_limits
  health_journey   = var.health_journey
}

module "budget" {
  source = "./modules/budget"

  name              = var.cluster_name
  environment       = var.environment
  monthly_limit_usd = var.monthly_budget_usd
  alert_emails      = var.budget_alert_emails
}
