variable "project" {
  description = "GCP project of the cluster and the secrets."
  type        = string
}

variable "prefix" {
  description = "What every secret's name starts with: the cluster's name."
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
