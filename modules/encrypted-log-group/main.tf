# A CloudWatch log group encrypted with a KMS key of its own. The key policy lets the account
# administer the key and lets CloudWatch Logs use it for this one log group only.

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
}

resource "aws_kms_key" "this" {
  description         = var.key_description
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key.json
}

data "aws_iam_policy_document" "key" {
  # checkov:skip=CKV_AWS_109: a key policy's "*" resource means this key; the account root must administer it.
  # checkov:skip=CKV_AWS_111: a key policy's "*" resource means this key; the account root must administer it.
  # checkov:skip=CKV_AWS_356: a key policy's "*" resource means this key, not every resource.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsEncrypts"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:aws:logs:${local.region}:${local.account_id}:log-group:${var.name}"]
    }
  }
}

resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_338: retention is the caller's choice; the control plane logs' is an environment setting (control_plane_log_retention_days: 90 days in production, less where nothing needs auditing).
  name              = var.name
  retention_in_days = var.retention_in_days
  kms_key_id        = aws_kms_key.this.arn
}
