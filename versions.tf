terraform {
  # S3 state locking with `use_lockfile` (environments/*/backend.hcl) needs OpenTofu 1.10.
  required_version = ">= 1.10.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "3.0.2"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "2.38.0"
    }
    tls = {
      source  = "hashicorp/tls"
      version = "4.1.0"
    }
  }

  # Settings come from `-backend-config=environments/ENV/backend.hcl`: one state per environment.
  backend "s3" {}
}
