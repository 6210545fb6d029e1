# The EKS cluster: control plane (secrets encrypted, all logs kept), who may use the Kubernetes API
# (EKS access entries, nobody by default), OIDC provider for service account roles (IRSA), three
# managed node groups, the core add-ons as versioned EKS add-ons (vpc-cni with network policy
# enforcement, CoreDNS, kube-proxy, the EBS CSI driver), a default gp3 storage class (the hub's
# database volume), and the cluster autoscaler that scales main and dask-worker up from zero and back.

data "aws_caller_identity" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  oidc_host  = replace(aws_eks_cluster.this.identity[0].oidc[0].issuer, "https://", "")

  # What each node group is for, as Kubernetes sees it. Zero to JupyterHub puts its core pods on
  # hub.jupyter.org/node-purpose=core and user servers on =user (tolerating the user taint);
  # Dask Gateway's schedulers and workers tolerate the k8s.dask.org/dedicated=worker taint.
  node_roles = {
    hub = {
      labels = { "hub.jupyter.org/node-purpose" = "core" }
      taints = {}
    }
    main = {
      labels = { "hub.jupyter.org/node-purpose" = "user" }
      taints = { "hub.jupyter.org/dedicated" = "user" }
    }
    dask-worker = {
      labels = { "k8s.dask.org/node-purpose" = "worker" }
      taints = { "k8s.dask.org/dedicated" = "worker" }
    }
  }

  # A group at zero nodes has no node for the cluster autoscaler to look at, so the group's
  # Auto Scaling group carries node-template tags describing the labels and taints a new node
  # would have; without them pending pods that need those labels never trigger a scale-up.
  autoscaler_tags = merge([
    for group, role in local.node_roles : merge(
      { for key, value in role.labels : "${group}/label/${key}" => {
        group = group
        key   = "k8s.io/cluster-autoscaler/node-template/label/${key}"
        value = value
      } },
      { for key, value in role.taints : "${group}/taint/${key}" => {
        group = group
        key   = "k8s.io/cluster-autoscaler/node-template/taint/${key}"
        value = "${value}:NoSchedule"
      } },
    )
  ]...)

  access_policies = {
    admin = "AmazonEKSClusterAdminPolicy"
    view  = "AmazonEKSAdminViewPolicy"
  }

  service_accounts = {
    ebs_csi = {
      namespace   = "kube-system"
      names       = ["ebs-csi-controller-sa"]
      policy_arns = ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"]
    }
    # Its permissions are the inline policy below: they name this cluster and its node groups.
    cluster_autoscaler = {
      namespace   = "kube-system"
      names       = ["cluster-autoscaler"]
      policy_arns = []
    }
  }
}

# --- Control plane -------------------------------------------------------------------------------

# EKS writes to exactly this log group name; creating it first sets retention and encryption. Its
# key also encrypts the cluster's secrets.
module "control_plane_logs" {
  source = "../encrypted-log-group"

  name              = "/aws/eks/${var.cluster_name}/cluster"
  key_description   = "${var.cluster_name} EKS secrets and control plane logs"
  retention_in_days = var.log_retention_days
}

moved {
  from = aws_kms_key.cluster
  to   = module.control_plane_logs.aws_kms_key.this
}

moved {
  from = aws_cloudwatch_log_group.cluster
  to   = module.control_plane_logs.aws_cloudwatch_log_group.this
}

resource "aws_kms_alias" "cluster" {
  name          = "alias/${var.cluster_name}-eks"
  target_key_id = module.control_plane_logs.key_id
}

data "aws_iam_policy_document" "cluster_assume" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cluster" {
  name_prefix        = "${var.cluster_name}-cluster-"
  assume_role_policy = data.aws_iam_policy_document.cluster_assume.json
}

resource "aws_iam_role_policy_attachment" "cluster" {
  role       = aws_iam_role.cluster.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
}

data "aws_iam_policy_document" "cluster_encryption" {
  statement {
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"]
    resources = [module.control_plane_logs.key_arn]
  }
}

resource "aws_iam_role_policy" "cluster_encryption" {
  name   = "encrypt-secrets"
  role   = aws_iam_role.cluster.id
  policy = data.aws_iam_policy_document.cluster_encryption.json
}

resource "aws_eks_cluster" "this" {
  # checkov:skip=CKV_AWS_38: the allowed addresses are an environment setting (api_public_access_cidrs); CI runs on GitHub-hosted runners, whose addresses are not fixed, so an environment applied from CI must keep 0.0.0.0/0; access is by IAM (access entries).
  # checkov:skip=CKV_AWS_39: OpenTofu runs from operators' laptops and CI, outside the VPC, so the API endpoint must be public.
  name                      = var.cluster_name
  version                   = var.kubernetes_version
  role_arn                  = aws_iam_role.cluster.arn
  enabled_cluster_log_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]

  vpc_config {
    subnet_ids              = var.private_subnet_ids
    endpoint_private_access = true
    endpoint_public_access  = true
    public_access_cidrs     = var.public_access_cidrs
  }

  encryption_config {
    resources = ["secrets"]
    provider {
      key_arn = module.control_plane_logs.key_arn
    }
  }

  # Nobody is a cluster administrator just for having created the cluster: whoever applies
  # (an operator's role, CI's role) is listed in access_entries like everyone else, so a cluster
  # created from a laptop stays reachable from CI and the other way round.
  access_config {
    authentication_mode                         = "API"
    bootstrap_cluster_creator_admin_permissions = false
  }

  # What happens at the end of standard support: STANDARD lets AWS upgrade the control plane
  # instead of billing the extended-support rate (see docs/opentofu-tree.md, "Upgrading").
  upgrade_policy {
    support_type = var.support_type
  }

  lifecycle {
    # EKS honours bootstrap_cluster_creator_admin_permissions only when the cluster is created,
    # and the provider replaces the cluster when it changes: clusters created before access
    # entries keep their creator's entry (see docs/opentofu-tree.md, "Access"), none is replaced.
    ignore_changes = [access_config[0].bootstrap_cluster_creator_admin_permissions]
  }

  depends_on = [
    module.control_plane_logs,
    aws_iam_role_policy_attachment.cluster,
    aws_iam_role_policy.cluster_encryption,
  ]
}

# prevent_destroy takes only a literal, and every environment shares this module, so the cluster
# itself cannot carry it. Where the cluster is protected (production) this guard is replaced
# whenever the cluster would be (its ARN becomes unknown) and destroyed with it; prevent_destroy
# turns either into a plan error before anything happens.
resource "terraform_data" "cluster_guard" {
  count = var.protected ? 1 : 0

  triggers_replace = aws_eks_cluster.this.arn

  lifecycle {
    prevent_destroy = true
  }
}

# Who may use the Kubernetes API: one access entry per IAM principal, with one EKS access policy
# on the whole cluster (cluster admin for the roles that apply, admin view for roles that only
# plan: a plan reads the Helm releases, which Helm keeps in Secrets).
resource "aws_eks_access_entry" "this" {
  for_each = var.access_entries

  cluster_name  = aws_eks_cluster.this.name
  principal_arn = each.key
}

resource "aws_eks_access_policy_association" "this" {
  for_each = var.access_entries

  cluster_name  = aws_eks_cluster.this.name
  principal_arn = aws_eks_access_entry.this[each.key].principal_arn
  policy_arn    = "arn:aws:eks::aws:cluster-access-policy/${local.access_policies[each.value]}"

  access_scope {
    type = "cluster"
  }
}

moved {
  from = aws_eks_access_entry.admin
  to   = aws_eks_access_entry.this
}

moved {
  from = aws_eks_access_policy_association.admin
  to   = aws_eks_access_policy_association.this
}

# --- IAM roles for service accounts (IRSA) ------------------------------------------------------

data "tls_certificate" "oidc" {
  url = aws_eks_cluster.this.identity[0].oidc[0].issuer
}

resource "aws_iam_openid_connect_provider" "this" {
  url             = aws_eks_cluster.this.identity[0].oidc[0].issuer
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = [data.tls_certificate.oidc.certificates[0].sha1_fingerprint]
}

module "service_account_role" {
  source   = "../service-account-role"
  for_each = local.service_accounts

  name_prefix       = "${substr(var.cluster_name, 0, 16)}-${replace(each.key, "_", "-")}-"
  oidc_provider_arn = aws_iam_openid_connect_provider.this.arn
  oidc_issuer       = local.oidc_host
  namespace         = each.value.namespace
  service_accounts  = each.value.names
  policy_arns       = each.value.policy_arns
}

moved {
  from = aws_iam_role.irsa["ebs_csi"]
  to   = module.service_account_role["ebs_csi"].aws_iam_role.this
}

moved {
  from = aws_iam_role.irsa["cluster_autoscaler"]
  to   = module.service_account_role["cluster_autoscaler"].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy_attachment.ebs_csi
  to   = module.service_account_role["ebs_csi"].aws_iam_role_policy_attachment.this["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"]
}

# --- Nodes -----------------------------------------------------------------------------------------

data "aws_iam_policy_document" "node_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "node" {
  name_prefix        = "${var.cluster_name}-node-"
  assume_role_policy = data.aws_iam_policy_document.node_assume.json
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each = toset([
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
  ])

  role       = aws_iam_role.node.name
  policy_arn = each.value
}

resource "aws_launch_template" "node" {
  for_each = var.node_groups

  name_prefix            = "${var.cluster_name}-${each.key}-"
  description            = "${var.cluster_name} ${each.key} nodes"
  update_default_version = true

  # IMDSv2 only, one hop: pods (user code included) cannot borrow the node's credentials.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = each.value.disk_size
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  # The provider's default tags never reach what the node group's Auto Scaling group launches:
  # the launch template tags the instances, their volumes and network interfaces itself.
  dynamic "tag_specifications" {
    for_each = toset(["instance", "volume", "network-interface"])
    content {
      resource_type = tag_specifications.key
      tags          = merge(var.tags, { Name = "${var.cluster_name}-${each.key}" })
    }
  }
}

# The EKS-optimised AMI release the node groups run: the one pinned (release_version), else the one
# AWS currently recommends for this Kubernetes version and AMI type (published in this public SSM
# parameter with each patched release), so that an apply after a release rolls every group onto
# the patched AMI, one node at a time (the plan summary shows a "roll" from which release to which;
# on the hub group the hub is briefly interrupted).
locals {
  ami_type = "AL2023_x86_64_STANDARD"
  # The parameter path's name for ami_type.
  ami_parameter_path = "amazon-linux-2023/x86_64/standard"
  release_version    = var.release_version != null ? var.release_version : data.aws_ssm_parameter.node_release_version[0].insecure_value
}

data "aws_ssm_parameter" "node_release_version" {
  count = var.release_version == null ? 1 : 0

  name = "/aws/service/eks/optimized-ami/${var.kubernetes_version}/${local.ami_parameter_path}/recommended/release_version"
}

resource "aws_eks_node_group" "this" {
  for_each = var.node_groups

  cluster_name = aws_eks_cluster.this.name
  # A prefix, not a fixed name: a change that forces a new group creates the new one (under a
  # new name) before the old one is destroyed, so the hub always has a node to move to.
  node_group_name_prefix = "${var.cluster_name}-${each.key}-"
  node_role_arn          = aws_iam_role.node.arn
  version                = var.kubernetes_version
  ami_type               = local.ami_type
  # A public, non-secret value (insecure_value keeps it readable in the plan) or the pinned one.
  release_version = local.release_version
  # Only Dask workers may run on spot capacity: a lost worker's results are recomputed, while the
  # hub and users' servers would lose sessions.
  capacity_type  = each.key == "dask-worker" ? var.dask_worker_capacity_type : "ON_DEMAND"
  instance_types = each.value.instance_types
  # The hub's database is an EBS volume, which lives in one availability zone: keeping the hub
  # group in one zone means a replacement hub node can always attach it.
  subnet_ids = each.key == "hub" ? [var.private_subnet_ids[0]] : var.private_subnet_ids
  labels     = local.node_roles[each.key].labels

  scaling_config {
    min_size     = each.value.min_size
    max_size     = each.value.max_size
    desired_size = each.value.desired_size
  }

  dynamic "taint" {
    for_each = local.node_roles[each.key].taints
    content {
      key    = taint.key
      value  = taint.value
      effect = "NO_SCHEDULE"
    }
  }

  launch_template {
    id      = aws_launch_template.node[each.key].id
    version = aws_launch_template.node[each.key].latest_version
  }

  update_config {
    max_unavailable = 1
  }

  lifecycle {
    create_before_destroy = true
    # The cluster autoscaler owns the running size between min and max.
    ignore_changes = [scaling_config[0].desired_size]
  }

  # The VPC CNI add-on must be in place before nodes join, or they never become Ready.
  depends_on = [aws_iam_role_policy_attachment.node, aws_eks_addon.before_nodes]
}

resource "aws_autoscaling_group_tag" "node_template" {
  for_each = local.autoscaler_tags

  autoscaling_group_name = aws_eks_node_group.this[each.value.group].resources[0].autoscaling_groups[0].name

  tag {
    key                 = each.value.key
    value               = each.value.value
    propagate_at_launch = false
  }
}

# --- Add-ons -------------------------------------------------------------------------------------

# Every add-on is an EKS add-on at a pinned version (var.addon_versions), upgraded by changing that
# version; EKS otherwise installs vpc-cni, CoreDNS and kube-proxy as self-managed copies nobody
# upgrades. OVERWRITE on create adopts those copies in existing clusters.
locals {
  addons = {
    # The network policy agent makes the NetworkPolicies of the hub's chart real; without it
    # they are accepted by the API server and enforced by nothing. (The add-on's schema types
    # enableNetworkPolicy as a string.) Strict mode: a new pod starts denied until its policies
    # are in place, and a pod no policy selects stays denied (standard mode lets a new pod talk
    # to anyone for its first seconds, time enough for user code). So every pod has a policy:
    # kube-system's below, the hub namespace's in modules/hub.
    vpc-cni = {
      before_nodes = true
      configuration = {
        enableNetworkPolicy = "true"
        env                 = { NETWORK_POLICY_ENFORCING_MODE = "strict" }
      }
      role = null
    }
    kube-proxy = {
      before_nodes  = true
      configuration = null
      role          = null
    }
    # CoreDNS tolerates neither user nor worker taint, so it runs on the always-on hub nodes.
    coredns = {
      before_nodes  = false
      configuration = null
      role          = null
    }
    # The add-on becomes active only once its pods run on a node.
    aws-ebs-csi-driver = {
      before_nodes = false
      # Volumes the driver creates carry the environment's tags, which the provider's default
      # tags cannot reach.
      configuration = { controller = { extraVolumeTags = var.tags } }
      role          = module.service_account_role["ebs_csi"].arn
    }
  }
}

resource "aws_eks_addon" "before_nodes" {
  for_each = { for name, addon in local.addons : name => addon if addon.before_nodes }

  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = each.key
  addon_version               = var.addon_versions[each.key]
  configuration_values        = each.value.configuration == null ? null : jsonencode(each.value.configuration)
  service_account_role_arn    = each.value.role
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"
}

resource "aws_eks_addon" "after_nodes" {
  for_each = { for name, addon in local.addons : name => addon if !addon.before_nodes }

  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = each.key
  addon_version               = var.addon_versions[each.key]
  configuration_values        = each.value.configuration == null ? null : jsonencode(each.value.configuration)
  service_account_role_arn    = each.value.role
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"

  # CoreDNS and the CSI drivers start only once kube-system's policy admits them (strict mode).
  depends_on = [aws_eks_node_group.this, kubernetes_network_policy_v1.kube_system]
}

# Strict network policy mode denies every pod no policy selects. kube-system runs the cluster's own
# parts (CoreDNS, the CSI drivers, the autoscaler, the load balancer controller), no user code:
# its pods keep the open network they had before strict mode.
resource "kubernetes_network_policy_v1" "kube_system" {
  metadata {
    name      = "cluster-components"
    namespace = "kube-system"
  }

  spec {
    pod_selector {}
    policy_types = ["Ingress", "Egress"]
    ingress {}
    egress {}
  }

  depends_on = [aws_eks_access_policy_association.this]
}

moved {
  from = aws_eks_addon.ebs_csi
  to   = aws_eks_addon.after_nodes["aws-ebs-csi-driver"]
}

# --- The default storage class (the hub's database volume) --------------------------------------

resource "kubernetes_storage_class_v1" "gp3" {
  metadata {
    name = "gp3"
    annotations = {
      "storageclass.kubernetes.io/is-default-class" = "true"
    }
  }

  storage_provisioner = "ebs.csi.aws.com"
  # The hub's database volume outlives its claim where the environment is protected (production):
  # a deleted release or namespace leaves the EBS volume to recover from.
  reclaim_policy         = var.protected ? "Retain" : "Delete"
  volume_binding_mode    = "WaitForFirstConsumer"
  allow_volume_expansion = true
  parameters = {
    type      = "gp3"
    encrypted = "true"
  }

  depends_on = [aws_eks_addon.after_nodes]
}

# --- Cluster autoscaler ------------------------------------------------------------------------------

data "aws_iam_policy_document" "cluster_autoscaler" {
  # checkov:skip=CKV_AWS_356: these Describe/Get calls cannot be limited to resources; the scaling actions below are limited by tag.
  statement {
    sid = "Discover"
    actions = [
      "autoscaling:DescribeAutoScalingGroups",
      "autoscaling:DescribeAutoScalingInstances",
      "autoscaling:DescribeLaunchConfigurations",
      "autoscaling:DescribeScalingActivities",
      "autoscaling:DescribeTags",
      "ec2:DescribeImages",
      "ec2:DescribeInstanceTypes",
      "ec2:DescribeLaunchTemplateVersions",
      "ec2:GetInstanceTypesFromInstanceRequirements",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "ReadNodeGroups"
    actions   = ["eks:DescribeNodegroup"]
    resources = ["arn:aws:eks:${var.aws_region}:${local.account_id}:nodegroup/${var.cluster_name}/*"]
  }

  statement {
    sid       = "ScaleOwnGroups"
    actions   = ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/k8s.io/cluster-autoscaler/${var.cluster_name}"
      values   = ["owned"]
    }
  }
}

resource "aws_iam_role_policy" "cluster_autoscaler" {
  name   = "cluster-autoscaler"
  role   = module.service_account_role["cluster_autoscaler"].name
  policy = data.aws_iam_policy_document.cluster_autoscaler.json
}

resource "helm_release" "cluster_autoscaler" {
  name       = "cluster-autoscaler"
  namespace  = "kube-system"
  repository = "https://kubernetes.github.io/autoscaler"
  chart      = "cluster-autoscaler"
  version    = var.cluster_autoscaler_chart_version

  values = [yamlencode({
    cloudProvider = "aws"
    awsRegion     = var.aws_region
    autoDiscovery = { clusterName = aws_eks_cluster.this.name }
    # No image tag here: the chart's own appVersion is the autoscaler it was released with. Its
    # minor version should match the cluster's, so a Kubernetes upgrade bumps
    # cluster_autoscaler_chart_version too (docs/opentofu-tree.md, "Upgrading Kubernetes").
    rbac = {
      serviceAccount = {
        create      = true
        name        = "cluster-autoscaler"
        annotations = { "eks.amazonaws.com/role-arn" = module.service_account_role["cluster_autoscaler"].arn }
      }
    }
    nodeSelector = local.node_roles.hub.labels
    extraArgs = {
      "balance-similar-node-groups"   = true
      "skip-nodes-with-local-storage" = false
      "expander"                      = "least-waste"
    }
  })]

  depends_on = [aws_eks_node_group.this, aws_iam_role_policy.cluster_autoscaler, aws_eks_access_policy_association.this]
}
