output "name" {
  description = "Bucket name."
  value       = aws_s3_bucket.backups.id
}

output "arn" {
  description = "Bucket ARN, for the IAM role of the database's service account."
  value       = aws_s3_bucket.backups.arn
}

output "writer_role_arn" {
  description = "IAM role the PostgreSQL pods assume to write backups."
  value       = module.writer.iam_role_arn
}
