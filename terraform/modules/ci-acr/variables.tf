variable "name" {
  description = "Registry name: NAME of NAME.azurecr.io."
  type        = string
}

variable "resource_group_name" {
  description = "Resource group created for the registry."
  type        = string
}

variable "location" {
  description = "Azure region of the registry."
  type        = string
}

variable "github_owner" {
  description = "Owner of the GitOps repository whose app workflow pushes and signs."
  type        = string
}

variable "github_repository" {
  description = "Name of that repository (without the owner)."
  type        = string
}

variable "branch" {
  description = "The branch the app workflow runs on: the only ref the federated credential trusts."
  type        = string
}
