variable "name" {
  description = "Cluster, resource group and VNet name."
  type        = string
}

variable "region" {
  description = "Azure region (location)."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version, e.g. 1.31."
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
