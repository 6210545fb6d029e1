# ACM certificate for the hub's domain; the load balancer terminates https with it. The domain's
# DNS is not in Route 53 (records are set by hand), so validation is by a DNS record the operator
# sets once; the apply waits until ACM has issued the certificate.

resource "aws_acm_certificate" "this" {
  domain_name       = var.domain
  validation_method = "DNS"

  lifecycle {
    # A renamed domain gets its new certificate before the old one is released by the load balancer.
    create_before_destroy = true
  }
}

resource "aws_acm_certificate_validation" "this" {
  certificate_arn = aws_acm_certificate.this.arn

  timeouts {
    create = var.validation_timeout
  }
}
