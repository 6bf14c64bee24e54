# Installs Argo CD once, with the values rendered for the environment. Afterwards Argo CD
# manages itself through its own Application (same release name and values), so changes
# go through Git, not through Terraform.

resource "helm_release" "argocd" {
  name             = "argo-cd"
  namespace        = "argocd"
  create_namespace = true
  repository       = "https://argoproj.github.io/argo-helm"
  chart            = "argo-cd"
  version          = var.chart_version
  values           = [var.values]

  lifecycle {
    ignore_changes = [values, version]
  }
}
