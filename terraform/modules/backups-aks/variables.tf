variable "name" {
  description = "Storage account name: 3-24 lowercase letters and digits."
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
