# Environment facts: set by every environments/ENV/terraform.tfvars (the task library reads the
# same file, so the two can never disagree).

variable "environment" {
  description = "Environment name: cae-testing, cae-dev or cae (production)."
  type        = string
  validation {
    condition     = contains(["cae-testing", "cae-dev", "cae"], var.environment)
    error_message = "environment must be one of cae-testing, cae-dev, cae."
  }
}

variable "aws_region" {
  description = "AWS region the environment lives in."
  type        = string
}

variable "aws_account_id" {
  description = "The only AWS account this environment may be applied to (guards against the wrong shell credentials)."
  type        = string
  validation {
    condition     = can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id must be a 12-digit AWS account id."
  }
}

variable "cluster_name" {
  description = "EKS cluster name; also the cluster tag the task library searches load balancers by."
  type        = string
}

variable "hub_namespace" {
  description = "Kubernetes namespace of JupyterHub and Dask Gateway."
  type        = string
}

variable "domain" {
  description = "DNS name users reach the hub at (https with an ACM certificate). null: no DNS name and no https; use the load balancer address."
  type        = string
  default     = null
}

variable "supervised" {
  description = "Whether every apply is supervised (a routing change fails the apply). Read by the task library; recorded as a tag here."
  type        = bool
}

variable "authentication" {
  description = "\"dummy\": any username and password logs in; \"cognito\": a Cognito user pool (needs a domain for the OAuth callback)."
  type        = string
  validation {
    condition     = contains(["dummy", "cognito"], var.authentication)
    error_message = "authentication must be \"dummy\" or \"cognito\"."
  }
}

variable "user_directories" {
  description = "Mount persistent home directories from EFS. Protected from destruction: an environment with them cannot be destroyed."
  type        = bool
}

variable "cluster_access" {
  description = "Who may use the environment's Kubernetes API (EKS access entries): IAM role ARN => \"admin\" (the roles that apply: CI's role for the environment, the operators' roles) or \"view\" (roles that only plan, such as production's plan role). Nobody else has access, not even the identity that created the cluster."
  type        = map(string)
  validation {
    condition     = length(var.cluster_access) > 0 && length([for role in values(var.cluster_access) : role if role == "admin"]) > 0
    error_message = "cluster_access needs at least one \"admin\" principal (the identity that applies must reach the cluster)."
  }
  validation {
    condition     = alltrue([for arn, role in var.cluster_access : can(regex("^arn:aws:iam::[0-9]{12}:(role|user)/", arn)) && contains(["admin", "view"], role)])
    error_message = "cluster_access keys must be IAM role or user ARNs, and each value \"admin\" or \"view\"."
  }
}

variable "api_public_access_cidrs" {
  description = "CIDR blocks that may reach the cluster's public Kubernetes API endpoint, as one list. null (the default): operator_cidrs and ci_runner_cidrs together. GitHub-hosted runners have no fixed addresses, so an environment they apply sets [\"0.0.0.0/0\"] here; access itself is by IAM (cluster_access)."
  type        = list(string)
  default     = null
  validation {
    condition     = var.api_public_access_cidrs == null || (length(coalesce(var.api_public_access_cidrs, [])) > 0 && alltrue([for cidr in coalesce(var.api_public_access_cidrs, []) : can(cidrnetmask(cidr))]))
    error_message = "api_public_access_cidrs must list at least one IPv4 CIDR block, or be null (operator_cidrs and ci_runner_cidrs)."
  }
}

variable "operator_cidrs" {
  description = "The operators' networks (office, VPN) from which they run OpenTofu and kubectl; with ci_runner_cidrs the Kubernetes API's sources where api_public_access_cidrs is null."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for cidr in var.operator_cidrs : can(cidrnetmask(cidr))])
    error_message = "operator_cidrs must be IPv4 CIDR blocks."
  }
}

variable "ci_runner_cidrs" {
  description = "The fixed egress addresses of the CI runners that apply this environment (GitHub's larger runners with static IP addresses, or self-hosted runners; GitHub-hosted standard runners have none); with operator_cidrs the Kubernetes API's sources where api_public_access_cidrs is null."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for cidr in var.ci_runner_cidrs : can(cidrnetmask(cidr))])
    error_message = "ci_runner_cidrs must be IPv4 CIDR blocks."
  }
}

variable "hub_allowed_cidrs" {
  description = "CIDR blocks that may reach the hub's load balancer. null (the default): anyone, for hubs behind real authentication. A hub with authentication = \"dummy\" must list its networks."
  type        = list(string)
  default     = null
}

variable "front_door" {
  description = "What serves the hub: \"service\" (the default: the load balancer Kubernetes makes for proxy-public, whose address moves when the Service, release or cluster is recreated), \"both\" (that one and the tree's application load balancer, whose address stays: the migration, see docs/opentofu-tree.md), \"alb\" (the application load balancer only)."
  type        = string
  default     = "service"
  validation {
    condition     = contains(["service", "both", "alb"], var.front_door)
    error_message = "front_door must be \"service\", \"both\" or \"alb\"."
  }
}

variable "monthly_budget_usd" {
  description = "Monthly cost budget of the environment in US dollars (costs tagged Environment=<environment>); alerts go to budget_alert_emails."
  type        = number
}

variable "budget_alert_emails" {
  description = "E-mail addresses alerted when the environment's month is forecast to exceed, or exceeds, its budget."
  type        = list(string)
}

# Per-environment settings with safe defaults: an environment may set its own.

variable "hub_admin_users" {
  description = "JupyterHub admin usernames (hub.config.Authenticator.admin_users; Cognito usernames where authentication is cognito). Admins manage users and may open any user's server, so they can read every home: list operators only. Default: nobody."
  type        = list(string)
  default     = []
}

variable "notebook_culling" {
  description = "Idle notebook servers are stopped (Zero to JupyterHub's culler): after timeout_minutes without activity, checked every every_minutes. Their user nodes then scale away."
  type = object({
    timeout_minutes = number
    every_minutes   = number
  })
  default = {
    timeout_minutes = 60
    every_minutes   = 10
  }
}

variable "dask_limits" {
  description = "Cost brakes of each Dask cluster (Dask Gateway's defaults have none): idle_timeout_minutes before an idle cluster shuts down, and at most max_workers workers, max_cores cores and max_memory memory (\"112G\") per cluster."
  type = object({
    idle_timeout_minutes = number
    max_workers          = number
    max_cores            = number
    max_memory           = string
  })
  default = {
    idle_timeout_minutes = 30
    max_workers          = 16
    max_cores            = 32
    max_memory           = "112G"
  }
}

variable "dask_worker_capacity_type" {
  description = "Capacity of the dask-worker node group: \"ON_DEMAND\" (the default) or \"SPOT\" (cheaper; AWS may reclaim a node with two minutes' notice, losing its workers' results, which Dask recomputes). Changing it replaces the group (created before the old one goes)."
  type        = string
  default     = "ON_DEMAND"
  validation {
    condition     = contains(["ON_DEMAND", "SPOT"], var.dask_worker_capacity_type)
    error_message = "dask_worker_capacity_type must be \"ON_DEMAND\" or \"SPOT\"."
  }
}

variable "control_plane_log_retention_days" {
  description = "Days CloudWatch keeps the EKS control plane's logs (api, audit, authenticator, ...): one of CloudWatch's retention periods."
  type        = number
  default     = 30
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.control_plane_log_retention_days)
    error_message = "control_plane_log_retention_days must be a CloudWatch retention period (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
}

# Shared defaults: the same for every environment. Environments do not set these.

variable "kubernetes_version" {
  description = "EKS Kubernetes minor version (upgrade one minor version at a time, with addon_versions; see docs/opentofu-tree.md). 1.35: EKS standard support until 27 March 2027."
  type        = string
  default     = "1.35"
}

variable "kubernetes_support_type" {
  description = "EKS upgrade policy at the end of standard support: \"STANDARD\" (AWS upgrades the control plane; no extended-support charge) or \"EXTENDED\" (the version stays, billed at the extended-support rate)."
  type        = string
  default     = "STANDARD"
}

# Each compatible with kubernetes_version. Upgrade them with it:
#   aws eks describe-addon-versions --kubernetes-version 1.35 --addon-name NAME \
#     --query 'addons[0].addonVersions[].addonVersion'
# kube-proxy and coredns: the Amazon EKS User Guide's version tables for 1.35 ("Manage kube-proxy",
# "Manage CoreDNS"). vpc-cni, aws-ebs-csi-driver and aws-efs-csi-driver: NOT verified against an
# AWS compatibility table for 1.35 (not reachable when they were chosen); they are versions seen
# in use on 1.35 clusters. Check them with the command above before the first apply.
variable "addon_versions" {
  description = "Exact version of each EKS add-on: vpc-cni, kube-proxy, coredns, aws-ebs-csi-driver, aws-efs-csi-driver (the last only with user_directories)."
  type        = map(string)
  default = {
    "vpc-cni"            = "v1.22.3-eksbuild.1"
    "kube-proxy"         = "v1.35.3-eksbuild.13"
    "coredns"            = "v1.14.3-eksbuild.3"
    "aws-ebs-csi-driver" = "v1.63.1-eksbuild.1"
    "aws-efs-csi-driver" = "v3.0.1-eksbuild.1"
  }
  validation {
    condition     = alltrue([for name in ["vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver", "aws-efs-csi-driver"] : can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+-eksbuild\\.[0-9]+$", var.addon_versions[name]))])
    error_message = "addon_versions must pin vpc-cni, kube-proxy, coredns, aws-ebs-csi-driver and aws-efs-csi-driver to exact versions such as \"v1.35.3-eksbuild.13\"."
  }
}

variable "vpc_cidr" {
  description = "CIDR block of the environment's VPC: a private (RFC 1918) range, since user pods' network policies keep them away from exactly those (the NFS mount targets are in it)."
  type        = string
  default     = "10.0.0.0/16"
  validation {
    condition     = can(cidrnetmask(var.vpc_cidr)) && can(regex("^(10\\.|192\\.168\\.|172\\.(1[6-9]|2[0-9]|3[01])\\.)", var.vpc_cidr))
    error_message = "vpc_cidr must be a block within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16."
  }
}

variable "user_image_repository" {
  description = "Name of the one ECR repository holding the user image, shared by all environments."
  type        = string
  default     = "cae-user-image"
}

variable "user_image_tag" {
  description = "Tag of the user image. \"latest\": every environment, production included, follows the most recent image."
  type        = string
  default     = "latest"
}

variable "node_release_version" {
  description = "The EKS-optimised AMI release every node group runs (as \"1.35.0-20261120\": the Kubernetes version, then the release date). null follows the release AWS recommends now (a public SSM parameter), which only cae-testing may do: a new release then rolls its nodes at its next apply. cae-dev and cae pin theirs in their own files, so production's nodes change only on a release cae-dev ran, through a change of production's own files."
  type        = string
  default     = null
  validation {
    condition     = var.node_release_version == null || can(regex("^1\\.[0-9]+\\.[0-9]+-[0-9]{8}$", var.node_release_version))
    error_message = "node_release_version must be an EKS AMI release such as \"1.35.0-20261120\", or null to follow AWS's recommended release."
  }
}

variable "promoted_from" {
  description = "What `invoke promote` promoted into this environment (environments/ENV/promotion.tfvars): the environment before it, the commit it last applied successfully, that commit's shared tree (sha256 of its files' blob ids) and the run record that says so. null where nothing was promoted (cae-testing). The state keeps it as the output promoted_from."
  type = object({
    environment = string
    commit      = string
    shared_tree = string
    record      = string
  })
  default = null
}

variable "node_groups" {
  description = "EKS managed node groups: \"hub\" (always on, hub and system pods), \"main\" (user servers) and \"dask-worker\" (Dask schedulers and workers); main and dask-worker scale to zero."
  type = map(object({
    instance_types = list(string)
    min_size       = number
    max_size       = number
    desired_size   = number
    disk_size      = optional(number, 50)
  }))
  default = {
    hub = {
      instance_types = ["t3.large"]
      min_size       = 1
      max_size       = 2
      desired_size   = 1
    }
    main = {
      instance_types = ["r5.xlarge"]
      min_size       = 0
      max_size       = 10
      desired_size   = 0
      disk_size      = 100
    }
    dask-worker = {
      # Equal shapes (8 vCPU, 32 GiB): on spot, several pools per zone mean fewer interruptions
      # and capacity errors, and the autoscaler sizes them alike.
      instance_types = ["m5.2xlarge", "m5a.2xlarge", "m6i.2xlarge", "m6a.2xlarge"]
      min_size       = 0
      max_size       = 20
      desired_size   = 0
    }
  }
  validation {
    condition     = toset(keys(var.node_groups)) == toset(["hub", "main", "dask-worker"])
    error_message = "node_groups must have exactly the keys hub, main and dask-worker."
  }
  validation {
    condition     = try(var.node_groups["hub"].min_size >= 1, false)
    error_message = "The hub node group is always on: node_groups.hub.min_size must be at least 1."
  }
}

variable "health_journey" {
  description = "Whether the health check (invoke health) runs the full journey after supervised applies: the hubops-health user's server started, a Dask cluster, both stopped again. false: the public checks only (certificate, /hub/health, the login redirect)."
  type        = bool
  default     = false
}
