# An AKS cluster in its own resource group and VNet, built on the Azure Verified Module for AKS.
# Azure/aks/azurerm is in retirement since May 2026 (bug fixes only); the AVM module is its
# supported successor (docs/components.md).

data "azurerm_client_config" "current" {}

resource "azurerm_resource_group" "this" {
  name     = var.name
  location = var.region
}

resource "azurerm_virtual_network" "this" {
  name                = var.name
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  address_space       = [var.network_cidr]
}

# The nodes' subnet; its Microsoft.Storage endpoint is the one way into the backup storage account.
resource "azurerm_subnet" "nodes" {
  # checkov:skip=CKV2_AZURE_31:AKS attaches its managed network security group to the node NICs of this subnet.
  name                 = "nodes"
  resource_group_name  = azurerm_resource_group.this.name
  virtual_network_name = azurerm_virtual_network.this.name
  address_prefixes     = [cidrsubnet(var.network_cidr, 4, 0)]
  service_endpoints    = ["Microsoft.Storage"]
}

# KMS etcd encryption: Secrets are encrypted in etcd with a key of this vault, which the
# cluster's own identity (user-assigned, so it exists before the cluster) may use. The vault is
# RBAC-authorized and purge-protected; whoever applies this creates the key.
resource "azurerm_user_assigned_identity" "cluster" {
  name                = "${var.name}-cluster"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
}

# A user-assigned cluster identity gets no rights on a VNet of its own: it must join the nodes
# to their subnet (and manage their load balancers' addresses there).
resource "azurerm_role_assignment" "cluster_subnet" {
  scope                = azurerm_subnet.nodes.id
  role_definition_name = "Network Contributor"
  principal_id         = azurerm_user_assigned_identity.cluster.principal_id
}

resource "azurerm_key_vault" "etcd" {
  # checkov:skip=CKV_AZURE_109:The API server reaches the vault over its public endpoint (KMS with `Public` network access); RBAC limits who uses the key.
  # checkov:skip=CKV_AZURE_189:Same: a private vault needs the private-link KMS setup and a hub network the platform does not own.
  # checkov:skip=CKV2_AZURE_32:Same.
  name                       = "${trimsuffix(substr(var.name, 0, 16), "-")}-${substr(sha1(azurerm_resource_group.this.id), 0, 7)}"
  location                   = azurerm_resource_group.this.location
  resource_group_name        = azurerm_resource_group.this.name
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  sku_name                   = "standard"
  enable_rbac_authorization  = true
  purge_protection_enabled   = true
  soft_delete_retention_days = 7
}

resource "azurerm_role_assignment" "applier_keys" {
  scope                = azurerm_key_vault.etcd.id
  role_definition_name = "Key Vault Crypto Officer"
  principal_id         = data.azurerm_client_config.current.object_id
}

resource "azurerm_role_assignment" "cluster_keys" {
  scope                = azurerm_key_vault.etcd.id
  role_definition_name = "Key Vault Crypto User"
  principal_id         = azurerm_user_assigned_identity.cluster.principal_id
}

resource "azurerm_key_vault_key" "etcd" {
  # checkov:skip=CKV_AZURE_112:An HSM-backed key needs the premium SKU; the standard vault's software key is what AKS KMS documents.
  name         = "etcd-secrets"
  key_vault_id = azurerm_key_vault.etcd.id
  key_type     = "RSA"
  key_size     = 2048
  key_opts     = ["encrypt", "decrypt", "wrapKey", "unwrapKey"]
  # Key Vault rotates the key 30 days before its two-year expiry. The cluster keeps the version
  # it was given until the next `terraform apply`, which reads the new version's id and points
  # the cluster at it: apply within those 30 days.
  expiration_date = timeadd(timestamp(), "17520h")

  rotation_policy {
    automatic {
      time_before_expiry = "P30D"
    }
    expire_after         = "P2Y"
    notify_before_expiry = "P29D"
  }

  lifecycle {
    ignore_changes = [expiration_date]
  }

  depends_on = [azurerm_role_assignment.applier_keys]
}

module "aks" {
  # checkov:skip=CKV_TF_1:Registry modules are pinned by exact version range; the registry serves immutable releases.
  source  = "Azure/avm-res-containerservice-managedcluster/azurerm"
  version = "~> 0.8.1"

  name               = var.name
  location           = azurerm_resource_group.this.location
  parent_id          = azurerm_resource_group.this.id
  kubernetes_version = var.kubernetes_version
  dns_prefix         = var.name
  enable_telemetry   = false

  # The cluster autoscaler keeps the system pool between nodes_min and nodes_max.
  default_agent_pool = {
    vm_size             = var.node_size
    vnet_subnet_id      = azurerm_subnet.nodes.id
    enable_auto_scaling = true
    min_count           = var.nodes_min
    max_count           = var.nodes_max
    count_of            = var.nodes_min
    availability_zones  = ["1", "2", "3"]
  }

  # Azure CNI overlay with the Cilium dataplane, which enforces NetworkPolicy. Pod and Service
  # ranges are fixed outside the VNet; `platform validate` refuses a VNet overlapping them.
  network_profile = {
    network_plugin      = "azure"
    network_plugin_mode = "overlay"
    network_dataplane   = "cilium"
    network_policy      = "cilium"
    pod_cidr            = var.pod_cidr
    service_cidr        = var.service_cidr
    dns_service_ip      = cidrhost(var.service_cidr, 10)
  }

  # Entra ID sign-in with Azure RBAC and no local accounts; whoever applies this is cluster admin
  # (Terraform installs Argo CD next, through kubelogin).
  aad_profile = {
    managed           = true
    enable_azure_rbac = true
  }
  disable_local_accounts = true
  role_assignments = {
    applier = {
      role_definition_id_or_name = "Azure Kubernetes Service RBAC Cluster Admin"
      principal_id               = data.azurerm_client_config.current.object_id
    }
  }

  # Workload identity: the backup writer federates the PostgreSQL service account (backups-aks).
  oidc_issuer_profile = {
    enabled = true
  }
  security_profile = {
    workload_identity = {
      enabled = true
    }
    azure_key_vault_kms = {
      enabled                  = true
      key_id                   = azurerm_key_vault_key.etcd.id
      key_vault_network_access = "Public"
    }
  }
  managed_identities = {
    user_assigned_resource_ids = [azurerm_user_assigned_identity.cluster.id]
  }
  addon_profile_azure_policy = {
    enabled = true
  }
  auto_upgrade_profile = {
    upgrade_channel         = "patch"
    node_os_upgrade_channel = "NodeImage"
  }

  # The cluster's identity uses the key, and joins the nodes' subnet, from its first minute.
  depends_on = [azurerm_role_assignment.cluster_keys, azurerm_role_assignment.cluster_subnet]
}
