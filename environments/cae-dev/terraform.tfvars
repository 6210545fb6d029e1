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
