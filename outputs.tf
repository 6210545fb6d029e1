# The task library reads these (`tofu output -json`) and cross-checks them with what AWS reports.

locals {
  hub_hostname = var.front_door == "alb" ? module.edge[0].dns_name : module.hub.load_balancer_hostname
}

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
  description = "The address DNS must point at (the domain's CNAME): the application load balancer's DNS name where it alone serves (front_door = \"alb\"), else the proxy-public Service's load balancer (with \"both\", until DNS is switched; the task library then accepts either)."
  value       = local.hub_hostname
}

output "hub_front_door_arn" {
  description = "ARN of the hub's application load balancer (front_door \"both\" or \"alb\"); null on the Service's load balancer alone."
  value       = var.front_door == "service" ? null : module.edge[0].arn
}

output "hub_front_door_dns_name" {
  description = "DNS name of the hub's application load balancer, which does not move with the Service, release or cluster (front_door \"both\" or \"alb\"); null on the Service's load balancer alone. The task library reads the front door from here."
  value       = var.front_door == "service" ? null : module.edge[0].dns_name
}

output "hub_url" {
  description = "Where users reach the hub."
  value       = var.domain != null ? "https://${var.domain}" : (local.hub_hostname == null ? null : "http://${local.hub_hostname}")
}

output "certificate_validation_records" {
  description = "DNS records that prove ownership of the domain to ACM (set them once at the DNS provider); empty without a domain."
  value       = var.domain == null ? [] : module.certificate[0].validation_records
}

output "user_image" {
  description = "The user image every environment runs (repository:tag)."
  value       = "${data.aws_ecr_repository.user_image.repository_url}:${var.user_image_tag}"
}

output "promoted_from" {
  description = "What was promoted into this environment (`invoke promote`): the environment before it, its commit, shared tree and run record; null where nothing was."
  value       = var.promoted_from
}

output "health_check" {
  description = "What the health check (invoke health) reads: hostname (the hub's public name, or null: the load balancer's address), user, journey (whether the full journey runs), token_secret_id (ARN of the Secrets Manager secret holding the service token; the token itself is never an output) and login (the OAuth login to follow, or null for the dummy authenticator)."
  value       = module.hub.health_check
}
