output "name" {
  description = "Cluster name."
  value       = module.aks.aks_name
}

output "endpoint" {
  description = "API server endpoint."
  value       = module.aks.host
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
