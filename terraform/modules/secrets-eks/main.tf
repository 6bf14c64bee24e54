# The environment's secrets in AWS Secrets Manager: one empty secret per random or supplied key
# of the secrets table (values are written by External Secrets Operator's PushSecrets, never by
# Terraform, so none is in the state), and the IAM role its controller reads and writes them
# with, bound to its service account through EKS Pod Identity.

resource "aws_kms_key" "secrets" {
  # checkov:skip=CKV2_AWS_64:The default key policy (account root) applies; access is granted through IAM roles.
  description         = "Encrypts the secrets of ${var.name}"
  enable_key_rotation = true
}

resource "aws_secretsmanager_secret" "this" {
  # checkov:skip=CKV2_AWS_57:Secrets Manager's rotation runs a Lambda; `platform secrets rotate` rolls each value out in the order its readers need instead.
  for_each = toset(var.names)

  name                    = each.value
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = 7

  # External Secrets Operator writes only to secrets it is told it manages.
  tags = {
    managed-by = "external-secrets"
  }
}

module "external_secrets" {
  # checkov:skip=CKV_TF_1:Registry modules are pinned by exact version range; the registry serves immutable releases.
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "~> 2.8"

  name                 = "${var.name}-external-secrets"
  attach_custom_policy = true
  policy_statements = [
    {
      sid       = "ReadAndWriteTheseSecrets"
      actions   = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"]
      resources = [for s in aws_secretsmanager_secret.this : s.arn]
    },
    {
      sid       = "WithTheirKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [aws_kms_key.secrets.arn]
    },
  ]

  associations = {
    external_secrets = {
      cluster_name    = var.cluster_name
      namespace       = var.namespace
      service_account = var.service_account
    }
  }
}
