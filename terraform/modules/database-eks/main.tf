# The managed-PostgreSQL option on AWS: Amazon RDS with automated backups and PITR.
# The app's connection URI is put in the Secret app-database by the platform team,
# never by Terraform output into Git.

resource "aws_security_group" "database" {
  # checkov:skip=CKV2_AWS_5:Attached to the RDS instance by module.rds (vpc_security_group_ids), which checkov cannot see offline.
  name        = "${var.name}-postgres"
  description = "PostgreSQL from inside the cluster network only"
  vpc_id      = var.vpc_id

  ingress {
    description = "PostgreSQL from the cluster network"
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = [var.allowed_cidr]
  }
}

module "rds" {
  # checkov:skip=CKV_TF_1:Registry modules are pinned by exact version range; the registry serves immutable releases.
  source  = "terraform-aws-modules/rds/aws"
  version = "~> 7.2"

  identifier           = "${var.name}-postgres"
  engine               = "postgres"
  engine_version       = "16"
  family               = "postgres16"
  major_engine_version = "16"
  instance_class       = "db.m6g.large"

  allocated_storage     = var.storage_gib
  max_allocated_storage = var.storage_gib * 2
  storage_encrypted     = true

  db_name                     = "app"
  username                    = "platform_owner"
  manage_master_user_password = true

  multi_az               = var.multi_az
  create_db_subnet_group = true
  subnet_ids             = var.subnet_ids
  vpc_security_group_ids = [aws_security_group.database.id]

  backup_retention_period             = var.backup_retention_days
  deletion_protection                 = true
  iam_database_authentication_enabled = true
  performance_insights_enabled        = true
  auto_minor_version_upgrade          = true
  copy_tags_to_snapshot               = true
}
