# cae: production. Cognito authentication, a DNS name and https, persistent user directories.
# Every apply is supervised: one whose load balancer changed fails with the DNS record to set.
# It is never destroyed.
environment      = "cae"
aws_region       = "us-west-2"
aws_account_id   = "111122223333"
cluster_name     = "cae"
hub_namespace    = "jupyterhub"
domain           = "hub.example.org"
supervised       = true
authentication   = "cognito"
user_directories = true

# Who may use the Kubernetes API (EKS access entries; nobody else, not even the cluster's creator):
# production's apply role and the operators' role apply, production's plan role only reads.
# Placeholders: use yours. The cluster predates access entries, so its creator keeps the entry
# EKS made for it (docs/opentofu-tree.md, "Access"): do not list the creator here unless that
# entry is imported first.
cluster_access = {
  "arn:aws:iam::111122223333:role/hubops-cae-apply" = "admin"
  "arn:aws:iam::111122223333:role/hubops-operator"  = "admin"
  "arn:aws:iam::111122223333:role/hubops-cae-plan"  = "view"
}
# Where the Kubernetes API answers from: the operators' networks and the fixed addresses of the
# runners that apply production (GitHub's larger runners with static IP addresses, or
# self-hosted; docs/opentofu-tree.md, "Access"). Placeholders (documentation ranges): use yours.
operator_cidrs  = ["198.51.100.0/24"]
ci_runner_cidrs = ["192.0.2.0/28"]
# JupyterHub admins (Cognito usernames; placeholder: use your operators'). They can open any
# user's server, and so read any home: operators only.
hub_admin_users = ["hub-operator"]
# Cost brakes: the defaults in variables.tf (Dask clusters of at most 16 workers, stopped after
# 30 idle minutes; idle servers stopped after an hour), Dask workers on demand.
# Control plane logs: kept 90 days (audit trail for incidents).
control_plane_log_retention_days = 90

# After every supervised apply the health check starts the hubops-health user's server and a
# Dask cluster through the public name (invoke health).
health_journey = true

monthly_budget_usd  = 2000
budget_alert_emails = ["hub-admins@example.org"]
