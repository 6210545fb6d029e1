# cae-testing: try new things here. No real authentication (any username and password logs in),
# no DNS name (use the load balancer address from `invoke status --env cae-testing`), no user
# directories, so it can be destroyed on a whim.
environment      = "cae-testing"
aws_region       = "us-west-2"
aws_account_id   = "111122223333"
cluster_name     = "cae-testing"
hub_namespace    = "jupyterhub"
supervised       = false
authentication   = "dummy"
user_directories = false

# Who may use the Kubernetes API (EKS access entries; nobody else, not even the cluster's creator):
# CI's role for the non-production environments and the operators' role. Placeholders: use yours.
cluster_access = {
  "arn:aws:iam::111122223333:role/hubops-nonprod"  = "admin"
  "arn:aws:iam::111122223333:role/hubops-operator" = "admin"
}
# Where the Kubernetes API answers from: CI's GitHub-hosted runners have no fixed addresses.
api_public_access_cidrs = ["0.0.0.0/0"]
# An any-password hub is reachable only from these networks (the office, the VPN; placeholder).
hub_allowed_cidrs = ["203.0.113.0/24"]

# Cost brakes (variables.tf): small Dask clusters that stop soon when idle, on spot nodes (a
# reclaimed node only loses Dask work, recomputed); control plane logs kept a week.
dask_limits = {
  idle_timeout_minutes = 15
  max_workers          = 4
  max_cores            = 8
  max_memory           = "28G"
}
notebook_culling = {
  timeout_minutes = 30
  every_minutes   = 10
}
dask_worker_capacity_type        = "SPOT"
control_plane_log_retention_days = 7

monthly_budget_usd  = 300
budget_alert_emails = ["hub-admins@example.org"]
