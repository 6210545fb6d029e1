variable "domain" {
  description = "DNS name the certificate is for (the hub's address)."
  type        = string
}

variable "validation_timeout" {
  description = "How long an apply waits for the DNS validation record to be set and the certificate issued."
  type        = string
  default     = "2h"
}
