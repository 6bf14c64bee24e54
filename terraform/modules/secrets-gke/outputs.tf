output "role" {
  description = "The custom role the controller holds on the environment's secrets."
  value       = google_project_iam_custom_role.external_secrets.id
}
