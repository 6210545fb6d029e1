# An IAM role for Kubernetes service accounts (IRSA): only the named service accounts of one
# namespace, presenting a token from the cluster's OIDC provider, may assume it.

locals {
  subjects = [for name in var.service_accounts : "system:serviceaccount:${var.namespace}:${name}"]
  # A name with a wildcard (efs-csi-*) needs StringLike; exact names stay StringEquals.
  subject_test = anytrue([for name in var.service_accounts : strcontains(name, "*")]) ? "StringLike" : "StringEquals"
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = local.subject_test
      variable = "${var.oidc_issuer}:sub"
      values   = local.subjects
    }
  }
}

resource "aws_iam_role" "this" {
  name_prefix        = var.name_prefix
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy_attachment" "this" {
  for_each = toset(var.policy_arns)

  role       = aws_iam_role.this.name
  policy_arn = each.value
}
