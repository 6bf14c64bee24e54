output "workload_identity_provider" {
  description = "platform.yaml's registry.login.gcpWorkloadIdentityProvider."
  value       = google_iam_workload_identity_pool_provider.github.name
}

output "service_account" {
  description = "platform.yaml's registry.login.gcpServiceAccount."
  value       = google_service_account.ci.email
}

output "signing_key" {
  description = "platform.yaml's signing.privateKey.kms, when the key is in Cloud KMS."
  value       = var.kms_key == null ? null : "gcpkms://${google_kms_crypto_key.signing[0].id}"
}
