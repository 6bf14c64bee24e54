output "role" {
  description = "The Kubernetes auth role the ClusterSecretStore names."
  value       = vault_kubernetes_auth_backend_role.external_secrets.role_name
}
