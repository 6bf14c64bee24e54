# A self-managed (e.g. kubeadm) cluster that already exists: nothing to create, but reading
# kube-system proves the kubeconfig context reaches it before anything is installed.

data "kubernetes_namespace_v1" "kube_system" {
  metadata {
    name = "kube-system"
  }
}
