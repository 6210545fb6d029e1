output "hub_load_balancer_hostname" {
  description = "The DNS name of the hub's load balancer (what the hub's domain points at)."
  value       = aws_elb.hub.dns_name
}
