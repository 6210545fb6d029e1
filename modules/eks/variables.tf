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

variable "admin_principal_arns" {
  description = "IAM principals given cluster-admin access through EKS access entries."
  type        = list(string)
  default     = []
}

variable "public_access_cidrs" {
  description = "CIDR blocks allowed to reach the public Kubernetes API endpoint (OpenTofu runs from laptops and CI)."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "log_retention_days" {
  description = "Days to keep the control plane logs."
  type        = number
  default     = 365
}

variable "cluster_autoscaler_chart_version" {
  description = "Version of the cluster-autoscaler Helm chart (https://kubernetes.github.io/autoscaler)."
  type        = string
  default     = "9.53.0"
}
