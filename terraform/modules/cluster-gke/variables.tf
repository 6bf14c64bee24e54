variable "name" {
  description = "Cluster and network name."
  type        = string
}

variable "region" {
  description = "GCP region."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version, e.g. 1.34."
  type        = string
}

variable "node_size" {
  description = "GCE machine type of the node pool."
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
  description = "Network range; node, pod and service ranges are carved out of it."
  type        = string
}

variable "project" {
  description = "GCP project id."
  type        = string
}
