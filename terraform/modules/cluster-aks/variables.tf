variable "name" {
  description = "Cluster, resource group and VNet name."
  type        = string
}

variable "region" {
  description = "Azure region (location)."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version, e.g. 1.34."
  type        = string
}

variable "node_size" {
  description = "Azure VM size of the node pool."
  type        = string
}

variable "nodes_min" {
  description = "Minimum nodes of the node pool."
  type        = number
}

variable "nodes_max" {
  description = "Maximum nodes of the node pool."
  type        = number
}

variable "network_cidr" {
  description = "VNet address space; the node subnet is carved out of it."
  type        = string
}

variable "pod_cidr" {
  description = "Pod range of Azure CNI overlay: outside the VNet, a /24 per node."
  type        = string
}

variable "service_cidr" {
  description = "Service range: outside the VNet; the cluster DNS is its tenth address."
  type        = string
}
