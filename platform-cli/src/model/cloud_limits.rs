//! What each cloud accepts for the cluster fields of a manifest: region names, node sizes and
//! network sizes, and the address ranges the rendered Terraform carves out of the network.
//!
//! `platform validate` refuses a value the cloud would refuse at `terraform apply`, or one that
//! would give a cluster the platform cannot land on (a network too small for `nodes.max`).

use ipnet::Ipv4Net;

use super::Provider;

/// AKS (Azure CNI overlay): the pod range, outside the VNet; each node takes a /24 of it.
pub const AKS_POD_CIDR: &str = "100.64.0.0/14";
/// AKS: the Service range, outside the VNet; the cluster DNS is its tenth address.
pub const AKS_SERVICE_CIDR: &str = "172.30.0.0/16";

/// Prefix lengths the cloud accepts for `networkCidr`, given how the Terraform module splits it.
pub fn network_prefixes(provider: Provider) -> Option<(u8, u8, &'static str)> {
    match provider {
        // AWS allows VPCs from /16 to /28; the module's public subnets are /(prefix+8).
        Provider::Eks => Some((
            16,
            20,
            "AWS VPCs are /16 at most; the public subnets are 8 bits longer, at most /28",
        )),
        // The node subnet is /(prefix+4); Azure's smallest subnet is /29.
        Provider::Aks => Some((8, 24, "the node subnet is 4 bits longer than the VNet, at most /28")),
        // The node subnet is /(prefix+4) and the pod range /(prefix+2), a /24 per node.
        Provider::Gke => Some((8, 20, "the node subnet is 4 bits longer than the network, at most /24")),
        Provider::Existing => None,
    }
}

/// The most nodes the network of `net` holds on `provider`, with the reason, where that is
/// smaller than anything the manifest may ask for.
pub fn node_capacity(provider: Provider, net: &Ipv4Net) -> Option<(u64, String)> {
    let prefix = u32::from(net.prefix_len());
    match provider {
        Provider::Gke => {
            // The pod range is /(prefix+2); GKE gives each node a /24 of it (110 pods per node).
            let nodes = 1u64 << 22u32.saturating_sub(prefix);
            Some((
                nodes,
                format!("the pod range /{} holds {nodes} per-node /24 blocks", prefix + 2),
            ))
        }
        Provider::Aks => {
            // The node subnet is /(prefix+4); Azure keeps 5 addresses of every subnet.
            let addresses = 1u64 << 28u32.saturating_sub(prefix);
            let nodes = addresses.saturating_sub(5);
            Some((
                nodes,
                format!("the node subnet /{} has {nodes} usable addresses", prefix + 4),
            ))
        }
        Provider::Eks | Provider::Existing => None,
    }
}

/// The address ranges outside `networkCidr` that the cluster itself uses.
pub fn reserved_ranges(provider: Provider) -> Vec<(Ipv4Net, &'static str)> {
    match provider {
        Provider::Aks => [
            (AKS_POD_CIDR, "the AKS pod range"),
            (AKS_SERVICE_CIDR, "the AKS Service range"),
        ]
        .into_iter()
        .filter_map(|(cidr, what)| cidr.parse().ok().map(|net| (net, what)))
        .collect(),
        _ => Vec::new(),
    }
}

/// The shape of a region name on `provider` (`None`: any), as a regular expression that
/// `validate` matches and `platform schema` carries, so editors warn as you type.
pub fn region_pattern(provider: Provider) -> Option<&'static str> {
    match provider {
        // us-east-1, eu-central-2, us-gov-west-1, ap-southeast-7
        Provider::Eks => Some("^[a-z]+(-[a-z]+){1,2}-[0-9]{1,2}$"),
        // westeurope, eastus2, germanywestcentral
        Provider::Aks => Some("^[a-z][a-z0-9]{3,}$"),
        // europe-west1, us-central1, northamerica-northeast2
        Provider::Gke => Some("^[a-z]+-[a-z]+[0-9]+$"),
        Provider::Existing => None,
    }
}

/// The shape of a node size on `provider` (`None`: any), as for [`region_pattern`].
pub fn node_size_pattern(provider: Provider) -> Option<&'static str> {
    match provider {
        // m6i.large, m7g.2xlarge, u-6tb1.metal
        Provider::Eks => Some("^[a-z0-9-]+\\.[a-z0-9-]+$"),
        // Standard_D4s_v5
        Provider::Aks => Some("^Standard_[A-Za-z0-9_]+$"),
        // e2-standard-4, n2d-highmem-8
        Provider::Gke => Some("^[a-z0-9]+(-[a-z0-9]+)+$"),
        Provider::Existing => None,
    }
}

/// The prefix lengths `networkCidr` may have on `provider`, as a pattern of IPv4 CIDRs.
pub fn network_pattern(provider: Provider) -> Option<String> {
    let (min, max, _) = network_prefixes(provider)?;
    let lengths: Vec<String> = (min..=max).map(|n| n.to_string()).collect();
    Some(format!("^([0-9]{{1,3}}\\.){{3}}[0-9]{{1,3}}/({})$", lengths.join("|")))
}

/// A name the Terraform modules build from the cluster's name (`<platform>-<environment>`), and
/// the most characters its cloud accepts. The suffixes are the modules' own (a test reads them
/// in `terraform/modules`); an IAM `name_prefix` may have at most 38, AWS appending 26 more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltName {
    pub what: &'static str,
    /// Appended to the cluster's name.
    pub suffix: &'static str,
    pub max: usize,
    /// The module that builds it, and the expression there.
    pub module: &'static str,
    pub expression: &'static str,
}

/// The names of `provider`'s modules that grow with the cluster's name, tightest limit first.
/// Long as a table is: one row per name a module builds.
pub fn built_names(provider: Provider) -> &'static [BuiltName] {
    const fn name(
        what: &'static str,
        suffix: &'static str,
        max: usize,
        module: &'static str,
        expression: &'static str,
    ) -> BuiltName {
        BuiltName {
            what,
            suffix,
            max,
            module,
            expression,
        }
    }
    match provider {
        Provider::Eks => {
            const {
                &[
                    // module.backups is named after the bucket, `<cluster>-backups`.
                    name(
                        "the backup writer's IAM role name prefix",
                        "-backups-writer-",
                        38,
                        "backups-eks/main.tf",
                        "\"${var.name}-writer\"",
                    ),
                    name(
                        "the load balancer controller's IAM role name prefix",
                        "-lb-controller-",
                        38,
                        "cluster-eks/main.tf",
                        "\"${var.name}-lb-controller\"",
                    ),
                    name(
                        "external-dns's IAM role name prefix",
                        "-dns-",
                        38,
                        "dns-eks/main.tf",
                        "\"${var.name}-dns\"",
                    ),
                    name(
                        "cert-manager's DNS-01 IAM role name prefix",
                        "-dns01-",
                        38,
                        "dns-eks/main.tf",
                        "\"${var.name}-dns01\"",
                    ),
                    name(
                        "the EBS CSI driver's IAM role name prefix",
                        "-ebs-csi-",
                        38,
                        "cluster-eks/main.tf",
                        "\"${var.name}-ebs-csi\"",
                    ),
                    name(
                        "the backup bucket's name (S3)",
                        "-backups",
                        63,
                        "backups-eks/main.tf",
                        "bucket = var.name",
                    ),
                ]
            }
        }
        Provider::Gke => {
            const {
                &[
                    name("the GKE cluster's name", "", 40, "cluster-gke/main.tf", "var.name"),
                    name(
                        "the backup bucket's name (GCS)",
                        "-backups",
                        63,
                        "backups-gke/main.tf",
                        "var.name",
                    ),
                ]
            }
        }
        Provider::Aks => {
            const {
                &[name(
                    "the AKS cluster's name",
                    "",
                    63,
                    "cluster-aks/main.tf",
                    "var.name",
                )]
            }
        }
        Provider::Existing => &[],
    }
}

/// The longest cluster name (`<platform>-<environment>`) whose built names all fit on `provider`.
pub fn longest_cluster_name(provider: Provider) -> usize {
    built_names(provider)
        .iter()
        .map(|b| b.max - b.suffix.len())
        .min()
        .unwrap_or(usize::MAX)
}

/// The cloud behind `provider`, as its limits are quoted.
pub fn cloud_name(provider: Provider) -> &'static str {
    match provider {
        Provider::Eks => "AWS",
        Provider::Aks => "Azure",
        Provider::Gke => "Google Cloud",
        Provider::Existing => "the cluster",
    }
}

fn matches(pattern: Option<&str>, value: &str) -> bool {
    pattern.is_none_or(|p| regex::Regex::new(p).is_ok_and(|re| re.is_match(value)))
}

/// Whether `region` has the shape of the provider's region names.
pub fn is_region(provider: Provider, region: &str) -> bool {
    matches(region_pattern(provider), region)
}

/// Whether `size` has the shape of the provider's node sizes.
pub fn is_node_size(provider: Provider, size: &str) -> bool {
    matches(node_size_pattern(provider), size)
}

/// Whether an EC2 instance type is ARM (Graviton: m7g, c6gn, t4g, x2gd, is4gen; or a1), whose
/// nodes need the ARM image.
pub fn is_arm_instance_type(size: &str) -> bool {
    let family = size.split('.').next().unwrap_or_default();
    if family == "a1" {
        return true;
    }
    let letters = family.trim_start_matches(|c: char| c.is_ascii_lowercase());
    let after_generation = letters.trim_start_matches(|c: char| c.is_ascii_digit());
    letters.len() != after_generation.len()
        && family.len() != letters.len()
        && after_generation.bytes().all(|b| b.is_ascii_lowercase())
        && after_generation.contains('g')
}

/// vCPUs and memory (MiB) of a node size, for the families whose shape follows from the name:
/// EC2 m/c/r (4/2/8 GiB per vCPU) and t; GCE standard/highmem/highcpu and e2 shared-core; Azure
/// D/E/F (4/8/2 GiB per vCPU, `l` for low memory). `None` for any other family.
pub fn node_shape(provider: Provider, size: &str) -> Option<(u32, u32)> {
    match provider {
        Provider::Eks => ec2_shape(size),
        Provider::Gke => gce_shape(size),
        Provider::Aks => azure_shape(size),
        Provider::Existing => None,
    }
}

fn ec2_shape(size: &str) -> Option<(u32, u32)> {
    let (family, kind) = size.split_once('.')?;
    let mut chars = family.chars();
    let class = chars.next()?;
    let generation_follows = chars.as_str().starts_with(|c: char| c.is_ascii_digit());
    if !generation_follows {
        return None;
    }
    let multiple = |kind: &str| -> Option<u32> {
        match kind {
            "large" => Some(2),
            "xlarge" => Some(4),
            _ => kind.strip_suffix("xlarge")?.parse::<u32>().ok().map(|n| n * 4),
        }
    };
    if class == 't' {
        let (vcpus, gib_eighths) = match kind {
            "nano" => (2, 4),
            "micro" => (2, 8),
            "small" => (2, 16),
            "medium" => (2, 32),
            _ => {
                let vcpus = multiple(kind)?;
                (vcpus, vcpus * 32)
            }
        };
        return Some((vcpus, gib_eighths * 128));
    }
    let per_vcpu_mib = match class {
        'm' => 4096,
        'c' => 2048,
        'r' => 8192,
        _ => return None,
    };
    let vcpus = if kind == "medium" { 1 } else { multiple(kind)? };
    Some((vcpus, vcpus * per_vcpu_mib))
}

fn gce_shape(size: &str) -> Option<(u32, u32)> {
    let mut parts = size.split('-');
    let (family, kind) = (parts.next()?, parts.next()?);
    let Some(count) = parts.next() else {
        return match (family, kind) {
            ("e2", "medium") => Some((2, 4096)),
            ("e2", "small") => Some((2, 2048)),
            ("e2", "micro") => Some((2, 1024)),
            _ => None,
        };
    };
    let vcpus: u32 = count.parse().ok()?;
    let per_vcpu_mib = match (family, kind) {
        ("n1", "standard") => 3840,
        ("n1", "highmem") => 6656,
        ("n1", "highcpu") => 921,
        (_, "standard") => 4096,
        (_, "highmem") => 8192,
        (_, "highcpu") => 1024,
        _ => return None,
    };
    Some((vcpus, vcpus * per_vcpu_mib))
}

fn azure_shape(size: &str) -> Option<(u32, u32)> {
    let (name, _version) = size.strip_prefix("Standard_")?.rsplit_once("_v")?;
    let mut chars = name.chars();
    let family = chars.next()?;
    let rest = chars.as_str();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    // The digits are ASCII, one byte each.
    let attributes = &rest[digits.len()..];
    if !attributes.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    let vcpus: u32 = digits.parse().ok()?;
    let per_vcpu_mib = match family {
        'D' if attributes.contains('l') => 2048,
        'D' => 4096,
        'E' => 8192,
        'F' => 2048,
        _ => return None,
    };
    Some((vcpus, vcpus * per_vcpu_mib))
}

/// What the kubelet and the system keep of a node (GKE's published reservation, the most
/// conservative of the three clouds' formulas): (millicores, MiB), eviction threshold included.
pub fn node_reserved(vcpus: u32, memory_mib: u32) -> (u32, u32) {
    let cpu_tiers = [(1000, 60), (1000, 10), (2000, 5)];
    let mut cpu_left = vcpus * 1000;
    let mut cpu_reserved_permille = 0;
    for (size, permille) in cpu_tiers {
        let take = cpu_left.min(size);
        cpu_reserved_permille += take * permille;
        cpu_left -= take;
    }
    cpu_reserved_permille += cpu_left * 25 / 10;
    let memory_tiers = [(4096, 250), (4096, 200), (8192, 100), (114_688, 60)];
    let mut memory_left = memory_mib;
    let mut memory_reserved_permille = 0;
    for (size, permille) in memory_tiers {
        let take = memory_left.min(size);
        memory_reserved_permille += take * permille;
        memory_left -= take;
    }
    memory_reserved_permille += memory_left * 20;
    let eviction_mib = 100;
    (
        cpu_reserved_permille.div_ceil(1000),
        memory_reserved_permille.div_ceil(1000) + eviction_mib,
    )
}

/// Reads one entry of `loadBalancerAddresses` the way MetalLB reads an IPAddressPool's
/// `addresses` (a CIDR, or `first-last` of one family with first ≤ last): its first and last address.
pub fn parse_address_range(text: &str) -> Result<(std::net::IpAddr, std::net::IpAddr), String> {
    if let Some((first, last)) = text.split_once('-') {
        let parse = |s: &str| {
            s.trim()
                .parse::<std::net::IpAddr>()
                .map_err(|_| format!("\"{}\" is not an IP address", s.trim()))
        };
        let (first, last) = (parse(first)?, parse(last)?);
        return match (first, last) {
            (std::net::IpAddr::V4(a), std::net::IpAddr::V4(b)) if a <= b => Ok((first, last)),
            (std::net::IpAddr::V6(a), std::net::IpAddr::V6(b)) if a <= b => Ok((first, last)),
            (a, b) if a.is_ipv4() == b.is_ipv4() => Err("the first address is after the last".into()),
            _ => Err("the two ends are of different IP families".into()),
        };
    }
    let net = text
        .parse::<ipnet::IpNet>()
        .map_err(|_| "neither a CIDR nor a range".to_string())?;
    if net.network() != net.addr() {
        return Err(format!("host bits are set; the network is {}", net.trunc()));
    }
    Ok((net.network(), net.broadcast()))
}

/// GKE machine families of ARM nodes, which GKE taints `kubernetes.io/arch=arm64:NoSchedule`.
pub fn is_gke_arm_machine_type(size: &str) -> bool {
    ["t2a-", "c4a-", "n4a-"].iter().any(|family| size.starts_with(family))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The limits follow the modules: each name is built where the table says, as it says.
    #[test]
    fn built_names_are_the_modules_own() {
        for provider in [Provider::Eks, Provider::Aks, Provider::Gke] {
            for b in built_names(provider) {
                let path = format!("{}/../terraform/modules/{}", env!("CARGO_MANIFEST_DIR"), b.module);
                let module = std::fs::read_to_string(&path).expect("module file");
                let squeezed: String = module.split_whitespace().collect::<Vec<_>>().join(" ");
                assert!(squeezed.contains(b.expression), "{path} no longer has {}", b.expression);
            }
        }
    }

    #[test]
    fn arm_instance_types() {
        for arm in [
            "m7g.large",
            "c6gn.xlarge",
            "t4g.medium",
            "x2gd.xlarge",
            "is4gen.large",
            "a1.large",
            "m8g.large",
            "r6gd.large",
        ] {
            assert!(is_arm_instance_type(arm), "{arm}");
        }
        for x86 in [
            "m6i.large",
            "g4ad.xlarge",
            "g5.xlarge",
            "m7i-flex.large",
            "c7a.large",
            "inf2.xlarge",
            "p4d.24xlarge",
        ] {
            assert!(!is_arm_instance_type(x86), "{x86}");
        }
    }

    #[test]
    fn region_shapes() {
        assert!(is_region(Provider::Eks, "eu-west-1") && is_region(Provider::Eks, "us-gov-west-1"));
        assert!(!is_region(Provider::Eks, "westeurope") && !is_region(Provider::Eks, "europe-west1"));
        assert!(is_region(Provider::Aks, "westeurope") && is_region(Provider::Aks, "eastus2"));
        assert!(!is_region(Provider::Aks, "eu-west-1") && !is_region(Provider::Aks, "West Europe"));
        assert!(is_region(Provider::Gke, "europe-west1") && is_region(Provider::Gke, "northamerica-northeast2"));
        assert!(!is_region(Provider::Gke, "eu-west-1") && !is_region(Provider::Gke, "europe-west"));
    }

    #[test]
    fn node_shapes_follow_from_the_names() {
        assert_eq!(node_shape(Provider::Eks, "m6i.large"), Some((2, 8192)));
        assert_eq!(node_shape(Provider::Eks, "m7g.2xlarge"), Some((8, 32768)));
        assert_eq!(node_shape(Provider::Eks, "c6g.medium"), Some((1, 2048)));
        assert_eq!(node_shape(Provider::Eks, "t3.large"), Some((2, 8192)));
        assert_eq!(node_shape(Provider::Eks, "t3.medium"), Some((2, 4096)));
        assert_eq!(node_shape(Provider::Eks, "i4i.large"), None);
        assert_eq!(node_shape(Provider::Gke, "e2-standard-4"), Some((4, 16384)));
        assert_eq!(node_shape(Provider::Gke, "n1-standard-2"), Some((2, 7680)));
        assert_eq!(node_shape(Provider::Gke, "e2-medium"), Some((2, 4096)));
        assert_eq!(node_shape(Provider::Gke, "a2-ultragpu-1g"), None);
        assert_eq!(node_shape(Provider::Aks, "Standard_D4s_v5"), Some((4, 16384)));
        assert_eq!(node_shape(Provider::Aks, "Standard_D8pls_v5"), Some((8, 16384)));
        assert_eq!(node_shape(Provider::Aks, "Standard_E4as_v5"), Some((4, 32768)));
        assert_eq!(node_shape(Provider::Aks, "Standard_B2ms"), None);
        // Whatever a manifest holds, the shape is judged without panicking.
        assert_eq!(node_shape(Provider::Eks, "𐓟6i.large"), None);
        assert_eq!(node_shape(Provider::Aks, "Standard_D𐓟4s_v5"), None);
    }

    #[test]
    fn reservations_follow_gkes_published_tiers() {
        // 2 vCPU: 6% of the first core, 1% of the second; 8 GiB: 25% of 4 GiB, 20% of 4 GiB.
        assert_eq!(node_reserved(2, 8192), (70, 1024 + 820 + 100));
        // 4 vCPU / 16 GiB: + 0.5% of cores 3-4; + 10% of the next 8 GiB.
        assert_eq!(node_reserved(4, 16384), (80, 2663 + 100));
    }

    #[test]
    fn address_ranges_as_metallb_reads_them() {
        assert!(parse_address_range("192.168.1.240/28").is_ok());
        assert!(parse_address_range("192.168.1.240-192.168.1.250").is_ok());
        assert!(parse_address_range("fc00::10-fc00::20").is_ok());
        assert_eq!(
            parse_address_range("192.168.1.250-192.168.1.240"),
            Err("the first address is after the last".into())
        );
        assert_eq!(
            parse_address_range("192.168.1.1/24"),
            Err("host bits are set; the network is 192.168.1.0/24".into())
        );
        assert!(parse_address_range("192.168.1.240-fc00::1").is_err());
        assert!(parse_address_range("lab-net").is_err());
    }

    #[test]
    fn node_size_shapes() {
        assert!(is_node_size(Provider::Eks, "m6i.large") && !is_node_size(Provider::Eks, "Standard_D4s_v5"));
        assert!(is_node_size(Provider::Aks, "Standard_D4s_v5") && !is_node_size(Provider::Aks, "m6i.large"));
        assert!(is_node_size(Provider::Gke, "e2-standard-4") && !is_node_size(Provider::Gke, "m6i.large"));
    }

    #[test]
    fn gke_pod_range_bounds_the_nodes() {
        let net: Ipv4Net = "10.0.0.0/16".parse().unwrap_or_default();
        assert_eq!(node_capacity(Provider::Gke, &net).map(|(n, _)| n), Some(64));
        let net: Ipv4Net = "10.0.0.0/20".parse().unwrap_or_default();
        assert_eq!(node_capacity(Provider::Aks, &net).map(|(n, _)| n), Some(251));
    }
}
