# What talks to the cluster (the kubernetes and helm providers, whose configuration reads these)
# waits until the access entries exist: without one, the identity applying gets Unauthorized.
output "cluster_name" {
  description = "Name of the EKS cluster (available once its access entries exist)."
  value       = aws_eks_cluster.this.name

  depends_on = [aws_eks_access_policy_association.this]
}

output "cluster_endpoint" {
  description = "URL of the Kubernetes API (available once the access entries exist)."
  value       = aws_eks_cluster.this.endpoint

  depends_on = [aws_eks_access_policy_association.this]
}

output "cluster_certificate_authority_data" {
  description = "Base64-encoded certificate authority of the Kubernetes API."
  value       = aws_eks_cluster.this.certificate_authority[0].data
}

output "nodes_ready_cluster_name" {
  description = "Name of the EKS cluster, available only once the node groups exist: for add-ons of other modules whose pods need a node to become active."
  value       = aws_eks_cluster.this.name

  depends_on = [aws_eks_node_group.this]
}

output "node_security_group_id" {
  description = "Security group of the nodes (the EKS cluster security group, which managed node groups use)."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}

output "oidc_provider_arn" {
  description = "ARN of the IAM OIDC provider for IAM roles for service accounts."
  value       = aws_iam_openid_connect_provider.this.arn
}

output "oidc_issuer" {
  description = "OIDC issuer host of the cluster (without https://), the prefix of IRSA trust conditions."
  value       = local.oidc_host
}

output "node_group_names" {
  description = "Names of the managed node groups, keyed hub, main and dask-worker."
  value       = { for key, group in aws_eks_node_group.this : key => group.node_group_name }
}

output "default_storage_class" {
  description = "Name of the default (gp3, encrypted) storage class."
  value       = kubernetes_storage_class_v1.gp3.metadata[0].name
}
