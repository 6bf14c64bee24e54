output "secret_arns" {
  description = "ARN of each secret, by name."
  value       = { for name, s in aws_secretsmanager_secret.this : name => s.arn }
}
