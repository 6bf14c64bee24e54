variable "name" {
  description = "Bucket name."
  type        = string
}

variable "region" {
  description = "AWS region; the provider is configured with it by the caller."
  type        = string
}

variable "retention_days" {
  description = "Days backups are kept; CloudNativePG prunes by its own retention policy first."
  type        = number
}

variable "cluster_name" {
  description = "EKS cluster whose PostgreSQL pods write the backups."
  type        = string
}

variable "namespace" {
  description = "Namespace of the CloudNativePG cluster."
  type        = string
}

variable "service_account" {
  description = "Service account of the PostgreSQL pods: CloudNativePG names it after the cluster."
  type        = string
}
