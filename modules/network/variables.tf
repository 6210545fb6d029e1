variable "name" {
  description = "Name prefix for the network's resources."
  type        = string
}

variable "cluster_name" {
  description = "EKS cluster name, for the kubernetes.io/cluster/<name> subnet tags load balancers are placed by."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; split into one public and one private subnet per availability zone."
  type        = string
}

variable "availability_zone_suffixes" {
  description = "Availability zones to spread subnets across, as letters after the region name (EKS needs at least two)."
  type        = list(string)
  default     = ["a", "b", "c"]
  validation {
    condition     = length(var.availability_zone_suffixes) >= 2
    error_message = "EKS needs subnets in at least two availability zones."
  }
}

variable "flow_log_retention_days" {
  description = "Days to keep VPC flow logs."
  type        = number
  default     = 365
}
