output "name" {
  description = "Bucket name."
  value       = google_storage_bucket.backups.name
}

output "writer_email" {
  description = "Service account the PostgreSQL pods write backups as."
  value       = google_service_account.writer.email
}
