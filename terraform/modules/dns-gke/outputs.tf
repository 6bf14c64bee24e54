output "name_servers" {
  description = "The zone's name servers: delegate the zone to them from its parent."
  value       = local.name_servers
}
