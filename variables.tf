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

# Shared defaults: the same for every environment. Environments do not set these.

variable "kubernetes_version" {
  description = "EKS Kubernetes minor version (upgrade one minor version at a time; see docs/opentofu-tree.md)."
  type        = string
  default     = "1.34"
}

variable "vpc_cidr" {
  description = "CIDR block of the environment's VPC."
  type        = string
  default     = "10.0.0.0/16"
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
      instance_types = ["m5.2xlarge"]
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

variable "admin_principal_arns" {
  description = "IAM role/user ARNs given cluster-admin access to Kubernetes (the identity that creates the cluster always has it)."
  type        = list(string)
  default     = []
}
