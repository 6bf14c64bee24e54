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
