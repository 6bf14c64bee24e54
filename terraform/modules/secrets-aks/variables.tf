variable "name" {
  description = "Prefix of the identity's name: the cluster's name."
  type        = string
}

variable "region" {
  description = "Azure region of the vault."
  type        = string
}

variable "resource_group" {
  description = "Resource group the vault and the identity live in."
  type        = string
}

variable "vault_name" {
  description = "The Key Vault's name (global: a name taken elsewhere fails the apply)."
  type        = string
}

variable "oidc_issuer_url" {
  description = "The cluster's OIDC issuer, which the identity trusts."
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

variable "config_map" {
  description = "ConfigMap the controller reads the identity's client id and the tenant from."
  type        = string
}
