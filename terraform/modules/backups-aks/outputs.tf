output "name" {
  description = "Storage account name."
  value       = azurerm_storage_account.backups.name
}

output "writer_client_id" {
  description = "Client id of the identity the PostgreSQL pods write backups with."
  value       = azurerm_user_assigned_identity.writer.client_id
}
