# What the app workflow needs in Google Cloud: the Artifact Registry repository it pushes to, a
# workload identity pool whose GitHub provider accepts only the GitOps repository's tracked
# branch, a service account that may write to that repository and that only this repository's
# workflow may impersonate and, when platform.yaml signs through Cloud KMS, the cosign key.

locals {
  member = "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.github.name}/attribute.repository/${var.github_owner}/${var.github_repository}"
}

resource "google_artifact_registry_repository" "app" {
  # checkov:skip=CKV_GCP_84:Google-managed encryption; a customer-managed key is a compliance choice the platform leaves to its users.
  project       = var.project
  location      = var.location
  repository_id = var.repository
  format        = "DOCKER"
  description   = "App images pushed and signed by ${var.github_owner}/${var.github_repository}"
}

resource "google_iam_workload_identity_pool" "github" {
  project                   = var.project
  workload_identity_pool_id = var.pool
  display_name              = "GitHub Actions"
}

resource "google_iam_workload_identity_pool_provider" "github" {
  project                            = var.project
  workload_identity_pool_id          = google_iam_workload_identity_pool.github.workload_identity_pool_id
  workload_identity_pool_provider_id = var.provider_id
  display_name                       = "GitHub OIDC"
  attribute_mapping = {
    "google.subject"       = "assertion.sub"
    "attribute.repository" = "assertion.repository"
    "attribute.ref"        = "assertion.ref"
  }
  attribute_condition = "assertion.sub == 'repo:${var.github_owner}/${var.github_repository}:ref:refs/heads/${var.branch}'"

  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

resource "google_service_account" "ci" {
  project      = var.service_account_project
  account_id   = var.service_account_id
  display_name = "Pushes and signs the app image from ${var.github_owner}/${var.github_repository}"
}

resource "google_service_account_iam_member" "workflow" {
  service_account_id = google_service_account.ci.name
  role               = "roles/iam.workloadIdentityUser"
  member             = local.member
}

resource "google_artifact_registry_repository_iam_member" "push" {
  project    = var.project
  location   = var.location
  repository = google_artifact_registry_repository.app.name
  role       = "roles/artifactregistry.writer"
  member     = "serviceAccount:${google_service_account.ci.email}"
}

resource "google_kms_key_ring" "signing" {
  count = var.kms_key == null ? 0 : 1

  project  = var.kms_key.project
  location = var.kms_key.location
  name     = var.kms_key.key_ring
}

resource "google_kms_crypto_key" "signing" {
  # checkov:skip=CKV_GCP_43:Cloud KMS does not rotate asymmetric keys; rotating a cosign key is a new key and a new publicKey in platform.yaml.
  count = var.kms_key == null ? 0 : 1

  name     = var.kms_key.key
  key_ring = google_kms_key_ring.signing[0].id
  purpose  = "ASYMMETRIC_SIGN"

  version_template {
    algorithm        = "EC_SIGN_P256_SHA256"
    protection_level = "HSM"
  }

  lifecycle {
    prevent_destroy = true
  }
}

resource "google_kms_crypto_key_iam_member" "sign" {
  count = var.kms_key == null ? 0 : 1

  crypto_key_id = google_kms_crypto_key.signing[0].id
  role          = "roles/cloudkms.signerVerifier"
  member        = "serviceAccount:${google_service_account.ci.email}"
}
