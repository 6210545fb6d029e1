# Persistent home directories: one encrypted EFS file system, reached from the nodes only, mounted
# into every user server (one sub-directory per user) through an access point that makes the
# notebook user own what it writes. Losing this file system loses every user's work, so OpenTofu
# refuses to destroy it: an environment with user directories is never destroyed.

data "aws_caller_identity" "current" {}

resource "aws_kms_key" "home" {
  description         = "${var.name} user home directories (EFS)"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.home_key.json

  lifecycle {
    prevent_destroy = true
  }
}

data "aws_iam_policy_document" "home_key" {
  # checkov:skip=CKV_AWS_109: a key policy's "*" resource means this key; the account root must administer it.
  # checkov:skip=CKV_AWS_111: a key policy's "*" resource means this key; the account root must administer it.
  # checkov:skip=CKV_AWS_356: a key policy's "*" resource means this key, not every resource.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_efs_file_system" "home" {
  creation_token   = "${var.name}-home"
  encrypted        = true
  kms_key_id       = aws_kms_key.home.arn
  performance_mode = "generalPurpose"
  throughput_mode  = "elastic"

  # Files untouched for 30 days move to Infrequent Access, and back on their first read, so an
  # active user's files do not pay Infrequent Access' per-read charge for ever.
  lifecycle_policy {
    transition_to_ia = "AFTER_30_DAYS"
  }
  lifecycle_policy {
    transition_to_primary_storage_class = "AFTER_1_ACCESS"
  }

  tags = { Name = "${var.name}-home" }

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_efs_backup_policy" "home" {
  file_system_id = aws_efs_file_system.home.id

  backup_policy {
    status = "ENABLED"
  }
}

# Who may mount: only the EFS CSI driver's role (IRSA, bound to kube-system's efs-csi-* service
# accounts), through a mount target, over TLS. A client without IAM credentials is anonymous, and
# this policy grants anonymous nothing, so a plain NFS mount from anywhere in the VPC (a user pod
# that got past its network policy) is refused. The volume mounts with the "iam" and "tls" options.
data "aws_iam_policy_document" "home_mount" {
  statement {
    sid       = "RefuseUnencryptedTransport"
    effect    = "Deny"
    actions   = ["*"]
    resources = [aws_efs_file_system.home.arn]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "CsiDriverMounts"
    actions   = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess"]
    resources = [aws_efs_file_system.home.arn]
    principals {
      type        = "AWS"
      identifiers = [module.efs_csi_role.arn]
    }
    condition {
      test     = "Bool"
      variable = "elasticfilesystem:AccessedViaMountTarget"
      values   = ["true"]
    }
  }
}

resource "aws_efs_file_system_policy" "home" {
  file_system_id = aws_efs_file_system.home.id
  policy         = data.aws_iam_policy_document.home_mount.json
}

resource "aws_security_group" "home" {
  name_prefix = "${var.name}-home-"
  description = "NFS from the EKS nodes to the home directories"
  vpc_id      = var.vpc_id

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "home_nfs" {
  security_group_id            = aws_security_group.home.id
  description                  = "NFS from the EKS nodes"
  referenced_security_group_id = var.node_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 2049
  to_port                      = 2049
}

resource "aws_efs_mount_target" "home" {
  count = length(var.private_subnet_ids)

  file_system_id  = aws_efs_file_system.home.id
  subnet_id       = var.private_subnet_ids[count.index]
  security_groups = [aws_security_group.home.id]
}

resource "aws_efs_access_point" "home" {
  file_system_id = aws_efs_file_system.home.id

  posix_user {
    uid = var.owner_uid
    gid = var.owner_gid
  }

  root_directory {
    path = "/home"
    creation_info {
      owner_uid   = var.owner_uid
      owner_gid   = var.owner_gid
      permissions = "0755"
    }
  }

  tags = { Name = "${var.name}-home" }
}

# --- EFS CSI driver ------------------------------------------------------------------------------

module "efs_csi_role" {
  source = "../service-account-role"

  name_prefix       = "${substr(var.name, 0, 16)}-efs-csi-"
  oidc_provider_arn = var.oidc_provider_arn
  oidc_issuer       = var.oidc_issuer
  namespace         = "kube-system"
  # The add-on's controller and node service accounts.
  service_accounts = ["efs-csi-*"]
  policy_arns      = ["arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"]
}

moved {
  from = aws_iam_role.efs_csi
  to   = module.efs_csi_role.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy_attachment.efs_csi
  to   = module.efs_csi_role.aws_iam_role_policy_attachment.this["arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"]
}

resource "aws_eks_addon" "efs_csi" {
  # The add-on becomes active only once nodes run its pods: the caller passes the cluster's name
  # as available once the node groups exist.
  cluster_name                = var.cluster_name
  addon_name                  = "aws-efs-csi-driver"
  addon_version               = var.efs_csi_addon_version
  service_account_role_arn    = module.efs_csi_role.arn
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"

  depends_on = [module.efs_csi_role]
}

# --- Kubernetes view of the file system ------------------------------------------------------------

resource "kubernetes_storage_class_v1" "home" {
  metadata {
    name = "efs-home"
  }

  storage_provisioner = "efs.csi.aws.com"
  reclaim_policy      = "Retain"
}

resource "kubernetes_persistent_volume_v1" "home" {
  metadata {
    name = "${var.name}-home"
  }

  spec {
    # EFS has no size; Kubernetes requires one.
    capacity                         = { storage = "1Ti" }
    access_modes                     = ["ReadWriteMany"]
    persistent_volume_reclaim_policy = "Retain"
    storage_class_name               = kubernetes_storage_class_v1.home.metadata[0].name
    # IAM authorisation (the file system policy admits only the driver's role) over TLS.
    mount_options = ["iam", "tls"]

    persistent_volume_source {
      csi {
        driver        = "efs.csi.aws.com"
        volume_handle = "${aws_efs_file_system.home.id}::${aws_efs_access_point.home.id}"
      }
    }
  }

  depends_on = [aws_eks_addon.efs_csi, aws_efs_mount_target.home]
}
