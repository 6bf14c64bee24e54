output "name" {
  description = "Cluster name."
  value       = module.gke.name
}

output "endpoint" {
  description = "API server endpoint (IP, without scheme)."
  value       = module.gke.endpoint
  sensitive   = true
}

output "ca_certificate" {
  description = "Base64 cluster CA certificate."
  value       = module.gke.ca_certificate
  sensitive   = true
}

output "network_id" {
  description = "VPC of the cluster."
  value       = module.network.network_id
}
