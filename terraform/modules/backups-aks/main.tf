# Blob storage for CloudNativePG base backups and WAL (point-in-time recovery), and the identity
# the PostgreSQL pods write it with through AKS workload identity.

resource "azurerm_resource_group" "backups" {
  name     = "${var.name}-rg"
  location = var.region
}

resource "azurerm_storage_account" "backups" {
  # checkov:skip=CKV_AZURE_33:Queue logging does not apply: the account serves blobs only.
  # checkov:skip=CKV_AZURE_206:Geo-redundant replication is a phase-2 decision (seed section 4).
  # checkov:skip=CKV2_AZURE_1:Customer-managed keys are a phase-2 decision; Microsoft-managed encryption is on.
  # checkov:skip=CKV2_AZURE_33:Private endpoints need the platform's hub network, which is out of scope here.
  # checkov:skip=CKV_AZURE_59:Clusters reach the account over its endpoint with Azure AD auth; network rules restrict it.
  name                            = var.name
  resource_group_name             = azurerm_resource_group.backups.name
  location                        = azurerm_resource_group.backups.location
  account_tier                    = "Standard"
  account_replication_type        = "ZRS"
  min_tls_version                 = "TLS1_2"
  allow_nested_items_to_be_public = false
  shared_access_key_enabled       = false

  blob_properties {
    versioning_enabled = true

    delete_retention_policy {
      days = 7
    }
  }

  # Only the cluster's node subnet (through its Microsoft.Storage service endpoint) reaches the
  # account: that is where the PostgreSQL pods' traffic leaves from under Azure CNI overlay.
  network_rules {
    default_action             = "Deny"
    bypass                     = ["AzureServices"]
    virtual_network_subnet_ids = var.allowed_subnet_ids
  }
}

resource "azurerm_storage_container" "postgres" {
  # checkov:skip=CKV2_AZURE_21:Blob read logging needs a Log Analytics workspace the platform does not own yet.
  name                  = "postgres"
  storage_account_id    = azurerm_storage_account.backups.id
  container_access_type = "private"
}

resource "azurerm_storage_management_policy" "expire" {
  storage_account_id = azurerm_storage_account.backups.id

  rule {
    name    = "expire"
    enabled = true

    filters {
      blob_types = ["blockBlob"]
    }

    actions {
      base_blob {
        delete_after_days_since_modification_greater_than = var.retention_days + 1
      }
    }
  }
}

# The writer: a user-assigned identity federated with the PostgreSQL pods' service account, which
# CloudNativePG names after the cluster. Only it may write the backup container.
resource "azurerm_user_assigned_identity" "writer" {
  name                = "${var.name}-writer"
  location            = azurerm_resource_group.backups.location
  resource_group_name = azurerm_resource_group.backups.name
}

resource "azurerm_federated_identity_credential" "writer" {
  name                = "postgres"
  resource_group_name = azurerm_resource_group.backups.name
  parent_id           = azurerm_user_assigned_identity.writer.id
  issuer              = var.oidc_issuer_url
  subject             = "system:serviceaccount:${var.namespace}:${var.service_account}"
  audience            = ["api://AzureADTokenExchange"]
}

resource "azurerm_role_assignment" "writer" {
  scope                = azurerm_storage_account.backups.id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_user_assigned_identity.writer.principal_id
}

# The writer's client id is only known once Azure made it, so it cannot be rendered into Git: it
# reaches the PostgreSQL pods as AZURE_CLIENT_ID from this ConfigMap (the Cluster reads it with
# `env.valueFrom`). The namespace is the one the platform's namespaces Application manages; this
# creates it first and leaves its labels to Argo CD.
resource "kubernetes_namespace_v1" "database" {
  metadata {
    name = var.namespace
  }

  lifecycle {
    ignore_changes = [metadata[0].labels, metadata[0].annotations]
  }
}

resource "kubernetes_config_map_v1" "writer" {
  metadata {
    name      = var.identity_config_map
    namespace = kubernetes_namespace_v1.database.metadata[0].name
  }

  data = {
    AZURE_CLIENT_ID = azurerm_user_assigned_identity.writer.client_id
  }
}
