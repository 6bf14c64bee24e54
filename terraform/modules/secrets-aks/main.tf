# The environment's secrets in an Azure Key Vault of their own, and the identity External
# Secrets Operator reads and writes them as, through AKS workload identity. A Key Vault secret
# cannot exist without a value, so Terraform makes the vault and the rights, and the secrets are
# made by the controller's PushSecrets: no value is in the state.

data "azurerm_client_config" "current" {}

resource "azurerm_resource_group" "secrets" {
  name     = var.resource_group
  location = var.region
}

resource "azurerm_key_vault" "secrets" {
  # checkov:skip=CKV_AZURE_109:The controller reaches the vault over its public endpoint; RBAC limits who reads it.
  # checkov:skip=CKV_AZURE_189:Same: a private vault needs a private endpoint in a network the platform does not own.
  # checkov:skip=CKV2_AZURE_32:Same.
  name                       = var.vault_name
  location                   = azurerm_resource_group.secrets.location
  resource_group_name        = azurerm_resource_group.secrets.name
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  sku_name                   = "standard"
  enable_rbac_authorization  = true
  purge_protection_enabled   = true
  soft_delete_retention_days = 7
}

resource "azurerm_user_assigned_identity" "external_secrets" {
  name                = "${var.name}-external-secrets"
  location            = azurerm_resource_group.secrets.location
  resource_group_name = azurerm_resource_group.secrets.name
}

resource "azurerm_federated_identity_credential" "external_secrets" {
  name                = "external-secrets"
  resource_group_name = azurerm_user_assigned_identity.external_secrets.resource_group_name
  parent_id           = azurerm_user_assigned_identity.external_secrets.id
  issuer              = var.oidc_issuer_url
  subject             = "system:serviceaccount:${var.namespace}:${var.service_account}"
  audience            = ["api://AzureADTokenExchange"]
}

# Read and write secrets, in this vault only.
resource "azurerm_role_assignment" "external_secrets" {
  scope                = azurerm_key_vault.secrets.id
  role_definition_name = "Key Vault Secrets Officer"
  principal_id         = azurerm_user_assigned_identity.external_secrets.principal_id
}

# The identity's client id and the tenant exist only once Azure made them, so they reach the
# controller through this ConfigMap. The namespace is the one its Application syncs into; this
# creates it first and leaves its labels to Argo CD.
resource "kubernetes_namespace_v1" "external_secrets" {
  metadata {
    name = var.namespace
  }

  lifecycle {
    ignore_changes = [metadata[0].labels, metadata[0].annotations]
  }
}

resource "kubernetes_config_map_v1" "external_secrets" {
  metadata {
    name      = var.config_map
    namespace = kubernetes_namespace_v1.external_secrets.metadata[0].name
  }

  data = {
    AZURE_CLIENT_ID = azurerm_user_assigned_identity.external_secrets.client_id
    AZURE_TENANT_ID = data.azurerm_client_config.current.tenant_id
  }
}
