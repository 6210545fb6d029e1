# The AWS Load Balancer Controller, here only to keep the hub's target group filled with the
# proxy's pod addresses (the TargetGroupBinding in modules/hub). The load balancer, its listeners,
# target group and security groups are the tree's (modules/edge); the controller's webhook that
# would take over every new LoadBalancer Service is off, so the hub's Service keeps its old
# controller until the front door switches (docs/opentofu-tree.md, "The front door").

locals {
  service_account = "aws-load-balancer-controller"
  namespace       = "kube-system"
}

module "role" {
  source = "../service-account-role"

  name_prefix       = "${substr(var.cluster_name, 0, 16)}-lb-controller-"
  oidc_provider_arn = var.oidc_provider_arn
  oidc_issuer       = var.oidc_issuer
  namespace         = local.namespace
  service_accounts  = [local.service_account]
}

# Least privilege for what the controller does here: it reconciles one TargetGroupBinding (ip
# targets, no spec.networking). Read against its source at v3.5.0 (the chart 3.5.0's appVersion):
# the binding's webhook reads the target group (webhooks/elbv2/targetgroup_helper.go), the
# reconciler checks pod addresses against the VPC's CIDRs (pkg/targetgroupbinding/
# resource_manager.go, FetchVPCInfo) and lists, registers and deregisters targets (targets_manager.go);
# with vpcId and region given it asks nothing at startup. Not the policy the project publishes
# (kubernetes-sigs/aws-load-balancer-controller, docs/install/iam_policy.json at v3.5.0), which
# lets it create, change and delete load balancers, listeners, security groups, WAF and Shield
# settings in the whole account. A controller log line "AccessDenied ... <action>" after a bump
# names what to add, beside the source that calls it.
data "aws_iam_policy_document" "controller" {
  # checkov:skip=CKV_AWS_356: Describe calls of EC2 and Elastic Load Balancing take no resource; they only read.
  statement {
    sid = "Describe"
    actions = [
      "ec2:DescribeVpcs",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetHealth",
    ]
    resources = ["*"]
  }

  # The only write: the proxy's pod addresses into (and out of) the front door's target group.
  statement {
    sid       = "BindTargets"
    actions   = ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"]
    resources = [var.target_group_arn]
  }
}

resource "aws_iam_role_policy" "controller" {
  name   = "aws-load-balancer-controller"
  role   = module.role.name
  policy = data.aws_iam_policy_document.controller.json
}

resource "helm_release" "controller" {
  name       = "aws-load-balancer-controller"
  namespace  = local.namespace
  repository = "https://aws.github.io/eks-charts"
  chart      = "aws-load-balancer-controller"
  version    = var.chart_version

  values = [yamlencode({
    clusterName  = var.cluster_name
    region       = var.aws_region
    vpcId        = var.vpc_id
    replicaCount = 2
    nodeSelector = var.node_selector
    serviceAccount = {
      create      = true
      name        = local.service_account
      annotations = { "eks.amazonaws.com/role-arn" = module.role.arn }
    }
    # Only TargetGroupBindings: it must not take over new LoadBalancer Services (the hub's keeps
    # its own controller while both front doors serve), nor offer an IngressClass.
    enableServiceMutatorWebhook = false
    createIngressClassResource  = false
  })]

  depends_on = [aws_iam_role_policy.controller]
}
