variable "name" {
  description = "Name of the log group (the key policy lets CloudWatch Logs use the key for this name only)."
  type        = string
}

variable "key_description" {
  description = "Description of the KMS key (shown in the KMS console; changing it updates the key in place)."
  type        = string
}

variable "retention_in_days" {
  description = "Days to keep the log events."
  type        = number
  default     = 365
}
