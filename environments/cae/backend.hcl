# S3 state for cae: its own bucket and key, encrypted with its own KMS key, locked with an S3 lock
# file. `invoke backend --env cae` creates what is missing.
bucket       = "cae-tofu-state-111122223333"
key          = "cae/terraform.tfstate"
region       = "us-west-2"
encrypt      = true
kms_key_id   = "arn:aws:kms:us-west-2:111122223333:alias/cae-tofu-state"
use_lockfile = true
