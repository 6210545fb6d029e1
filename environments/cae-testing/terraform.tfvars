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
