variable "repository" {
  description = "ECR repository of the app image, e.g. shop/app."
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
  description = "The branch the app workflow runs on: the only ref the role trusts."
  type        = string
}

variable "role_name" {
  description = "Name of the role the workflow assumes (the name in platform.yaml's registry.login.awsRoleArn)."
  type        = string
}

variable "kms_alias" {
  description = "Alias (without alias/) of the cosign signing key to create, or null when signing is keyless or by secret."
  type        = string
  default     = null
}

variable "create_oidc_provider" {
  description = "Create GitHub's OIDC provider; false when the account has one already (an account holds one per URL)."
  type        = bool
  default     = true
}
