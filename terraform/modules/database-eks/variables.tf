variable "name" {
  description = "Name prefix of the database resources."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the cluster."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the DB subnet group."
  type        = list(string)
}

variable "allowed_cidr" {
  description = "Network allowed to reach PostgreSQL (the cluster network)."
  type        = string
}

variable "storage_gib" {
  description = "Allocated storage in GiB; autoscaling may double it."
  type        = number
}

variable "multi_az" {
  description = "Run a standby in another availability zone (production)."
  type        = bool
}

variable "backup_retention_days" {
  description = "Days of automated backups, which bound point-in-time recovery."
  type        = number
}
