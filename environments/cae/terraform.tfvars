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
