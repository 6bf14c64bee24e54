output "vault_uri" {
  description = "The Key Vault's URI, which the ClusterSecretStore names."
  value       = azurerm_key_vault.secrets.vault_uri
}
