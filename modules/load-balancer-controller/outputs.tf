output "release" {
  description = "The controller's release, \"<namespace>/<name>\", known once it is installed: what needs its TargetGroupBinding CRD waits for this."
  value       = "${helm_release.controller.namespace}/${helm_release.controller.name}"
}

output "role_arn" {
  description = "ARN of the controller's IAM role."
  value       = module.role.arn
}
