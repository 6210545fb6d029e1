# cae-dev: as close to production as possible (Cognito authentication, a DNS name and https), but
# without user directories, so it can be destroyed on a whim.
environment      = "cae-dev"
aws_region       = "us-west-2"
aws_account_id   = "111122223333"
cluster_name     = "cae-dev"
hub_namespace    = "jupyterhub"
domain           = "hub-dev.example.org"
supervised       = false
authentication   = "cognito"
user_directories = false

# Who may use the Kubernetes API (EKS access entries; nobody else, not even the cluster's creator):
# CI's role for the non-production environments and the operators' role. Placeholders: use yours.
cluster_access = {
  "arn:aws:iam::111122223333:role/hubops-nonprod"  = "admin"
  "arn:aws:iam::111122223333:role/hubops-operator" = "admin"
}
# Where the Kubernetes API answers from: CI's GitHub-hosted runners have no fixed addresses.
api_public_access_cidrs = ["0.0.0.0/0"]
# JupyterHub admins (Cognito usernames; placeholder: use your operators'). They can open any
# user's server.
hub_admin_users = ["hub-operator"]
# Cost brakes (variables.tf): Dask clusters of at most 8 workers, stopped after 30 idle minutes.
# Dask workers stay on demand, as in production. Control plane logs: the default 30 days.
dask_limits = {
  idle_timeout_minutes = 30
  max_workers          = 8
  max_cores            = 16
  max_memory           = "56G"
}

monthly_budget_usd  = 500
budget_alert_emails = ["hub-admins@example.org"]
