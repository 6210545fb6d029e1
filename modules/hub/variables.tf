variable "name" {
  description = "Prefix of the AWS resources this module makes (the cluster's name: environments may share an account)."
  type        = string
}

variable "namespace" {
  description = "Kubernetes namespace for JupyterHub and Dask Gateway (created here)."
  type        = string
}

variable "user_image_repository" {
  description = "Registry URL of the user image repository (without tag); Dask workers run the same image."
  type        = string
}

variable "user_image_tag" {
  description = "Tag of the user image."
  type        = string
}

variable "domain" {
  description = "DNS name of the hub; null serves plain http on the load balancer address."
  type        = string
  default     = null
}

variable "certificate_arn" {
  description = "ACM certificate for the domain, terminated at the load balancer; required when domain is set."
  type        = string
  default     = null
}

variable "authentication" {
  description = "\"dummy\" (any username and password) or \"cognito\" (GenericOAuthenticator against Cognito)."
  type        = string
  validation {
    condition     = contains(["dummy", "cognito"], var.authentication)
    error_message = "authentication must be \"dummy\" or \"cognito\"."
  }
}

variable "oauth" {
  description = "Cognito OAuth settings (client_id, callback_url, authorize_url, token_url, userdata_url, logout_url); required for cognito."
  type = object({
    client_id     = string
    callback_url  = string
    authorize_url = string
    token_url     = string
    userdata_url  = string
    logout_url    = string
  })
  default = null
}

variable "oauth_client_secret" {
  description = "Secret of the Cognito app client; required for cognito."
  type        = string
  default     = null
  sensitive   = true
}

variable "home_volume_name" {
  description = "PersistentVolume holding the user home directories; null mounts no home directories (servers start empty)."
  type        = string
  default     = null
}

variable "home_storage_class" {
  description = "Storage class of the home directories' PersistentVolume."
  type        = string
  default     = null
}

variable "allowed_cidrs" {
  description = "CIDR blocks allowed to reach the hub's load balancer; null: anyone."
  type        = list(string)
  default     = null
  validation {
    condition     = var.allowed_cidrs == null || alltrue([for cidr in coalesce(var.allowed_cidrs, []) : can(cidrnetmask(cidr))])
    error_message = "allowed_cidrs must be IPv4 CIDR blocks (or null for anyone)."
  }
}

variable "storage_class" {
  description = "Storage class of the hub's database volume (the cluster's default gp3 class)."
  type        = string
}

variable "load_balancer_tags" {
  description = "Tags for the hub's load balancer, which Kubernetes creates outside the provider's default tags."
  type        = map(string)
  default     = {}
}

variable "jupyterhub_chart_version" {
  description = "Zero to JupyterHub chart version (https://hub.jupyter.org/helm-chart/)."
  type        = string
  default     = "4.4.0"
}

# Helm installs a chart's CRDs on first install and never upgrades them: to bump this version,
# first apply the new release's CRDs (the chart's crds/ folder at that version, with kubectl), then
# apply the tree.
variable "dask_gateway_chart_version" {
  description = "Dask Gateway chart version (https://helm.dask.org); the user image's dask-gateway package must match it. Its CRDs are applied by hand before a bump (Helm never upgrades them)."
  type        = string
  default     = "2026.3.0"
}

variable "profiles" {
  description = "Server sizes offered at spawn (on the main node group); the first is the default."
  type = list(object({
    display_name  = string
    description   = string
    cpu_guarantee = number
    cpu_limit     = number
    mem_guarantee = string
    mem_limit     = string
  }))
  default = [
    {
      display_name  = "Standard"
      description   = "1 CPU, 7 GB memory"
      cpu_guarantee = 0.9
      cpu_limit     = 1
      mem_guarantee = "6.5G"
      mem_limit     = "7G"
    },
    {
      display_name  = "Large"
      description   = "3 CPU, 28 GB memory"
      cpu_guarantee = 2.8
      cpu_limit     = 3
      mem_guarantee = "26G"
      mem_limit     = "28G"
    },
  ]
}

variable "dask_worker" {
  description = "Resources of each Dask worker (on the dask-worker node group)."
  type = object({
    cores_request  = number
    cores_limit    = number
    memory_request = string
    memory_limit   = string
  })
  default = {
    cores_request  = 1.7
    cores_limit    = 2
    memory_request = "6G"
    memory_limit   = "7G"
  }
}

variable "admin_users" {
  description = "JupyterHub usernames with admin rights (hub.config.Authenticator.admin_users); see the root variable hub_admin_users."
  type        = list(string)
}

variable "notebook_culling" {
  description = "Idle notebook servers are stopped: after timeout_minutes without activity, checked every every_minutes."
  type = object({
    timeout_minutes = number
    every_minutes   = number
  })
  validation {
    condition     = var.notebook_culling.timeout_minutes > 0 && var.notebook_culling.every_minutes > 0
    error_message = "notebook_culling needs a timeout_minutes and every_minutes above 0."
  }
}

variable "dask_limits" {
  description = "Cost brakes of each Dask cluster: idle_timeout_minutes before an idle cluster shuts down (above 0), and at most max_workers workers, max_cores cores and max_memory memory (Dask Gateway's form: a number with K, M, G or T)."
  type = object({
    idle_timeout_minutes = number
    max_workers          = number
    max_cores            = number
    max_memory           = string
  })
  validation {
    condition     = var.dask_limits.idle_timeout_minutes > 0 && var.dask_limits.max_workers > 0 && var.dask_limits.max_cores > 0 && can(regex("^[0-9]+(\\.[0-9]+)?[KMGT]$", var.dask_limits.max_memory))
    error_message = "dask_limits needs idle_timeout_minutes, max_workers and max_cores above 0, and max_memory such as \"112G\"."
  }
}

variable "front_door" {
  description = "Which front door serves the hub: \"service\" (proxy-public's own load balancer), \"both\" (that one and the application load balancer of modules/edge, bound to the proxy's pods), \"alb\" (the application load balancer only; proxy-public becomes a ClusterIP Service)."
  type        = string
  default     = "service"
  validation {
    condition     = contains(["service", "both", "alb"], var.front_door)
    error_message = "front_door must be \"service\", \"both\" or \"alb\"."
  }
}

variable "front_door_binding" {
  description = "Where the proxy's pods are bound with front_door \"both\" or \"alb\": the edge module's target group ARN and the AWS Load Balancer Controller's release (\"<namespace>/<name>\", so the binding waits for its CRD); null with \"service\"."
  type = object({
    target_group_arn = string
    controller       = string
  })
  default = null
}

variable "health_journey" {
  description = "Whether the health check runs the full journey (a server of the hubops-health user, a Dask cluster) after supervised applies; read from the health_check output."
  type        = bool
  default     = false
}
