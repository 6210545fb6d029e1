# A monthly cost budget for one environment, with e-mail alerts. All environments may share one
# AWS account, so the budget counts only costs tagged Environment=<environment> (the provider's
# default tag, also set on nodes, volumes and the load balancer). AWS counts a tag only once it is
# activated as a cost allocation tag (Billing > Cost allocation tags > Environment, once per
# account); until then the budget sees no costs.

resource "aws_budgets_budget" "this" {
  name         = "${var.name}-monthly"
  budget_type  = "COST"
  limit_amount = format("%.2f", var.monthly_limit_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  cost_filter {
    name = "TagKeyValue"
    # TagKeyValue filters are written user:<key>$<value>.
    values = [format("user:Environment$%s", var.environment)]
  }

  # Early warning: the month is on course to exceed the limit.
  notification {
    comparison_operator        = "GREATER_THAN"
    threshold                  = 100
    threshold_type             = "PERCENTAGE"
    notification_type          = "FORECASTED"
    subscriber_email_addresses = var.alert_emails
  }

  # The limit is reached.
  notification {
    comparison_operator        = "GREATER_THAN"
    threshold                  = 100
    threshold_type             = "PERCENTAGE"
    notification_type          = "ACTUAL"
    subscriber_email_addresses = var.alert_emails
  }
}
