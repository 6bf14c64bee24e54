variable "name" {
  description = "Prefix of the IAM roles' names: the cluster's name."
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

variable "cluster_name" {
  description = "EKS cluster whose service accounts get the roles."
  type        = string
}

variable "external_dns_namespace" {
  description = "Namespace of external-dns."
  type        = string
}

variable "external_dns_service_account" {
  description = "Service account of external-dns."
  type        = string
}

variable "dns01" {
  description = "cert-manager answers DNS-01 challenges in the zone."
  type        = bool
}

variable "cert_manager_namespace" {
  description = "Namespace of cert-manager."
  type        = string
}

variable "cert_manager_service_account" {
  description = "Service account of cert-manager's controller."
  type        = string
}
