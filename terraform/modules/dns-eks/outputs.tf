output "zone_id" {
  description = "Route 53 hosted zone id."
  value       = local.zone_id
}

output "name_servers" {
  description = "The zone's name servers: delegate the zone to them from its parent."
  value       = local.name_servers
}
