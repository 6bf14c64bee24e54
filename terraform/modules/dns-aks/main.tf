# The environment's Azure DNS zone (made, or looked up where it exists), and the identity
# external-dns changes its records as, through AKS workload identity.

data "azurerm_client_config" "current" {}

# The zone Terraform makes and external-dns's identity live here.
resource "azurerm_resource_group" "dns" {
  name     = var.resource_group
  location = var.region
}

resource "azurerm_dns_zone" "this" {
  count = var.create_zone ? 1 : 0

  name                = var.zone
  resource_group_name = azurerm_resource_group.dns.name
}

data "azurerm_dns_zone" "this" {
  count = var.create_zone ? 0 : 1

  name = var.zone
}

locals {
  zone_id             = var.create_zone ? azurerm_dns_zone.this[0].id : data.azurerm_dns_zone.this[0].id
  zone_resource_group = var.create_zone ? azurerm_dns_zone.this[0].resource_group_name : data.azurerm_dns_zone.this[0].resource_group_name
  name_servers        = var.create_zone ? azurerm_dns_zone.this[0].name_servers : data.azurerm_dns_zone.this[0].name_servers
}

resource "azurerm_user_assigned_identity" "external_dns" {
  name                = "${var.name}-external-dns"
  location            = var.region
  resource_group_name = azurerm_resource_group.dns.name
}

resource "azurerm_federated_identity_credential" "external_dns" {
  name                = "external-dns"
  resource_group_name = azurerm_user_assigned_identity.external_dns.resource_group_name
  parent_id           = azurerm_user_assigned_identity.external_dns.id
  issuer              = var.oidc_issuer_url
  subject             = "system:serviceaccount:${var.namespace}:${var.service_account}"
  audience            = ["api://AzureADTokenExchange"]
}

resource "azurerm_role_assignment" "external_dns" {
  scope                = local.zone_id
  role_definition_name = "DNS Zone Contributor"
  principal_id         = azurerm_user_assigned_identity.external_dns.principal_id
}

# The identity's client id, the tenant and the subscription exist only once Azure made them, so
# they reach external-dns through this ConfigMap: `azure.json` as its Azure provider reads it,
# and AZURE_CLIENT_ID for the workload identity token exchange. The namespace is the one
# external-dns's Application syncs into; this creates it first and leaves its labels to Argo CD.
resource "kubernetes_namespace_v1" "external_dns" {
  metadata {
    name = var.namespace
  }

  lifecycle {
    ignore_changes = [metadata[0].labels, metadata[0].annotations]
  }
}

resource "kubernetes_config_map_v1" "external_dns" {
  metadata {
    name      = var.config_map
    namespace = kubernetes_namespace_v1.external_dns.metadata[0].name
  }

  data = {
    AZURE_CLIENT_ID = azurerm_user_assigned_identity.external_dns.client_id
    "azure.json" = jsonencode({
      tenantId                     = data.azurerm_client_config.current.tenant_id
      subscriptionId               = data.azurerm_client_config.current.subscription_id
      resourceGroup                = local.zone_resource_group
      useWorkloadIdentityExtension = true
    })
  }
}
