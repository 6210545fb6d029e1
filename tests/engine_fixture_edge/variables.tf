# The facts hubops reads from terraform.tfvars (hubops/adapters/environment_files.py), declared
# so that the engine accepts the same file, and the knobs the tests turn.

variable "environment" {
  description = "The environment's name; the folder under environments/ that holds its values."
  type        = string
}

variable "aws_region" {
  description = "The region of the front door."
  type        = string
}

variable "aws_account_id" {
  description = "The AWS account the environment lives in (moto's, in the tests)."
  type        = string
}

variable "cluster_name" {
  description = "The cluster the front door is named after."
  type        = string
}

variable "hub_namespace" {
  description = "The namespace of the hub's proxy-public Service (the front door's tag)."
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

variable "front_door_generation" {
  description = "Part of the load balancer's name: changing it replaces the front door."
  type        = string
  default     = "1"
}

variable "hub_release_revision" {
  description = "Changing it replaces terraform_data.hub_release: a change to something else."
  type        = string
  default     = "1"
}
