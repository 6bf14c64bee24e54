# An EKS cluster in its own VPC, built on the community terraform-aws-modules (majors matched to
# the aws provider 6 in versions.tf; docs/components.md says when each was checked).

data "aws_availability_zones" "available" {
  # checkov:skip=CKV_AWS_394:Only the first three zones are used (slice below), so a new zone changes nothing.
  state = "available"
}

locals {
  azs = slice(data.aws_availability_zones.available.names, 0, 3)
}

module "vpc" {
  # checkov:skip=CKV_TF_1:Registry modules are pinned by exact version range; the registry serves immutable releases.
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 6.6"

  name = var.name
  cidr = var.network_cidr
  azs  = local.azs

  private_subnets = [for i, _ in local.azs : cidrsubnet(var.network_cidr, 4, i)]
  public_subnets  = [for i, _ in local.azs : cidrsubnet(var.network_cidr, 8, 48 + i)]

  enable_nat_gateway   = true
  single_nat_gateway   = false
  enable_dns_hostnames = true

  enable_flow_log                      = true
  create_flow_log_cloudwatch_log_group = true
  create_flow_log_cloudwatch_iam_role  = true

  public_subnet_tags = {
    "kubernetes.io/role/elb" = 1
  }
  private_subnet_tags = {
    "kubernetes.io/role/internal-elb" = 1
    # Where Karpenter launches nodes.
    "karpenter.sh/discovery" = var.karpenter_discovery
  }
}

module "eks" {
  # checkov:skip=CKV_TF_1:Registry modules are pinned by exact version range; the registry serves immutable releases.
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.19"

  name               = var.name
  kubernetes_version = var.kubernetes_version

  vpc_id     = module.vpc.vpc_id
  subnet_ids = module.vpc.private_subnets

  endpoint_public_access                   = true
  enable_cluster_creator_admin_permissions = true
  # Workloads get AWS credentials through EKS Pod Identity (the agent add-on below), not IRSA.
  enable_irsa = false

  # Secrets are envelope-encrypted in etcd with a KMS key the module makes (rotated yearly by AWS).
  create_kms_key = true
  encryption_config = {
    resources = ["secrets"]
  }

  addons = {
    coredns    = {}
    kube-proxy = {}
    vpc-cni = {
      before_compute = true
    }
    eks-pod-identity-agent = {
      before_compute = true
    }
    # Persistent volumes (PostgreSQL, Loki, Prometheus): EKS ships no CSI driver and, from 1.30,
    # no default StorageClass; the add-on makes a gp3 one the default.
    aws-ebs-csi-driver = {
      configuration_values = jsonencode({ defaultStorageClass = { enabled = true } })
      pod_identity_association = [{
        role_arn        = module.ebs_csi_identity.iam_role_arn
        service_account = "ebs-csi-controller-sa"
      }]
    }
  }

  # Karpenter's nodes join with the cluster's node security group.
  node_security_group_tags = {
    "karpenter.sh/discovery" = var.karpenter_discovery
  }

  # The managed node group holds nodes_min nodes (the platform, Karpenter itself); Karpenter adds
  # the rest up to nodes_max worth of capacity (its NodePool's limits).
  eks_managed_node_groups = {
    default = {
      # Graviton instance families (m7g, c7g, t4g, ...) need the ARM image.
      ami_type       = var.arm ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD"
      instance_types = [var.node_size]
      min_size       = var.nodes_min
      max_size       = var.nodes_min
      desired_size   = var.nodes_min
    }
  }
}

# The EBS CSI controller's AWS permissions, through EKS Pod Identity.
module "ebs_csi_identity" {
  # checkov:skip=CKV_TF_1:Registry modules are pinned by exact version range; the registry serves immutable releases.
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "~> 2.8"

  name                      = "${var.name}-ebs-csi"
  attach_aws_ebs_csi_policy = true
}

# The AWS Load Balancer Controller's AWS permissions (it makes the Gateway's NLB), through EKS
# Pod Identity for the service account its chart runs as.
module "lb_controller_identity" {
  # checkov:skip=CKV_TF_1:Registry modules are pinned by exact version range; the registry serves immutable releases.
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "~> 2.8"

  name                            = "${var.name}-lb-controller"
  attach_aws_lb_controller_policy = true

  associations = {
    controller = {
      cluster_name    = module.eks.cluster_name
      namespace       = var.lb_controller_namespace
      service_account = var.lb_controller_service_account
    }
  }
}

# Karpenter: its controller role (through Pod Identity for its service account), the role and
# access entry of the nodes it launches, and the queue of spot interruptions and EC2 events.
module "karpenter" {
  # checkov:skip=CKV_TF_1:Registry modules are pinned by exact version range; the registry serves immutable releases.
  source  = "terraform-aws-modules/eks/aws//modules/karpenter"
  version = "~> 21.19"

  cluster_name    = module.eks.cluster_name
  namespace       = var.karpenter_namespace
  service_account = var.karpenter_service_account

  node_iam_role_name            = var.karpenter_node_role
  node_iam_role_use_name_prefix = false
  queue_name                    = var.karpenter_interruption_queue
}
