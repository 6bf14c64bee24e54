# The environment's Cloud DNS zone (made, or looked up where it exists), and the right to change
# its records for external-dns's service account, and cert-manager's where it answers DNS-01
# challenges: granted to the Kubernetes service accounts themselves (GKE Workload Identity
# Federation), so no Google service account or key exists to leak.

data "google_project" "this" {
  project_id = var.project
}

resource "google_dns_managed_zone" "this" {
  # checkov:skip=CKV_GCP_16:DNSSEC needs a DS record at the parent zone, which the platform does not own.
  count = var.create_zone ? 1 : 0

  project     = var.project
  name        = var.zone_name
  dns_name    = "${var.zone}."
  description = "Records of the platform's Gateway (external-dns)"
  visibility  = "public"
}

data "google_dns_managed_zone" "this" {
  count = var.create_zone ? 0 : 1

  project = var.project
  name    = var.zone_name
}

locals {
  zone_name    = var.create_zone ? google_dns_managed_zone.this[0].name : data.google_dns_managed_zone.this[0].name
  name_servers = var.create_zone ? google_dns_managed_zone.this[0].name_servers : data.google_dns_managed_zone.this[0].name_servers
  pool         = "principal://iam.googleapis.com/projects/${data.google_project.this.number}/locations/global/workloadIdentityPools/${var.project}.svc.id.goog/subject"
  writers = merge(
    { external_dns = "${local.pool}/ns/${var.external_dns_namespace}/sa/${var.external_dns_service_account}" },
    var.dns01 ? { cert_manager = "${local.pool}/ns/${var.cert_manager_namespace}/sa/${var.cert_manager_service_account}" } : {},
  )
}

resource "google_dns_managed_zone_iam_member" "writer" {
  for_each = local.writers

  project      = var.project
  managed_zone = local.zone_name
  role         = "roles/dns.admin"
  member       = each.value
}

# external-dns lists the project's zones to find this one.
resource "google_project_iam_member" "zone_reader" {
  project = var.project
  role    = "roles/dns.reader"
  member  = local.writers["external_dns"]
}
