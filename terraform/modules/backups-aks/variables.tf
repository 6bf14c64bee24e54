variable "name" {
  description = "Storage account seed name (dashes are dropped, 24 characters at most)."
  type        = string
}

variable "region" {
  description = "Azure region (location)."
  type        = string
}

variable "retention_days" {
  description = "Days backups are kept; CloudNativePG prunes by its own retention policy first."
  type        = number
}
