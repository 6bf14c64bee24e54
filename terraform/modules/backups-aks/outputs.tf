output "name" {
  description = "Storage account name."
  value       = azurerm_storage_account.backups.name
}
