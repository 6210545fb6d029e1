# The facts hubops reads from terraform.tfvars (hubops/adapters/environment_files.py), declared
# so that the engine accepts the same file, and two knobs the tests turn.

variable "environment" {
  description = "The environment's name; the folder under environments/ that holds its values."
  type        = string
}

variable "aws_region" {
  description = "The region of the load balancer."
  type        = string
}

variable "aws_account_id" {
  description = "The AWS account the environment lives in (moto's, in the tests)."
  type        = string
}

variable "cluster_name" {
  description = "The cluster whose tag the cloud controller puts on the hub's load balancer."
  type        = string
}

variable "hub_namespace" {
  description = "The namespace of the hub's proxy-public Service."
  type        = string
}

variable "domain" {
  description = "The hub's DNS name (served by the tests' loopback DNS server)."
  type        = string
  default     = ""
}

variable "supervised" {
  description = "Whether a routing change fails the apply (read by hubops, unused here)."
  type        = bool
}

variable "load_balancer_generation" {
  description = "Part of the load balancer's name: changing it replaces the load balancer."
  type        = string
  default     = "1"
}

variable "apply_pause_seconds" {
  description = "How long the apply of a new pause_token sleeps (a slow apply for lock and Ctrl-C)."
  type        = number
  default     = 0
}

variable "pause_token" {
  description = "Changing it replaces terraform_data.pause, whose creation sleeps."
  type        = string
  default     = "0"
}

variable "health_check" {
  description = "What the health check reads from the state (the tree's hub module makes it; null: none)."
  type        = any
  default     = null
}
