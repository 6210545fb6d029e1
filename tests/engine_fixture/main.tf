# A hub's load balancer as the Kubernetes in-tree cloud controller makes it for the
# jupyterhub/proxy-public Service (a classic ELB with its tags), driven here by the engine itself
# so that a variable change replaces it: the routing change the guard must catch.

provider "aws" {
  region = var.aws_region

  # moto's server (AWS_ENDPOINT_URL) answers for any account; nothing here reaches real AWS.
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}

resource "aws_elb" "hub" {
  name               = "${var.cluster_name}-hub-${var.load_balancer_generation}"
  availability_zones = ["${var.aws_region}a"]

  listener {
    lb_port           = 80
    lb_protocol       = "tcp"
    instance_port     = 30080
    instance_protocol = "tcp"
  }

  health_check {
    target              = "TCP:30080"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  tags = {
    "kubernetes.io/service-name"                = "${var.hub_namespace}/proxy-public"
    "kubernetes.io/cluster/${var.cluster_name}" = "owned"
  }
}

# A slow step for the tests that need an apply in progress (lock held, Ctrl-C): a new
# pause_token replaces it, and its creation sleeps apply_pause_seconds.
resource "terraform_data" "pause" {
  triggers_replace = var.pause_token

  provisioner "local-exec" {
    # exec: the sleep is the process the engine stops on Ctrl-C, not a shell around it.
    command = "exec sleep ${var.apply_pause_seconds}"
  }
}
