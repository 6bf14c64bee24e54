# What the app workflow needs in AWS: the ECR repository it pushes to, GitHub's OIDC provider,
# a role that trusts only the GitOps repository's tracked branch and may push there and, when
# platform.yaml signs through AWS KMS, the cosign key (the private half never leaves KMS).

locals {
  oidc_host = "token.actions.githubusercontent.com"
  subject   = "repo:${var.github_owner}/${var.github_repository}:ref:refs/heads/${var.branch}"
}

resource "aws_kms_key" "images" {
  # checkov:skip=CKV2_AWS_64:The default key policy (account root) applies; ECR reaches the key through grants.
  description         = "Encrypts the ${var.repository} ECR repository"
  enable_key_rotation = true
}

resource "aws_ecr_repository" "app" {
  # checkov:skip=CKV_AWS_51:cosign re-pushes the sha256-<digest>.sig tag when a digest gets another signature; clusters pull by digest only.
  name                 = var.repository
  image_tag_mutability = "MUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.images.arn
  }
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 1 : 0

  url            = "https://${local.oidc_host}"
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 0 : 1

  url = "https://${local.oidc_host}"
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = var.create_oidc_provider ? aws_iam_openid_connect_provider.github[*].arn : data.aws_iam_openid_connect_provider.github[*].arn
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:sub"
      values   = [local.subject]
    }
  }
}

resource "aws_iam_role" "ci" {
  name                 = var.role_name
  description          = "Pushes and signs the app image from ${var.github_owner}/${var.github_repository}@${var.branch}"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "push_and_sign" {
  # checkov:skip=CKV_AWS_356:ecr:GetAuthorizationToken has no resource-level permissions; "*" is the only resource it takes.
  statement {
    sid       = "Login"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "Push"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [aws_ecr_repository.app.arn]
  }

  dynamic "statement" {
    for_each = aws_kms_key.signing[*].arn
    content {
      sid       = "Sign"
      actions   = ["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "push_and_sign" {
  name   = "push-and-sign"
  role   = aws_iam_role.ci.id
  policy = data.aws_iam_policy_document.push_and_sign.json
}

resource "aws_kms_key" "signing" {
  # checkov:skip=CKV_AWS_7:AWS KMS does not rotate asymmetric keys; rotating a cosign key is a new key and a new publicKey in platform.yaml.
  # checkov:skip=CKV2_AWS_64:The default key policy (account root) applies; the workflow's role signs through its IAM policy.
  count = var.kms_alias == null ? 0 : 1

  description              = "cosign key signing the app images"
  key_usage                = "SIGN_VERIFY"
  customer_master_key_spec = "ECC_NIST_P256"
}

resource "aws_kms_alias" "signing" {
  count = var.kms_alias == null ? 0 : 1

  name          = "alias/${var.kms_alias}"
  target_key_id = aws_kms_key.signing[0].key_id
}
