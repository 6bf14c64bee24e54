variable "name" {
  description = "Prefix of the IAM role's name: the cluster's name."
  type        = string
}

variable "names" {
  description = "The secrets' names: one per random or supplied key of the secrets table."
  type        = list(string)
}

variable "cluster_name" {
  description = "EKS cluster whose service account gets the role."
  type        = string
}

variable "namespace" {
  description = "Namespace of External Secrets Operator."
  type        = string
}

variable "service_account" {
  description = "Service account of External Secrets Operator's controller."
  type        = string
}
