output "endpoint" {
  description = "host:port of the database."
  value       = module.rds.db_instance_endpoint
}

output "master_secret_arn" {
  description = "ARN of the Secrets Manager secret RDS keeps the master user's password in (manage_master_user_password); read it for the Secret app-database-owner."
  value       = module.rds.db_instance_master_user_secret_arn
}
