output "name" {
  description = "Name of the budget (AWS Billing > Budgets)."
  value       = aws_budgets_budget.this.name
}
