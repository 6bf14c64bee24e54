variable "name" {
  description = "Bucket name."
  type        = string
}

variable "region" {
  description = "GCP region (bucket location)."
  type        = string
}

variable "retention_days" {
  description = "Days backups are kept; CloudNativePG prunes by its own retention policy first."
  type        = number
}

variable "project" {
  description = "GCP project id."
  type        = string
}

variable "writer_account_id" {
  description = "Account id of the writer service account (6-30 characters)."
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
