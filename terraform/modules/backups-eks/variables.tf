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
