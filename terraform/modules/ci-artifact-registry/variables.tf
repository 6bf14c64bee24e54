variable "project" {
  description = "Project of the Artifact Registry repository and the workload identity pool."
  type        = string
}

variable "location" {
  description = "Location of the repository: LOCATION of LOCATION-docker.pkg.dev."
  type        = string
}

variable "repository" {
  description = "Artifact Registry repository id."
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
  description = "The branch the app workflow runs on: the only ref the provider accepts."
  type        = string
}

variable "pool" {
  description = "Workload identity pool id."
  type        = string
}

variable "provider_id" {
  description = "Workload identity pool provider id."
  type        = string
}

variable "service_account_id" {
  description = "Account id (the part before @) of the service account the workflow impersonates."
  type        = string
}

variable "service_account_project" {
  description = "Project of that service account."
  type        = string
}

variable "kms_key" {
  description = "Cloud KMS key to create for cosign (project, location, key_ring, key), or null."
  type = object({
    project  = string
    location = string
    key_ring = string
    key      = string
  })
  default = null
}
