output "name" {
  description = "Cluster name."
  value       = module.aks.name
}

output "endpoint" {
  description = "API server endpoint."
  value       = "https://${module.aks.fqdn}"
}

output "ca_certificate" {
  description = "Base64 cluster CA certificate."
  value       = module.aks.cluster_ca_certificate
  sensitive   = true
}

output "resource_group_name" {
  description = "Resource group of the cluster."
  value       = azurerm_resource_group.this.name
}

output "node_subnet_id" {
  description = "Subnet of the nodes: the one network the backup storage account admits."
  value       = azurerm_subnet.nodes.id
}

output "oidc_issuer_url" {
  description = "OIDC issuer of the cluster's service account tokens, for workload identity federation."
  value       = module.aks.oidc_issuer_profile_issuer_url
}
