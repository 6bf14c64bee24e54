output "name" {
  description = "Cluster name."
  value       = module.eks.cluster_name
}

output "endpoint" {
  description = "API server endpoint."
  value       = module.eks.cluster_endpoint
}

output "ca_certificate" {
  description = "Base64 cluster CA certificate."
  value       = module.eks.cluster_certificate_authority_data
}

output "vpc_id" {
  description = "VPC of the cluster."
  value       = module.vpc.vpc_id
}

output "private_subnet_ids" {
  description = "Private subnets (nodes, databases)."
  value       = module.vpc.private_subnets
}
