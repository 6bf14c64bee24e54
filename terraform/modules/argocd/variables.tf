variable "chart_version" {
  description = "argo-cd chart version of the first install."
  type        = string
}

variable "values" {
  description = "Contents of helm/values/<env>/argo-cd.yaml."
  type        = string
}
