# The environment's Route 53 zone (made, or looked up where it exists), and the IAM roles that
# may change its records: external-dns's, and cert-manager's where it answers DNS-01 challenges,
# each bound to its service account through EKS Pod Identity.

resource "aws_route53_zone" "this" {
  # checkov:skip=CKV2_AWS_38:DNSSEC signing needs a KMS key in us-east-1 and a DS record at the parent, which the platform does not own.
  # checkov:skip=CKV2_AWS_39:Query logging needs a CloudWatch log group in us-east-1 the platform does not own yet.
  count = var.create_zone ? 1 : 0

  name = var.zone
}

data "aws_route53_zone" "this" {
  count = var.create_zone ? 0 : 1

  name         = var.zone
  private_zone = false
}

locals {
  zone_id      = var.create_zone ? aws_route53_zone.this[0].zone_id : data.aws_route53_zone.this[0].zone_id
  zone_arn     = var.create_zone ? aws_route53_zone.this[0].arn : data.aws_route53_zone.this[0].arn
  name_servers = var.create_zone ? aws_route53_zone.this[0].name_servers : data.aws_route53_zone.this[0].name_servers
}

# external-dns lists the account's zones to find this one, then changes only its records.
module "external_dns" {
  # checkov:skip=CKV_TF_1:Registry modules are pinned by exact version range; the registry serves immutable releases.
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "~> 2.8"

  name                 = "${var.name}-dns"
  attach_custom_policy = true
  policy_statements = [
    {
      sid       = "ChangeRecords"
      actions   = ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets", "route53:ListTagsForResources"]
      resources = [local.zone_arn]
    },
    {
      sid       = "FindZones"
      actions   = ["route53:ListHostedZones"]
      resources = ["*"]
    },
  ]

  associations = {
    external_dns = {
      cluster_name    = var.cluster_name
      namespace       = var.external_dns_namespace
      service_account = var.external_dns_service_account
    }
  }
}

# cert-manager writes _acme-challenge TXT records in this zone and waits for their change.
module "dns01" {
  # checkov:skip=CKV_TF_1:Registry modules are pinned by exact version range; the registry serves immutable releases.
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "~> 2.8"
  count   = var.dns01 ? 1 : 0

  name                 = "${var.name}-dns01"
  attach_custom_policy = true
  policy_statements = [
    {
      sid       = "ChangeRecords"
      actions   = ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"]
      resources = [local.zone_arn]
    },
    {
      sid       = "WaitForChanges"
      actions   = ["route53:GetChange"]
      resources = ["arn:aws:route53:::change/*"]
    },
    {
      sid       = "FindZone"
      actions   = ["route53:ListHostedZonesByName"]
      resources = ["*"]
    },
  ]

  associations = {
    cert_manager = {
      cluster_name    = var.cluster_name
      namespace       = var.cert_manager_namespace
      service_account = var.cert_manager_service_account
    }
  }
}
