# The hub: Zero to JupyterHub behind an AWS load balancer (https terminated there when the
# environment has a domain), and Dask Gateway, reached through the hub, running its schedulers and
# workers on the dask-worker nodes.

locals {
  https = var.domain != null
  # Whether the proxy-public Service terminates https (its classic load balancer, with the
  # certificate): only while it is a front door. Once the application load balancer alone serves
  # (front_door = "alb"), TLS ends there, and the Service is a ClusterIP one inside the cluster.
  service_offloads_https = local.https && var.front_door != "alb"
  service_type           = var.front_door == "alb" ? "ClusterIP" : "LoadBalancer"
  dask_gateway           = "dask-gateway"
  traefik_service        = "traefik-${local.dask_gateway}.${var.namespace}"
  # The scope Dask Gateway requires of a token once it knows its JupyterHub service name (Dask
  # Gateway 2026.3.0): without it any token of any user, a server's included, opens the gateway.
  dask_gateway_access = "access:services!service=${local.dask_gateway}"

  # The health check (`invoke health`): a JupyterHub service whose token acts on one user only.
  health = "hubops-health"

  # Zero to JupyterHub names its public proxy service so; the task library looks for it.
  proxy_service = "proxy-public"

  # Labels Dask Gateway puts on its pods: traefik (from the chart), and the schedulers and
  # workers its controller creates for each Dask cluster.
  traefik_pods = {
    "app.kubernetes.io/name"      = local.dask_gateway
    "app.kubernetes.io/component" = "traefik"
  }
  dask_cluster_pods = {
    key      = "app.kubernetes.io/component"
    operator = "In"
    values   = ["dask-scheduler", "dask-worker"]
  }

  # RFC 1918 ranges (the VPC, its NFS mount targets, every pod) and the instance metadata
  # service: what user code in Dask pods may not reach except by the rules above.
  private_ranges = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.169.254/32"]

  core_nodes   = { "hub.jupyter.org/node-purpose" = "core" }
  worker_nodes = { "k8s.dask.org/node-purpose" = "worker" }
  worker_tolerations = [{
    key      = "k8s.dask.org/dedicated"
    operator = "Equal"
    value    = "worker"
    effect   = "NoSchedule"
  }]

  proxy_annotations = merge(
    # Long-lived websockets (kernels, terminals, VS Code) outlast the ELB's default 60 s idle timeout.
    { "service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout" = "3600" },
    # The load balancer is made by Kubernetes, out of the provider's reach: its tags come from here.
    length(var.load_balancer_tags) == 0 ? {} : {
      "service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags" = join(",", [for key, value in var.load_balancer_tags : "${key}=${value}"])
    },
    local.https ? {
      "service.beta.kubernetes.io/aws-load-balancer-ssl-cert"               = var.certificate_arn
      "service.beta.kubernetes.io/aws-load-balancer-backend-protocol"       = "tcp"
      "service.beta.kubernetes.io/aws-load-balancer-ssl-ports"              = "https"
      "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy" = "ELBSecurityPolicy-TLS-1-2-2017-01"
    } : {}
  )

  # HCL type-checks both branches of a conditional even when the condition is known, and these
  # branches are objects of different shapes: so each is encoded to its own YAML document (a
  # string either way), which Helm deep-merges with the others listed in the release's `values`.
  auth_values = var.authentication == "cognito" ? yamlencode({
    hub = { config = {
      JupyterHub = { authenticator_class = "generic-oauth" }
      GenericOAuthenticator = {
        client_id           = var.oauth.client_id
        oauth_callback_url  = var.oauth.callback_url
        authorize_url       = var.oauth.authorize_url
        token_url           = var.oauth.token_url
        userdata_url        = var.oauth.userdata_url
        logout_redirect_url = var.oauth.logout_url
        scope               = ["openid", "email", "profile"]
        username_claim      = "username"
        login_service       = "Cognito"
        # The user pool is the allow-list: only administrators create accounts in it.
        allow_all = true
      }
      Authenticator = { admin_users = var.admin_users }
    } }
    }) : yamlencode({
    # Testing only: any username and password logs in.
    hub = { config = {
      JupyterHub    = { authenticator_class = "dummy" }
      Authenticator = { allow_all = true, admin_users = var.admin_users }
    } }
  })

  storage_values = var.home_volume_name == null ? yamlencode({
    singleuser = { storage = { type = "none" } }
    }) : yamlencode({
    singleuser = { storage = {
      type          = "static"
      homeMountPath = "/home/jovyan"
      static = {
        pvcName = kubernetes_persistent_volume_claim_v1.home[0].metadata[0].name
        subPath = "{username}"
      }
    } }
  })

  # Who may reach the load balancer. null: anyone (the https environments, behind Cognito); the
  # any-password testing hub lists its networks. Changing the list updates the load balancer's
  # security group in place; the load balancer and its address stay.
  source_range_values = var.allowed_cidrs == null ? yamlencode({}) : yamlencode({
    proxy = { service = { loadBalancerSourceRanges = var.allowed_cidrs } }
  })

  jupyterhub_values = {
    proxy = {
      service = {
        type        = local.service_type
        annotations = var.front_door == "alb" ? {} : local.proxy_annotations
        # With https, port 80 would serve the hub (logins included) in plain http: only 443 stays.
        # Removing a port updates the service and its load balancer in place (same address).
        # Behind the application load balancer (a ClusterIP Service) port 80 is the proxy's only
        # port, reached from inside the VPC; the load balancer redirects users' http to https.
        disableHttpPort = local.service_offloads_https
      }
      https = {
        enabled = local.service_offloads_https
        type    = "offload"
      }
      chp = {
        # The load balancer already sends X-Forwarded-Proto https; the proxy would append its own
        # "http" hop, and the hub (Tornado) trusts the last value: logins would believe http.
        extraCommandLineFlags = ["--no-x-forward"]
        networkPolicy = {
          # The proxy forwards /services/dask-gateway to Dask Gateway's traefik (port 8000); the
          # chart's policy does not know it. (Gateway's API pod reaches the hub by the
          # hub.jupyter.org/network-access-hub label its chart sets.)
          egress = [{
            to    = [{ podSelector = { matchLabels = local.traefik_pods } }]
            ports = [{ port = 8000, protocol = "TCP" }]
          }]
        }
      }
    }
    hub = {
      config = {
        JupyterHub = {
          # With a domain, the hub's own idea of its address: cookies get Secure and redirects
          # https without reading forwarded headers. Empty: guessed from each request (cae-testing,
          # plain http on the load balancer's address).
          public_url = local.https ? "https://${var.domain}/" : ""
        }
      }
      # JupyterHub sets its _xsrf cookie (the login form's) without Secure whatever the scheme:
      # with https, browsers must never send it over plain http.
      extraConfig = local.https ? {
        "10-secure-xsrf-cookie" = "c.JupyterHub.tornado_settings.update({\"xsrf_cookie_kwargs\": {\"secure\": True}})"
      } : {}
      db = {
        # The hub's database volume: the cluster's default class, named so that the release waits
        # for it (and the nodes it needs) to exist.
        pvc = { storageClassName = var.storage_class }
      }
      services = {
        (local.dask_gateway) = {
          display = false
          url     = "http://${local.traefik_service}"
        }
        # No url: not proxied, only a token (set_sensitive below, kept in Secrets Manager).
        (local.health) = { display = false }
      }
      loadRoles = {
        # Every user may use Dask Gateway, and so may the token of their server (the one
        # notebooks' Gateway() sends); no other token of theirs can.
        user = { scopes = ["self", local.dask_gateway_access] }
        # Overriding JupyterHub 5's "server" role replaces its scopes: its two defaults stay.
        server = { scopes = ["users:activity!user", "access:servers!server", local.dask_gateway_access] }
        # The health check's service starts, reads and reaches the server of its own user and
        # nobody else's. Naming the user here makes JupyterHub create it at startup.
        (local.health) = {
          description = "invoke health: start, use and stop the hubops-health user's server, and Dask Gateway."
          scopes = [
            "servers!user=${local.health}",
            "read:users!user=${local.health}",
            "access:servers!user=${local.health}",
            local.dask_gateway_access,
          ]
          services = [local.health]
          users    = [local.health]
        }
      }
    }
    singleuser = {
      image = {
        name = var.user_image_repository
        tag  = var.user_image_tag
        # A moving tag ("latest") is only followed if every server start pulls.
        pullPolicy = "Always"
      }
      defaultUrl = "/lab"
      # Starting a server may first have to scale the main node group up from zero.
      startTimeout = 900
      extraEnv = {
        # Gateway's own traefik service, not proxy-public: the proxy has no port 80 where https
        # is offloaded, and the address must not depend on how the front door is built.
        DASK_GATEWAY__ADDRESS        = "http://${local.traefik_service}/services/${local.dask_gateway}"
        DASK_GATEWAY__PROXY_ADDRESS  = "gateway://${local.traefik_service}:80"
        DASK_GATEWAY__PUBLIC_ADDRESS = "/services/${local.dask_gateway}/"
        DASK_GATEWAY__AUTH__TYPE     = "jupyterhub"
      }
      networkPolicy = {
        # No private addresses: the VPC holds the home directories' NFS mount targets (TCP 2049),
        # which only the nodes' EFS CSI driver is meant to reach. The internet (pip install)
        # stays open (nonPrivateIPs), and the chart already allows the hub, the proxy and DNS.
        egressAllowRules = { privateIPs = false }
        # What else notebooks need on private addresses, by pod rather than by range.
        egress = [
          {
            # Dask Gateway's API, the TCP proxy to schedulers and the dashboards
            # (DASK_GATEWAY__ADDRESS, DASK_GATEWAY__PROXY_ADDRESS), all on traefik's port 8000:
            # the client needs nothing else, and no Dask pod directly (other users' dashboards).
            to    = [{ podSelector = { matchLabels = local.traefik_pods } }]
            ports = [{ port = 8000, protocol = "TCP" }]
          },
        ]
      }
      profileList = [
        for index, profile in var.profiles : {
          display_name = profile.display_name
          description  = profile.description
          default      = index == 0
          kubespawner_override = {
            cpu_guarantee = profile.cpu_guarantee
            cpu_limit     = profile.cpu_limit
            mem_guarantee = profile.mem_guarantee
            mem_limit     = profile.mem_limit
          }
        }
      ]
    }
    # Idle servers stop (their user nodes then scale away): a server without activity for
    # timeout_minutes is stopped by the culler, which looks every every_minutes.
    cull = {
      enabled = true
      timeout = var.notebook_culling.timeout_minutes * 60
      every   = var.notebook_culling.every_minutes * 60
    }
    scheduling = {
      corePods = { nodeAffinity = { matchNodePurpose = "require" } }
      userPods = { nodeAffinity = { matchNodePurpose = "require" } }
    }
  }

  dask_gateway_values = {
    gateway = {
      prefix = "/services/${local.dask_gateway}"
      # Named, the gateway requires local.dask_gateway_access of every token (hub.loadRoles).
      auth         = { type = "jupyterhub", jupyterhub = { jupyterhubServiceName = local.dask_gateway } }
      nodeSelector = local.core_nodes
      # Cost brakes (Dask Gateway's defaults: no idle timeout, no limits): an idle cluster shuts
      # down, and one cluster grows to at most these many workers, cores and bytes of memory.
      # Dask Gateway has no per-user limit on the number of clusters; the dask-worker node
      # group's max_size bounds them all together.
      extraConfig = {
        cost-brakes = <<-EOT
          c.ClusterConfig.idle_timeout = ${var.dask_limits.idle_timeout_minutes * 60}
          c.ClusterConfig.cluster_max_workers = ${var.dask_limits.max_workers}
          c.ClusterConfig.cluster_max_cores = ${var.dask_limits.max_cores}
          c.ClusterConfig.cluster_max_memory = "${var.dask_limits.max_memory}"
        EOT
      }
      backend = {
        image = {
          name       = var.user_image_repository
          tag        = var.user_image_tag
          pullPolicy = "Always"
        }
        scheduler = {
          extraPodConfig = { nodeSelector = local.worker_nodes, tolerations = local.worker_tolerations }
        }
        worker = {
          extraPodConfig = { nodeSelector = local.worker_nodes, tolerations = local.worker_tolerations }
          cores          = { request = var.dask_worker.cores_request, limit = var.dask_worker.cores_limit }
          memory         = { request = var.dask_worker.memory_request, limit = var.dask_worker.memory_limit }
        }
      }
    }
    controller = { nodeSelector = local.core_nodes }
    traefik = {
      nodeSelector = local.core_nodes
      # Reached through the hub (/services/dask-gateway), never directly from outside.
      service = { type = "ClusterIP" }
    }
  }
}

resource "kubernetes_namespace_v1" "hub" {
  metadata {
    name = var.namespace
    # Behind the application load balancer alone ("alb") the AWS Load Balancer Controller gives the
    # proxy's pod a readiness gate: a new proxy pod counts as ready only once the target group
    # finds it healthy, so a rollout never leaves the front door without a target. Not in "both":
    # there the gate would tie the Service's load balancer, which DNS may still point at, to the
    # new path (a broken ALB path would take the hub down with it).
    labels = var.front_door == "alb" ? { "elbv2.k8s.aws/pod-readiness-gate-inject" = "enabled" } : {}
  }
}

resource "kubernetes_persistent_volume_claim_v1" "home" {
  count = var.home_volume_name == null ? 0 : 1

  metadata {
    name      = "home"
    namespace = kubernetes_namespace_v1.hub.metadata[0].name
  }

  spec {
    access_modes       = ["ReadWriteMany"]
    storage_class_name = var.home_storage_class
    volume_name        = var.home_volume_name
    resources {
      requests = { storage = "1Ti" }
    }
  }
}

resource "helm_release" "jupyterhub" {
  name            = "jupyterhub"
  namespace       = kubernetes_namespace_v1.hub.metadata[0].name
  repository      = "https://hub.jupyter.org/helm-chart/"
  chart           = "jupyterhub"
  version         = var.jupyterhub_chart_version
  timeout         = 1200
  cleanup_on_fail = true

  values = [yamlencode(local.jupyterhub_values), local.auth_values, local.storage_values, local.source_range_values]

  # Kept out of the plan output and the release's recorded values.
  set_sensitive = concat(
    var.oauth_client_secret == null ? [] : [{
      name  = "hub.config.GenericOAuthenticator.client_secret"
      value = var.oauth_client_secret
    }],
    [{
      name  = "hub.services.${local.health}.apiToken"
      value = aws_secretsmanager_secret_version.health_token.secret_string
    }],
  )

  lifecycle {
    precondition {
      condition     = !local.https || var.certificate_arn != null
      error_message = "A hub with a domain needs certificate_arn for https."
    }
    precondition {
      condition     = var.authentication != "cognito" || (var.oauth != null && var.oauth_client_secret != null)
      error_message = "Cognito authentication needs oauth and oauth_client_secret."
    }
  }

  # Under strict network policy mode the upgrade's image awaiter and the user scheduler start
  # only once their policy exists.
  depends_on = [kubernetes_network_policy_v1.hub_helpers]
}

# The health check's service token: made here once, kept in Secrets Manager where the health check
# (and nothing else of the tree's outputs) reads it. The provider's random password is read at
# every plan; only the first one is kept (ignore_changes), so the token changes only on
# `tofu apply -replace` of the version.
data "aws_secretsmanager_random_password" "health_token" {
  password_length     = 64
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "health_token" {
  # checkov:skip=CKV_AWS_149: the account's Secrets Manager key; who may read the secret is IAM's (CI's and the operators' roles).
  # checkov:skip=CKV2_AWS_57: rotated by replacing the version (docs/opentofu-tree.md), not by a rotation Lambda.
  name_prefix = "${var.name}-${local.health}-"
  description = "JupyterHub API token of the ${local.health} service (invoke health) of ${var.name}."
  # Non-production environments are destroyed and made again: no 7-day wait for a new one.
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "health_token" {
  secret_id     = aws_secretsmanager_secret.health_token.id
  secret_string = data.aws_secretsmanager_random_password.health_token.random_password

  lifecycle {
    ignore_changes = [secret_string]
  }
}

# Installed after the hub: it authenticates with the API token the hub chart generates for the
# registered dask-gateway service (the "hub" Secret, key hub.services.dask-gateway.apiToken).
resource "helm_release" "dask_gateway" {
  name       = local.dask_gateway
  namespace  = kubernetes_namespace_v1.hub.metadata[0].name
  repository = "https://helm.dask.org"
  chart      = "dask-gateway"
  version    = var.dask_gateway_chart_version
  timeout    = 600

  values = [yamlencode(local.dask_gateway_values)]

  depends_on = [helm_release.jupyterhub, kubernetes_network_policy_v1.dask_gateway]
}

# Dask schedulers and workers run users' code too, and no chart gives them a NetworkPolicy. Like
# notebooks they must not reach private addresses (the NFS mount targets of the home directories
# among them): they may reach each other and Dask Gateway's pods (the API, traefik), DNS, and the
# internet. Only Dask Gateway's pods (traefik, the API, the controller) and Dask pods connect to
# them: a notebook reaches its cluster and dashboard through traefik, never another user's
# dashboard by pod address (the dashboard has no login).
resource "kubernetes_network_policy_v1" "dask_clusters" {
  metadata {
    name      = "dask-clusters"
    namespace = kubernetes_namespace_v1.hub.metadata[0].name
  }

  spec {
    pod_selector {
      match_expressions {
        key      = local.dask_cluster_pods.key
        operator = local.dask_cluster_pods.operator
        values   = local.dask_cluster_pods.values
      }
    }
    policy_types = ["Ingress", "Egress"]

    # Dask Gateway labels its own pods and every Dask pod it creates so.
    ingress {
      from {
        pod_selector {
          match_labels = { "app.kubernetes.io/name" = local.dask_gateway }
        }
      }
    }

    egress {
      to {
        pod_selector {
          match_labels = { "app.kubernetes.io/name" = local.dask_gateway }
        }
      }
    }

    egress {
      to {
        namespace_selector {
          match_labels = { "kubernetes.io/metadata.name" = "kube-system" }
        }
      }
      ports {
        port     = "53"
        protocol = "UDP"
      }
      ports {
        port     = "53"
        protocol = "TCP"
      }
    }

    egress {
      to {
        ip_block {
          cidr   = "0.0.0.0/0"
          except = local.private_ranges
        }
      }
    }
  }
}

# Strict network policy mode (modules/eks) denies every pod no policy selects. Dask Gateway's own
# pods (the API, the controller, traefik) run no user code and keep the open network they had:
# the proxy and notebooks reach traefik, the API reaches the hub and the Kubernetes API.
resource "kubernetes_network_policy_v1" "dask_gateway" {
  metadata {
    name      = "dask-gateway-components"
    namespace = kubernetes_namespace_v1.hub.metadata[0].name
  }

  spec {
    pod_selector {
      match_labels = { "app.kubernetes.io/name" = local.dask_gateway }
      match_expressions {
        key      = "app.kubernetes.io/component"
        operator = "In"
        values   = ["gateway", "controller", "traefik"]
      }
    }
    policy_types = ["Ingress", "Egress"]
    ingress {}
    egress {}
  }
}

# The same for Zero to JupyterHub's pods its chart gives no policy and that talk to the Kubernetes
# API: the user scheduler and the image awaiter of an upgrade (component "image-puller"). Nothing
# connects to them (the kubelet's probes are always allowed). The image pullers and placeholders
# need no network and stay denied.
resource "kubernetes_network_policy_v1" "hub_helpers" {
  metadata {
    name      = "jupyterhub-helpers"
    namespace = kubernetes_namespace_v1.hub.metadata[0].name
  }

  spec {
    pod_selector {
      match_labels = { app = "jupyterhub" }
      match_expressions {
        key      = "component"
        operator = "In"
        values   = ["user-scheduler", "image-puller"]
      }
    }
    policy_types = ["Ingress", "Egress"]
    egress {}
  }
}

# The front door's target group filled with the proxy's pod addresses (a TargetGroupBinding,
# reconciled by the AWS Load Balancer Controller), shipped as a chart of this module: its CRD is
# installed with the controller, so it cannot be planned as a kubernetes_manifest on a fresh
# cluster. The chart's own ClusterIP Service selects the proxy's pods, so the binding holds
# whatever shape proxy-public has in each phase.
resource "helm_release" "front_door" {
  count = var.front_door == "service" ? 0 : 1

  name      = "front-door"
  namespace = kubernetes_namespace_v1.hub.metadata[0].name
  chart     = "${path.module}/charts/target-group-binding"

  values = [yamlencode({
    targetGroupArn = var.front_door_binding.target_group_arn
    # Zero to JupyterHub's (legacy) match labels of the proxy pod.
    proxySelector = { component = "proxy", app = "jupyterhub", release = helm_release.jupyterhub.name }
    proxyPortName = "http"
  })]
  # Installed once the controller (and so the TargetGroupBinding CRD) is.
  description = "bound by ${var.front_door_binding.controller}"

  lifecycle {
    precondition {
      condition     = var.front_door_binding != null
      error_message = "front_door \"both\" or \"alb\" needs front_door_binding (the edge module's target group and the controller)."
    }
  }
}

data "kubernetes_service_v1" "proxy_public" {
  metadata {
    name      = local.proxy_service
    namespace = kubernetes_namespace_v1.hub.metadata[0].name
  }

  depends_on = [helm_release.jupyterhub]
}
