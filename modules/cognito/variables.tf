variable "name" {
  description = "Name of the user pool and prefix of its hosted domain."
  type        = string
}

variable "aws_account_id" {
  description = "AWS account id; makes the hosted domain prefix unique within the region."
  type        = string
}

variable "aws_region" {
  description = "AWS region of the user pool (part of the hosted domain's address)."
  type        = string
}

variable "domain" {
  description = "The hub's DNS name; the app client allows only https://<domain>/hub/oauth_callback as callback."
  type        = string
  nullable    = false
}

variable "protected" {
  description = "Whether the user pool must survive every apply (production): AWS deletion protection, and a plan that would delete or replace it fails."
  type        = bool
  default     = false
}
