# S3 bucket for CloudNativePG base backups and WAL (point-in-time recovery), and the IAM role
# the PostgreSQL pods write it with, bound to their service account through EKS Pod Identity.

resource "aws_kms_key" "backups" {
  # checkov:skip=CKV2_AWS_64:The default key policy (account root) applies; access is granted through IAM roles.
  description         = "Encrypts ${var.name}"
  enable_key_rotation = true
}

resource "aws_s3_bucket" "backups" {
  # checkov:skip=CKV_AWS_144:Cross-region replication is a phase-2 decision (seed section 4); PITR stays in-region.
  # checkov:skip=CKV_AWS_18:Access logging needs a separate log bucket the platform does not own yet.
  # checkov:skip=CKV2_AWS_62:No consumer subscribes to backup object events.
  bucket = var.name
}

resource "aws_s3_bucket_versioning" "backups" {
  bucket = aws_s3_bucket.backups.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "backups" {
  bucket = aws_s3_bucket.backups.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.backups.arn
    }
  }
}

resource "aws_s3_bucket_public_access_block" "backups" {
  bucket = aws_s3_bucket.backups.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "backups" {
  bucket = aws_s3_bucket.backups.id

  rule {
    id     = "expire"
    status = "Enabled"

    filter {}

    expiration {
      days = var.retention_days + 1
    }

    noncurrent_version_expiration {
      noncurrent_days = 7
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# CloudNativePG runs barman-cloud in the instance pods, as the service account named after the
# PostgreSQL cluster: that account, and nothing else, may write and prune the bucket.
module "writer" {
  # checkov:skip=CKV_TF_1:Registry modules are pinned by exact version range; the registry serves immutable releases.
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "~> 2.8"

  name                 = "${var.name}-writer"
  attach_custom_policy = true
  policy_statements = [
    {
      sid       = "ListBackups"
      actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
      resources = [aws_s3_bucket.backups.arn]
    },
    {
      sid       = "ReadWriteBackups"
      actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
      resources = ["${aws_s3_bucket.backups.arn}/*"]
    },
    {
      sid       = "EncryptBackups"
      actions   = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
      resources = [aws_kms_key.backups.arn]
    },
  ]

  associations = {
    postgres = {
      cluster_name    = var.cluster_name
      namespace       = var.namespace
      service_account = var.service_account
    }
  }
}
