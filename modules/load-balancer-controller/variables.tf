variable "cluster_name" {
  description = "Name of the EKS cluster (the controller's clusterName)."
  type        = string
}

variable "aws_region" {
  description = "Region of the cluster (given to the controller, so it need not ask the metadata service, which pods cannot reach)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the cluster (given to the controller for the same reason)."
  type        = string
}

variable "target_group_arn" {
  description = "ARN of the front door's target group: the one group the controller may register targets in."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (the controller's role is assumed through it)."
  type        = string
}

variable "oidc_issuer" {
  description = "OIDC issuer host of the cluster, without https://."
  type        = string
}

variable "node_selector" {
  description = "Labels of the nodes the controller runs on (the always-on core nodes)."
  type        = map(string)
}

# Helm installs a chart's CRDs on first install and never upgrades them: to bump this version,
# first apply the new release's CRDs (`kubectl apply -k "github.com/aws/eks-charts/stable/aws-load-balancer-controller/crds?ref=<tag>"`,
# or the chart's crds/ folder of the release), then apply the tree.
variable "chart_version" {
  description = "AWS Load Balancer Controller chart version (https://aws.github.io/eks-charts); the IAM policy in main.tf was read against its appVersion's source (check it again on a bump). Its CRDs are applied by hand before a bump (Helm never upgrades them)."
  type        = string
  default     = "3.5.0"
}
