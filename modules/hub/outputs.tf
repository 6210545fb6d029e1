output "namespace" {
  description = "Namespace of the hub."
  value       = kubernetes_namespace_v1.hub.metadata[0].name
}

output "service_name" {
  description = "Name of the hub's public proxy service."
  value       = local.proxy_service
}

output "load_balancer_hostname" {
  description = "Hostname of the load balancer in front of the proxy-public service (null until AWS has assigned one)."
  value       = try(data.kubernetes_service_v1.proxy_public.status[0].load_balancer[0].ingress[0].hostname, null)
}
