variable "domain" {
  description = "DNS name the certificate is for (the hub's address)."
  type        = string
}

variable "validation_timeout" {
  description = "How long an apply waits for the DNS validation record to be set and the certificate issued. Kept under CI's one-hour AWS session (the OIDC role's default): a wait that outlives the credentials fails with expired tokens instead of this clear timeout."
  type        = string
  default     = "45m"
}
