output "role_arn" {
  description = "The role the app workflow assumes: platform.yaml's registry.login.awsRoleArn."
  value       = aws_iam_role.ci.arn
}

output "repository_url" {
  description = "Where the app image is pushed."
  value       = aws_ecr_repository.app.repository_url
}

output "signing_key" {
  description = "platform.yaml's signing.privateKey.kms, when the key is in AWS KMS."
  value       = var.kms_alias == null ? null : "awskms:///${aws_kms_alias.signing[0].name}"
}
