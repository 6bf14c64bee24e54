output "client_id" {
  description = "platform.yaml's registry.login.azureClientId."
  value       = azuread_application.ci.client_id
}

output "tenant_id" {
  description = "platform.yaml's registry.login.azureTenantId."
  value       = data.azurerm_client_config.current.tenant_id
}

output "subscription_id" {
  description = "platform.yaml's registry.login.azureSubscriptionId."
  value       = data.azurerm_client_config.current.subscription_id
}

output "login_server" {
  description = "Where the app image is pushed."
  value       = azurerm_container_registry.app.login_server
}
