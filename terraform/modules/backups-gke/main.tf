# GCS bucket for CloudNativePG base backups and WAL (point-in-time recovery).

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
