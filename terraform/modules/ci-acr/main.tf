# What the app workflow needs in Azure: the container registry it pushes to and an Entra ID
# application whose only credential is federated to the GitOps repository's tracked branch
# (no client secret exists), allowed to push to that registry and nothing else.

data "azurerm_client_config" "current" {}

resource "azurerm_resource_group" "registry" {
  name     = var.resource_group_name
  location = var.location
}

resource "azurerm_container_registry" "app" {
  # checkov:skip=CKV_AZURE_139:GitHub-hosted runners push from changing public addresses; admin user and anonymous pull stay off.
  # checkov:skip=CKV_AZURE_165:Geo-replication is a multi-region decision the platform has not made; one region, zone-redundant.
  # checkov:skip=CKV_AZURE_166:Quarantine needs a scanner that releases images; Trivy gates images before the push instead.
  # checkov:skip=CKV_AZURE_164:Images are signed with cosign and verified by Kyverno, not with Docker Content Trust.
  # checkov:skip=CKV_AZURE_237:Dedicated data endpoints matter with firewall rules, which CKV_AZURE_139 explains are off.
  name                          = var.name
  resource_group_name           = azurerm_resource_group.registry.name
  location                      = azurerm_resource_group.registry.location
  sku                           = "Premium"
  admin_enabled                 = false
  anonymous_pull_enabled        = false
  zone_redundancy_enabled       = true
  public_network_access_enabled = true

  retention_policy_in_days = 30
}

resource "azuread_application" "ci" {
  display_name = "${var.name}-ci-push"
}

resource "azuread_service_principal" "ci" {
  client_id = azuread_application.ci.client_id
}

resource "azuread_application_federated_identity_credential" "github" {
  application_id = azuread_application.ci.id
  display_name   = "github-app-workflow"
  description    = "The app workflow of ${var.github_owner}/${var.github_repository} on ${var.branch}"
  audiences      = ["api://AzureADTokenExchange"]
  issuer         = "https://token.actions.githubusercontent.com"
  subject        = "repo:${var.github_owner}/${var.github_repository}:ref:refs/heads/${var.branch}"
}

resource "azurerm_role_assignment" "push" {
  scope                = azurerm_container_registry.app.id
  role_definition_name = "AcrPush"
  principal_id         = azuread_service_principal.ci.object_id
}
