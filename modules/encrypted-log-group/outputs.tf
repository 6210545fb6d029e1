output "name" {
  description = "Name of the log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "arn" {
  description = "ARN of the log group (without the trailing :*)."
  value       = aws_cloudwatch_log_group.this.arn
}

output "key_arn" {
  description = "ARN of the KMS key that encrypts the log group."
  value       = aws_kms_key.this.arn
}

output "key_id" {
  description = "ID of the KMS key that encrypts the log group (for an alias)."
  value       = aws_kms_key.this.key_id
}
