# A private GKE cluster in its own VPC, built on the community terraform-google-modules (majors
# matched to the google provider 7 in versions.tf).

module "network" {
  # checkov:skip=CKV_TF_1:Registry modules are pinned by exact version range; the registry serves immutable releases.
  source  = "terraform-google-modules/network/google"
  version = "~> 18.1"

  project_id   = var.project
  network_name = var.name

  subnets = [{
    subnet_name           = "nodes"
    subnet_ip             = cidrsubnet(var.network_cidr, 4, 0)
    subnet_region         = var.region
    subnet_private_access = "true"
    subnet_flow_logs      = "true"
  }]

  secondary_ranges = {
    nodes = [
      { range_name = "pods", ip_cidr_range = cidrsubnet(var.network_cidr, 2, 1) },
      { range_name = "services", ip_cidr_range = cidrsubnet(var.network_cidr, 4, 1) },
    ]
  }
}

# Application-layer Secrets encryption: GKE encrypts Secrets in etcd with this Cloud KMS key,
# as its own service agent. Key rings cannot be deleted: re-creating an environment of the same
# name takes the existing ring over (`terraform import`).
data "google_project" "this" {
  project_id = var.project
}

resource "google_kms_key_ring" "secrets" {
  project  = var.project
  name     = "${var.name}-secrets"
  location = var.region
}

resource "google_kms_crypto_key" "secrets" {
  name            = "etcd-secrets"
  key_ring        = google_kms_key_ring.secrets.id
  rotation_period = "7776000s" # 90 days

  # Destroying it would leave every Secret of the cluster (and its backups of etcd) unreadable.
  lifecycle {
    prevent_destroy = true
  }
}

resource "google_kms_crypto_key_iam_member" "gke" {
  crypto_key_id = google_kms_crypto_key.secrets.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:service-${data.google_project.this.number}@container-engine-robot.iam.gserviceaccount.com"
}

module "gke" {
  # checkov:skip=CKV_TF_1:Registry modules are pinned by exact version range; the registry serves immutable releases.
  source  = "terraform-google-modules/kubernetes-engine/google//modules/private-cluster"
  version = "~> 44.2"

  project_id         = var.project
  name               = var.name
  region             = var.region
  kubernetes_version = var.kubernetes_version

  network           = module.network.network_name
  subnetwork        = "nodes"
  ip_range_pods     = "pods"
  ip_range_services = "services"

  enable_private_nodes = true
  # GKE Dataplane V2 (Cilium) enforces NetworkPolicy itself; the Calico add-on must stay off.
  datapath_provider        = "ADVANCED_DATAPATH"
  network_policy           = false
  enable_shielded_nodes    = true
  identity_namespace       = "enabled"
  release_channel          = "REGULAR"
  deletion_protection      = true
  remove_default_node_pool = true

  node_pools = [{
    name         = "default"
    machine_type = var.node_size
    # The cluster autoscaler's bounds for the whole regional pool (min_count/max_count would be
    # per zone, tripling them).
    total_min_count = var.nodes_min
    total_max_count = var.nodes_max
    auto_upgrade    = true
    image_type      = "COS_CONTAINERD"
  }]

  database_encryption = [{
    state    = "ENCRYPTED"
    key_name = google_kms_crypto_key.secrets.id
  }]

  # The service agent must hold the key before the cluster is made with it.
  depends_on = [google_kms_crypto_key_iam_member.gke]
}
