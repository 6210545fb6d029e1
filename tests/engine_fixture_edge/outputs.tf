output "hub_front_door_arn" {
  description = "ARN of the hub's application load balancer."
  value       = module.edge.arn
}

output "hub_front_door_dns_name" {
  description = "DNS name of the hub's application load balancer (the task library reads the front door here)."
  value       = module.edge.dns_name
}

output "hub_load_balancer_hostname" {
  description = "The address DNS must point at: the front door alone serves (front_door = \"alb\")."
  value       = module.edge.dns_name
}
