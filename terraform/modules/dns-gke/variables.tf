variable "project" {
  description = "GCP project id of the zone and the cluster."
  type        = string
}

variable "zone" {
  description = "The public zone the Gateway's records go to (without the final dot)."
  type        = string
}

variable "zone_name" {
  description = "The zone's resource name in Cloud DNS."
  type        = string
}

variable "create_zone" {
  description = "Create the zone, rather than look up one that exists."
  type        = bool
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
