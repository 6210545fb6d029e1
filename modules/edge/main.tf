# The hub's front door: an application load balancer the tree owns, so its DNS name outlives the
# hub's Service, namespace, release and cluster. The AWS Load Balancer Controller only fills its
# target group with the proxy's pod addresses (a TargetGroupBinding, modules/hub); it never makes
# or changes the load balancer, its listeners or this security group. With the controller down the
# targets go stale (a new proxy pod is not registered), but the address does not move.

locals {
  https = var.certificate_arn != null
  # Who may connect: anyone, or only the listed networks (the any-password testing hub).
  sources = var.allowed_cidrs == null ? ["0.0.0.0/0"] : var.allowed_cidrs
  # 80 always (redirected to https where there is a domain), 443 with a domain.
  ports = local.https ? [80, 443] : [80]
  ingress = { for pair in setproduct(local.ports, local.sources) : "${pair[0]} from ${pair[1]}" => {
    port = pair[0]
    cidr = pair[1]
  } }
}

resource "aws_security_group" "alb" {
  # A prefix, not a name: a change that replaces the group (its description) makes the new one
  # before the old one goes, under a name of its own, instead of colliding with the old one's.
  name_prefix = "${var.name}-hub-front-door-"
  description = "The hub's application load balancer: http(s) from its users, to the proxy's pods."
  vpc_id      = var.vpc_id

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "users" {
  for_each = local.ingress

  security_group_id = aws_security_group.alb.id
  description       = "Users of the hub, port ${each.value.port}."
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = each.value.cidr
}

resource "aws_vpc_security_group_egress_rule" "to_proxy" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the proxy's pods (traffic and health checks)."
  ip_protocol                  = "tcp"
  from_port                    = var.proxy_port
  to_port                      = var.proxy_port
  referenced_security_group_id = var.pods_security_group_id
}

# The one rule on the pods' side: the load balancer reaches the proxy's port. (The chart's
# NetworkPolicy already lets any source reach the proxy's http port.)
resource "aws_vpc_security_group_ingress_rule" "proxy_from_alb" {
  security_group_id            = var.pods_security_group_id
  description                  = "The hub's front door to the proxy's pods."
  ip_protocol                  = "tcp"
  from_port                    = var.proxy_port
  to_port                      = var.proxy_port
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_lb" "hub" {
  # checkov:skip=CKV_AWS_91: access logs need a log bucket with ELB's delivery policy, which the tree does not have yet; the hub logs every request itself.
  # checkov:skip=CKV2_AWS_28: no WAF: the hub authenticates every request (Cognito), and cae-testing answers only hub_allowed_cidrs.
  # checkov:skip=CKV2_AWS_76: no WAF (above); the hub runs no Java.
  # checkov:skip=CKV2_AWS_20: http is redirected to https wherever there is a domain (aws_lb_listener.http_redirect); only cae-testing, without one, forwards http.
  name                       = "${var.name}-hub"
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.public_subnet_ids
  security_groups            = [aws_security_group.alb.id]
  idle_timeout               = var.idle_timeout_seconds
  drop_invalid_header_fields = true
  # AWS refuses to delete production's front door; the guard below fails the plan first.
  enable_deletion_protection = var.protected

  tags = {
    # The environment's identity, not only the Service's: every environment may share one
    # account, region and namespace (hubops/facts/hub_load_balancers.py reads it).
    "hub.front-door" = "${var.cluster_name}/${var.hub}"
  }
}

# prevent_destroy takes only a literal, and this module serves every environment: so, as with the
# user pool and the cluster, production gets a guard that is replaced whenever the load balancer
# would be (its ARN changes) and destroyed with it; prevent_destroy turns either into a plan error.
resource "terraform_data" "front_door_guard" {
  count = var.protected ? 1 : 0

  triggers_replace = aws_lb.hub.arn

  lifecycle {
    prevent_destroy = true
  }
}

# The proxy's pods by address (vpc-cni gives pods VPC addresses), registered by the controller.
resource "aws_lb_target_group" "proxy" {
  # checkov:skip=CKV_AWS_378: TLS ends at the load balancer; inside the VPC the proxy speaks http, as it did behind the classic load balancer.
  # A prefix (at most 6 characters for a target group) and create_before_destroy: a forced
  # replacement makes the new group, moves the listeners to it, then deletes the old one, which a
  # listener would otherwise still use. The binding is named after the group (modules/hub).
  name_prefix = "proxy-"
  target_type = "ip"
  protocol    = "HTTP"
  port        = var.proxy_port
  vpc_id      = var.vpc_id
  # The proxy runs one pod, replaced (not rolled) on upgrade: waiting the default 300 s for its
  # connections to drain only delays the new pod.
  deregistration_delay = 30

  health_check {
    protocol            = "HTTP"
    port                = "traffic-port"
    path                = var.health_check_path
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  lifecycle {
    create_before_destroy = true
  }

  tags = {
    Name = "${var.name}-proxy"
  }
}

resource "aws_lb_listener" "https" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.hub.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn
  # Browsers that once reached the hub over https never try plain http for it again (a year).
  routing_http_response_strict_transport_security_header_value = var.hsts

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.proxy.arn
  }
}

# With a domain, http only redirects to https (logins never travel in plain http).
resource "aws_lb_listener" "http_redirect" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.hub.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"
    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}

# Without a domain there is no certificate: the hub is served in http (cae-testing, reachable only
# from hub_allowed_cidrs).
resource "aws_lb_listener" "http" {
  # checkov:skip=CKV_AWS_2: only where there is no domain, so no certificate (cae-testing, answering hub_allowed_cidrs only).
  # checkov:skip=CKV_AWS_103: an http listener has no TLS; the https listener uses TLS 1.3/1.2.
  count = local.https ? 0 : 1

  load_balancer_arn = aws_lb.hub.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.proxy.arn
  }
}
