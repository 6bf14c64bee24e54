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

variable "oidc_issuer_url" {
  description = "OIDC issuer of the AKS cluster whose PostgreSQL pods write the backups."
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

variable "identity_config_map" {
  description = "ConfigMap (in namespace) that hands the writer's client id to the PostgreSQL pods."
  type        = string
}

variable "allowed_subnet_ids" {
  description = "Subnets allowed through the storage account's network rules (the cluster's nodes)."
  type        = list(string)
}
