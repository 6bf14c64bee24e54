# What External Secrets Operator may do in Google Secret Manager: make, read and add versions to
# the environment's secrets (their names start with the prefix), as its controller's Kubernetes
# service account itself (GKE Workload Identity Federation), so no Google service account or key
# exists to leak. Terraform makes no secrets here: the operator's `IfNotExists` push counts a
# secret without versions as existing and would never fill it, so each secret is made by the
# first push of its value. No value is in the state.

data "google_project" "this" {
  project_id = var.project
}

resource "google_project_iam_custom_role" "external_secrets" {
  project     = var.project
  role_id     = replace("${var.prefix}_external_secrets", "-", "_")
  title       = "External Secrets Operator of ${var.prefix}"
  description = "Make, read and add versions to the secrets of ${var.prefix}."
  permissions = [
    "secretmanager.secrets.create",
    "secretmanager.secrets.get",
    "secretmanager.secrets.update",
    "secretmanager.versions.access",
    "secretmanager.versions.add",
    "secretmanager.versions.get",
  ]
}

resource "google_project_iam_member" "external_secrets" {
  project = var.project
  role    = google_project_iam_custom_role.external_secrets.id
  member  = "principal://iam.googleapis.com/projects/${data.google_project.this.number}/locations/global/workloadIdentityPools/${var.project}.svc.id.goog/subject/ns/${var.namespace}/sa/${var.service_account}"

  condition {
    title      = "${var.prefix} secrets only"
    expression = "resource.name.startsWith(\"projects/${data.google_project.this.number}/secrets/${var.prefix}-\")"
  }
}
