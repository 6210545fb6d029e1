output "certificate_arn" {
  description = "ARN of the issued certificate (known only once validation has succeeded)."
  value       = aws_acm_certificate_validation.this.certificate_arn
}

output "validation_records" {
  description = "DNS records to set at the DNS provider so ACM can validate the domain."
  value = [
    for option in aws_acm_certificate.this.domain_validation_options : {
      name  = option.resource_record_name
      type  = option.resource_record_type
      value = option.resource_record_value
    }
  ]
}
