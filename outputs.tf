# The task library reads these (`tofu output -json`) and cross-checks them with what AWS reports.

output "cluster_name" {
  description = "EKS cluster name (the kubernetes.io/cluster/<name> tag on the hub's load balancer)."
  value       = module.eks.cluster_name
}

output "hub_namespace" {
  description = "Kubernetes namespace of the hub."
  value       = module.hub.namespace
}

output "hub_service" {
  description = "Name of the hub's public proxy service (its load balancer carries the kubernetes.io/service-name=<namespace>/<service> tag)."
  value       = module.hub.service_name
}

output "hub_load_balancer_hostname" {
  description = "Hostname of the hub's load balancer, read from the proxy-public service; point the domain's CNAME here."
  value       = module.hub.load_balancer_hostname
}

output "hub_url" {
  description = "Where users reach the hub."
  value       = var.domain != null ? "https://${var.domain}" : (module.hub.load_balancer_hostname == null ? null : "http://${module.hub.load_balancer_hostname}")
}

output "certificate_validation_records" {
  description = "DNS records that prove ownership of the domain to ACM (set them once at the DNS provider); empty without a domain."
  value       = var.domain == null ? [] : module.certificate[0].validation_records
}

output "user_image" {
  description = "The user image every environment runs (repository:tag)."
  value       = "${data.aws_ecr_repository.user_image.repository_url}:${var.user_image_tag}"
}
