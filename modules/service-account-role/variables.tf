variable "name_prefix" {
  description = "Prefix of the role's name (IAM appends a unique suffix; at most 38 characters)."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider."
  type        = string
}

variable "oidc_issuer" {
  description = "OIDC issuer host of the cluster, without https://."
  type        = string
}

variable "namespace" {
  description = "Kubernetes namespace of the service accounts."
  type        = string
}

variable "service_accounts" {
  description = "Names of the service accounts that may assume the role; a name may end in * to match a prefix."
  type        = list(string)
}

variable "policy_arns" {
  description = "ARNs of managed IAM policies attached to the role."
  type        = list(string)
  default     = []
}
