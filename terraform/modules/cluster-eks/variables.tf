variable "name" {
  description = "Cluster (and VPC) name."
  type        = string
}

variable "region" {
  description = "AWS region; the provider is configured with it by the caller."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version, e.g. 1.34."
  type        = string
}

variable "node_size" {
  description = "EC2 instance type of the managed node group."
  type        = string
}

variable "arm" {
  description = "Whether node_size is an ARM (Graviton) instance type, which needs the ARM image."
  type        = bool
}

variable "nodes_min" {
  description = "Minimum nodes of the managed node group."
  type        = number
}

variable "nodes_max" {
  description = "Maximum nodes of the managed node group."
  type        = number
}

variable "network_cidr" {
  description = "VPC CIDR; subnets are carved out of it."
  type        = string
}

variable "lb_controller_namespace" {
  description = "Namespace of the AWS Load Balancer Controller's service account."
  type        = string
}

variable "lb_controller_service_account" {
  description = "Service account the AWS Load Balancer Controller runs as; it gets the controller's AWS permissions."
  type        = string
}

variable "karpenter_namespace" {
  description = "Namespace of Karpenter's service account."
  type        = string
}

variable "karpenter_service_account" {
  description = "Service account Karpenter runs as; it gets the controller's AWS permissions."
  type        = string
}

variable "karpenter_node_role" {
  description = "Name of the IAM role of the nodes Karpenter launches (its EC2NodeClass names it)."
  type        = string
}

variable "karpenter_interruption_queue" {
  description = "Name of the SQS queue of spot interruptions and EC2 events Karpenter reads."
  type        = string
}

variable "karpenter_discovery" {
  description = "Value of the karpenter.sh/discovery tag on the private subnets and the node security group."
  type        = string
}
