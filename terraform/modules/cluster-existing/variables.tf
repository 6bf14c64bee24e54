variable "kubeconfig_path" {
  description = "Path of the kubeconfig; the caller configures its providers with it."
  type        = string
}

variable "kubeconfig_context" {
  description = "kubeconfig context of the cluster."
  type        = string
}
