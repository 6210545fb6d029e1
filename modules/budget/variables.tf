variable "name" {
  description = "Name prefix of the budget (the environment's cluster name)."
  type        = string
}

variable "environment" {
  description = "Value of the Environment cost allocation tag whose costs the budget counts."
  type        = string
}

variable "monthly_limit_usd" {
  description = "Monthly cost limit in US dollars; alerts go out when the month is forecast to exceed it and when it is exceeded."
  type        = number
  validation {
    condition     = var.monthly_limit_usd > 0
    error_message = "monthly_limit_usd must be positive."
  }
}

variable "alert_emails" {
  description = "E-mail addresses that receive the budget's alerts."
  type        = list(string)
  validation {
    condition     = length(var.alert_emails) > 0
    error_message = "alert_emails needs at least one address."
  }
}
