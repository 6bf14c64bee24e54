# GCS bucket for CloudNativePG base backups and WAL (point-in-time recovery), and the Google
# service account the PostgreSQL pods write it as, through GKE workload identity.

resource "google_storage_bucket" "backups" {
  # checkov:skip=CKV_GCP_62:Access logging needs a separate log bucket the platform does not own yet.
  name                        = var.name
  project                     = var.project
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      age = var.retention_days + 1
    }
    action {
      type = "Delete"
    }
  }
}

# The writer, impersonated by the PostgreSQL pods' Kubernetes service account (CloudNativePG names
# it after the cluster; the Cluster annotates it with this account's email). Written out rather
# than through the workload-identity module, which grants project-wide roles: this account may
# touch this bucket only.
resource "google_service_account" "writer" {
  project      = var.project
  account_id   = var.writer_account_id
  display_name = "PostgreSQL backups of ${var.name}"
}

resource "google_service_account_iam_member" "writer_workload_identity" {
  service_account_id = google_service_account.writer.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project}.svc.id.goog[${var.namespace}/${var.service_account}]"
}

resource "google_storage_bucket_iam_member" "writer" {
  bucket = google_storage_bucket.backups.name
  role   = "roles/storage.objectAdmin"
  member = google_service_account.writer.member
}
