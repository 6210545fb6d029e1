variable "cluster_name" {
  description = "Name of the EKS cluster."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane and node groups (for example \"1.34\")."
  type        = string
  validation {
    condition     = can(regex("^1\\.[0-9]+$", var.kubernetes_version))
    error_message = "kubernetes_version must be a minor version such as \"1.34\"."
  }
}

variable "release_version" {
  description = "The EKS-optimised AMI release the node groups run (\"1.35.0-20261120\"); null follows the release AWS recommends for kubernetes_version (its public SSM parameter)."
  type        = string
  default     = null
}

variable "aws_region" {
  description = "AWS region of the cluster (the cluster autoscaler needs it)."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets for the control plane's network interfaces and the nodes."
  type        = list(string)
}

variable "node_groups" {
  description = "Managed node groups keyed \"hub\", \"main\" and \"dask-worker\"; see the root variable of the same name."
  type = map(object({
    instance_types = list(string)
    min_size       = number
    max_size       = number
    desired_size   = number
    disk_size      = optional(number, 50)
  }))
}

variable "support_type" {
  description = "EKS upgrade policy at the end of standard support: \"STANDARD\" (AWS upgrades the control plane) or \"EXTENDED\" (stay, at the extended-support rate)."
  type        = string
  default     = "STANDARD"
  validation {
    condition     = contains(["STANDARD", "EXTENDED"], var.support_type)
    error_message = "support_type must be \"STANDARD\" or \"EXTENDED\"."
  }
}

variable "access_entries" {
  description = "Who may use the Kubernetes API: IAM role/user ARN => \"admin\" (cluster admin: the roles that apply) or \"view\" (read everything, Secrets included: roles that only plan). Nobody else, the cluster's creator included."
  type        = map(string)
  validation {
    condition     = length(var.access_entries) > 0 && alltrue([for role in values(var.access_entries) : contains(["admin", "view"], role)])
    error_message = "access_entries needs at least one principal, each \"admin\" or \"view\"."
  }
}

variable "public_access_cidrs" {
  description = "CIDR blocks allowed to reach the public Kubernetes API endpoint (OpenTofu runs from laptops and CI)."
  type        = list(string)
  validation {
    condition     = length(var.public_access_cidrs) > 0 && alltrue([for cidr in var.public_access_cidrs : can(cidrnetmask(cidr))])
    error_message = "public_access_cidrs must list at least one IPv4 CIDR block."
  }
}

variable "addon_versions" {
  description = "Version of each EKS add-on (vpc-cni, kube-proxy, coredns, aws-ebs-csi-driver), compatible with kubernetes_version: `aws eks describe-addon-versions --kubernetes-version 1.35 --addon-name NAME`."
  type        = map(string)
  validation {
    condition     = alltrue([for name in ["vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver"] : can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+-eksbuild\\.[0-9]+$", var.addon_versions[name]))])
    error_message = "addon_versions must pin vpc-cni, kube-proxy, coredns and aws-ebs-csi-driver to exact versions such as \"v1.35.3-eksbuild.13\"."
  }
}

variable "tags" {
  description = "Tags for what the provider's default tags cannot reach: the nodes' instances, volumes and network interfaces, and the EBS volumes the CSI driver creates."
  type        = map(string)
  default     = {}
}

variable "log_retention_days" {
  description = "Days to keep the control plane logs (a CloudWatch retention period)."
  type        = number
}

variable "dask_worker_capacity_type" {
  description = "Capacity type of the dask-worker node group, \"ON_DEMAND\" or \"SPOT\"; the other groups are always on demand."
  type        = string
  validation {
    condition     = contains(["ON_DEMAND", "SPOT"], var.dask_worker_capacity_type)
    error_message = "dask_worker_capacity_type must be \"ON_DEMAND\" or \"SPOT\"."
  }
}

variable "cluster_autoscaler_chart_version" {
  description = "Version of the cluster-autoscaler Helm chart (https://kubernetes.github.io/autoscaler)."
  type        = string
  default     = "9.59.0"
}

variable "protected" {
  description = "Whether the cluster and the hub's data are protected (production): a plan that replaces or destroys the cluster fails (cluster_guard), and the default storage class retains released volumes."
  type        = bool
  default     = false
}
