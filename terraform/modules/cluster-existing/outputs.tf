output "cluster_uid" {
  description = "UID of kube-system: a stable identity of the cluster."
  value       = data.kubernetes_namespace_v1.kube_system.metadata[0].uid
}
