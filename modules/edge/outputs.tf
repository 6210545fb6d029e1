output "arn" {
  description = "ARN of the hub's application load balancer."
  value       = aws_lb.hub.arn
}

output "dns_name" {
  description = "DNS name of the hub's application load balancer: what the hub's domain points at once the front door serves."
  value       = lower(aws_lb.hub.dns_name)
}

output "target_group_arn" {
  description = "ARN of the proxy's target group, which the TargetGroupBinding fills with the proxy's pod addresses."
  value       = aws_lb_target_group.proxy.arn
}

output "security_group_id" {
  description = "Security group of the load balancer."
  value       = aws_security_group.alb.id
}
