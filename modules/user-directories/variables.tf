variable "name" {
  description = "Name prefix of the file system and its Kubernetes objects."
  type        = string
}

variable "cluster_name" {
  description = "EKS cluster the EFS CSI driver add-on is installed in (pass it as available once the node groups exist)."
  type        = string
}

variable "efs_csi_addon_version" {
  description = "Version of the aws-efs-csi-driver EKS add-on, compatible with the cluster's Kubernetes version."
  type        = string
  validation {
    condition     = can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+-eksbuild\\.[0-9]+$", var.efs_csi_addon_version))
    error_message = "efs_csi_addon_version must be an exact version such as \"v3.0.1-eksbuild.1\"."
  }
}

variable "vpc_id" {
  description = "VPC of the cluster."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets to put a mount target in (one per availability zone)."
  type        = list(string)
}

variable "node_security_group_id" {
  description = "Security group of the nodes; only they may reach the file system (NFS)."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (for the EFS CSI driver's role)."
  type        = string
}

variable "oidc_issuer" {
  description = "OIDC issuer host of the cluster, without https://."
  type        = string
}

variable "owner_uid" {
  description = "POSIX user id that owns every file written through the access point (the notebook user, jovyan)."
  type        = number
  default     = 1000
}

variable "owner_gid" {
  description = "POSIX group id of files written through the access point (the notebook group, users)."
  type        = number
  default     = 100
}
