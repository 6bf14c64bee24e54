variable "prefix" {
  description = "What every path of the environment starts with: the cluster's name."
  type        = string
}

variable "mount" {
  description = "Where the KV version 2 engine is mounted."
  type        = string
}

variable "auth_mount" {
  description = "Where the Kubernetes auth method that knows this cluster is mounted."
  type        = string
}

variable "role" {
  description = "The Kubernetes auth role the controller logs in as."
  type        = string
}

variable "policy" {
  description = "The policy the role's tokens carry."
  type        = string
}

variable "namespace" {
  description = "Namespace of External Secrets Operator."
  type        = string
}

variable "service_account" {
  description = "Service account of External Secrets Operator's controller."
  type        = string
}
