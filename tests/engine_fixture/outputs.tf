output "hub_load_balancer_hostname" {
  description = "The DNS name of the hub's load balancer (what the hub's domain points at)."
  value       = aws_elb.hub.dns_name
}

output "health_check" {
  description = "The health check's facts, as the tree's root output gives them."
  value       = var.health_check
}
