variable "name" {
  description = "Prefix of the identity's name: the cluster's name."
  type        = string
}

variable "region" {
  description = "Azure region (location) of the resource group."
  type        = string
}

variable "resource_group" {
  description = "Resource group of external-dns's identity, and of the zone when Terraform makes it."
  type        = string
}

variable "zone" {
  description = "The public zone the Gateway's records go to."
  type        = string
}

variable "create_zone" {
  description = "Create the zone, rather than look up one that exists."
  type        = bool
}

variable "oidc_issuer_url" {
  description = "OIDC issuer of the AKS cluster external-dns runs in."
  type        = string
}

variable "namespace" {
  description = "Namespace of external-dns."
  type        = string
}

variable "service_account" {
  description = "Service account of external-dns."
  type        = string
}

variable "config_map" {
  description = "ConfigMap (in namespace) that hands external-dns its azure.json and client id."
  type        = string
}
