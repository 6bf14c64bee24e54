output "endpoint" {
  description = "host:port of the database."
  value       = module.rds.db_instance_endpoint
}
