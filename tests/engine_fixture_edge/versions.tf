terraform {
  # The S3 lock file (`use_lockfile` in backend.hcl) needs OpenTofu 1.10 (Terraform 1.11).
  required_version = ">= 1.10.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }

  # Settings come from `-backend-config=environments/ENV/backend.hcl`, as in the project's root.
  backend "s3" {}
}
