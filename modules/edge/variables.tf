variable "name" {
  description = "Name of the hub's front door (the cluster's name): the load balancer, its security group and target group are named after it (at most 26 characters, so the target group's name fits)."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z0-9-]{1,26}$", var.name))
    error_message = "name must be 1 to 26 letters, digits or hyphens."
  }
}

variable "hub" {
  description = "The hub the front door serves, as \"<namespace>/<service>\"."
  type        = string
}

variable "cluster_name" {
  description = "The hub's EKS cluster. With the hub, it makes the front door's hub.front-door tag (\"<cluster>/<namespace>/<service>\"), by which the task library tells this environment's front door from another's in the same account, region and namespace."
  type        = string
  validation {
    condition     = can(regex("^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$", var.cluster_name))
    error_message = "cluster_name must be an EKS cluster name: letters, digits, hyphens and underscores, starting with a letter or digit."
  }
}

variable "vpc_id" {
  description = "The VPC of the cluster."
  type        = string
}

variable "public_subnet_ids" {
  description = "Public subnets the load balancer lives in (at least two zones)."
  type        = list(string)
  validation {
    condition     = length(var.public_subnet_ids) >= 2
    error_message = "An application load balancer needs public subnets in at least two zones."
  }
}

variable "certificate_arn" {
  description = "ACM certificate of the hub's domain for the https listener; null: no domain, so http only (cae-testing)."
  type        = string
  default     = null
}

variable "allowed_cidrs" {
  description = "CIDR blocks that may reach the load balancer; null: anyone (hubs behind real authentication)."
  type        = list(string)
  default     = null
  validation {
    condition     = var.allowed_cidrs == null || alltrue([for cidr in coalesce(var.allowed_cidrs, []) : can(cidrnetmask(cidr))])
    error_message = "allowed_cidrs must be IPv4 CIDR blocks (or null for anyone)."
  }
}

variable "pods_security_group_id" {
  description = "Security group of the proxy's pods: the nodes' (EKS cluster) security group, since pods send and receive through their node's network interfaces."
  type        = string
}

variable "proxy_port" {
  description = "Port of the proxy's pods the load balancer sends to (configurable-http-proxy's http port in Zero to JupyterHub)."
  type        = number
  default     = 8000
}

variable "health_check_path" {
  description = "Path the load balancer checks on each proxy pod (configurable-http-proxy's own health endpoint, which the chart's probes use too)."
  type        = string
  default     = "/_chp_healthz"
}

variable "idle_timeout_seconds" {
  description = "Seconds an idle connection stays open: notebook kernels, terminals and VS Code hold websockets that outlast the default 60."
  type        = number
  default     = 3600
  validation {
    condition     = var.idle_timeout_seconds >= 60 && var.idle_timeout_seconds <= 4000
    error_message = "idle_timeout_seconds must be between 60 and 4000 (the application load balancer's range)."
  }
}

variable "protected" {
  description = "Whether the front door must survive every apply (production): AWS deletion protection, and a plan that would delete or replace the load balancer fails."
  type        = bool
  default     = false
}

variable "hsts" {
  description = "Strict-Transport-Security header the https listener adds to every response."
  type        = string
  default     = "max-age=31536000; includeSubDomains"
}
