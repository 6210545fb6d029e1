# S3 state for cae-testing: its own bucket and key, encrypted with its own KMS key, locked with an S3 lock
# file. `invoke backend --env cae-testing` creates what is missing.
bucket       = "cae-testing-tofu-state-111122223333"
key          = "cae-testing/terraform.tfstate"
region       = "us-west-2"
encrypt      = true
kms_key_id   = "arn:aws:kms:us-west-2:111122223333:alias/cae-testing-tofu-state"
use_lockfile = true
