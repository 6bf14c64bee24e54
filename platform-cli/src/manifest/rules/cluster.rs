//! An environment's cluster: where it runs, its size, network, Kubernetes version, replicas and
//! admission policy (`environments[].cluster`, `replicas`, `policy`).

use std::str::FromStr;

use super::Checker;
use super::text::is_gcp_project;
use crate::model::cloud_limits;
use crate::model::{PolicyMode, Provider, limits};
use ipnet::Ipv4Net;

pub(super) fn check_cluster(c: &mut Checker<'_>, p: &str, env: &crate::model::Environment) {
    let cl = &env.cluster;
    let p = format!("{p}/cluster");
    if cl.provider == Provider::Existing {
        check_existing(c, &p, cl);
    } else {
        check_managed(c, &p, cl);
    }
    check_gcp_project(c, &p, cl);
    check_kubernetes_version(c, &p, cl);
    check_nodes_and_network(c, &p, cl);
}

/// A cluster Terraform makes: where, how big, and none of an existing cluster's fields.
fn check_managed(c: &mut Checker<'_>, p: &str, cl: &crate::model::Cluster) {
    let provider = cl.provider.in_prose();
    match &cl.region {
        None => c.missing(p, "region", format!("the {provider} region"), region_hint(cl.provider)),
        Some(region) if !cloud_limits::is_region(cl.provider, region) => c.invalid(
            &format!("{p}/region"),
            format!("\"{region}\" is not a region name"),
            format!("the {provider} region"),
            region_hint(cl.provider),
        ),
        Some(_) => {}
    }
    match cl.node_size.as_deref() {
        None => c.missing(
            p,
            "nodeSize",
            format!("the {provider} worker node size"),
            node_size_hint(cl.provider),
        ),
        Some(size) if !cloud_limits::is_node_size(cl.provider, size) => c.invalid(
            &format!("{p}/nodeSize"),
            format!("\"{size}\" is not a node size on {provider}"),
            format!("the {provider} worker node size"),
            node_size_hint(cl.provider),
        ),
        Some(size) if cl.provider == Provider::Gke && cloud_limits::is_gke_arm_machine_type(size) => c.invalid(
            &format!("{p}/nodeSize"),
            format!("\"{size}\" is an ARM machine type, which GKE taints kubernetes.io/arch=arm64:NoSchedule"),
            "an x86 GCE machine type",
            "the platform's components do not tolerate that taint; use e.g. e2-standard-4 or n2d-standard-4",
        ),
        Some(_) => {}
    }
    if cl.kubeconfig_context.is_some() {
        c.invalid(
            &format!("{p}/kubeconfigContext"),
            format!("`kubeconfigContext` has no effect on {provider}"),
            "kubeconfigContext only with provider: existing",
            "remove it: Terraform creates the cluster and its credentials",
        );
    }
    if !cl.load_balancer_addresses.is_empty() {
        c.invalid(
            &format!("{p}/loadBalancerAddresses"),
            format!("`loadBalancerAddresses` has no effect on {provider}"),
            "loadBalancerAddresses only with provider: existing",
            format!("remove it: {provider} provides load balancers"),
        );
    }
    if cl.control_plane_metrics {
        c.invalid(
            &format!("{p}/controlPlaneMetrics"),
            format!("`controlPlaneMetrics` has no effect on {provider}"),
            "controlPlaneMetrics only with provider: existing",
            format!("remove it: {provider} runs the control plane where Prometheus cannot scrape it"),
        );
    }
}

/// A cluster that exists: how to reach it, MetalLB's addresses, and none of a cloud's fields.
fn check_existing(c: &mut Checker<'_>, p: &str, cl: &crate::model::Cluster) {
    if cl.kubeconfig_context.as_deref().is_none_or(|s| s.trim().is_empty()) {
        c.missing(
            p,
            "kubeconfigContext",
            "the kubeconfig context of the existing cluster",
            "run `kubectl config get-contexts` and use the NAME column",
        );
    }
    let nodes_network = cl.network_cidr.parse::<ipnet::IpNet>().ok();
    for (i, addresses) in cl.load_balancer_addresses.iter().enumerate() {
        let pointer = format!("{p}/loadBalancerAddresses/{i}");
        match cloud_limits::parse_address_range(addresses) {
            Err(why) => c.invalid(
                &pointer,
                format!("\"{addresses}\" is not an address range: {why}"),
                "a CIDR (192.168.1.240/28) or a range first-last (192.168.1.240-192.168.1.250)",
                "use free addresses of the nodes' network that no DHCP server hands out",
            ),
            Ok((first, last)) => {
                if let Some(net) = nodes_network.filter(|n| !(n.contains(&first) && n.contains(&last))) {
                    c.invalid(
                        &pointer,
                        format!("\"{addresses}\" is outside the nodes' network {net}"),
                        format!("addresses inside {net}"),
                        "MetalLB announces them over layer 2, which only reaches the nodes' own network",
                    );
                }
            }
        }
    }
    for (field, set) in [("region", cl.region.is_some()), ("nodeSize", cl.node_size.is_some())] {
        if set {
            c.invalid(
                &format!("{p}/{field}"),
                format!("`{field}` has no effect on an existing cluster"),
                format!("{field} only with provider eks, aks or gke"),
                "remove it: the cluster already exists",
            );
        }
    }
}

/// `gcpProject`: required on GKE, a project id, and nowhere else.
fn check_gcp_project(c: &mut Checker<'_>, p: &str, cl: &crate::model::Cluster) {
    let provider = cl.provider.in_prose();
    match (cl.provider, &cl.gcp_project) {
        (Provider::Gke, None) => c.missing(p, "gcpProject", "the GCP project id", "e.g. acme-platform-prod"),
        (Provider::Gke, Some(project)) if !is_gcp_project(project) => c.invalid(
            &format!("{p}/gcpProject"),
            format!("\"{project}\" is not a GCP project id"),
            "6-30 lowercase letters, digits and '-', starting with a letter",
            "use the project ID, not its display name",
        ),
        (Provider::Gke, Some(_)) | (_, None) => {}
        (_, Some(_)) => c.invalid(
            &format!("{p}/gcpProject"),
            format!("`gcpProject` has no effect on {provider}"),
            "gcpProject only with provider: gke",
            "remove it",
        ),
    }
}

/// The node bounds and the nodes' network.
fn check_nodes_and_network(c: &mut Checker<'_>, p: &str, cl: &crate::model::Cluster) {
    if cl.nodes.min == 0 || cl.nodes.min > cl.nodes.max {
        c.invalid(
            &format!("{p}/nodes"),
            format!(
                "node bounds min {} / max {} are inconsistent",
                cl.nodes.min, cl.nodes.max
            ),
            "1 ≤ min ≤ max",
            "the autoscaler keeps between min and max nodes; min must be at least 1",
        );
    }
    c.range(
        &format!("{p}/nodes/max"),
        cl.nodes.max,
        1,
        limits::NODES_MAX,
        "at most 1000 nodes",
    );
    match Ipv4Net::from_str(&cl.network_cidr) {
        Err(_) => c.invalid(
            &format!("{p}/networkCidr"),
            format!("\"{}\" is not an IPv4 CIDR", cl.network_cidr),
            "an IPv4 network in CIDR notation, e.g. 10.20.0.0/16",
            "write the network address and the prefix length",
        ),
        Ok(net) if net.network() != net.addr() => c.invalid(
            &format!("{p}/networkCidr"),
            format!("\"{}\" has host bits set", cl.network_cidr),
            "the network address of the CIDR",
            format!("use \"{}\"", net.trunc()),
        ),
        Ok(net) if !net.addr().is_private() => c.invalid(
            &format!("{p}/networkCidr"),
            format!("\"{}\" is not a private range", cl.network_cidr),
            "a private (RFC 1918) range: 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
            "pick a range that does not overlap your other networks, e.g. 10.20.0.0/16",
        ),
        Ok(net) => check_network_size(c, p, cl, &net),
    }
}

pub(super) fn check_network_size(c: &mut Checker<'_>, p: &str, cl: &crate::model::Cluster, net: &Ipv4Net) {
    let provider = cl.provider.in_prose();
    let pointer = format!("{p}/networkCidr");
    let cidr = &cl.network_cidr;
    if let Some((min, max, why)) = cloud_limits::network_prefixes(cl.provider)
        && !(min..=max).contains(&net.prefix_len())
    {
        c.invalid(
            &pointer,
            format!("{provider} cannot use a /{} network", net.prefix_len()),
            format!("a prefix from /{min} to /{max}: {why}"),
            format!("use a /{min} or longer, e.g. 10.20.0.0/16"),
        );
        return;
    }
    if let Some((nodes, why)) = cloud_limits::node_capacity(cl.provider, net)
        && u64::from(cl.nodes.max) > nodes
    {
        c.invalid(
            &pointer,
            format!(
                "\"{cidr}\" holds at most {nodes} nodes on {provider}, fewer than nodes.max {}",
                cl.nodes.max
            ),
            format!("a network with room for {} nodes: {why}", cl.nodes.max),
            "use a shorter prefix (a larger network) or lower nodes.max",
        );
    }
    for (reserved, what) in cloud_limits::reserved_ranges(cl.provider) {
        if reserved.contains(&net.network()) || net.contains(&reserved.network()) {
            c.invalid(
                &pointer,
                format!("\"{cidr}\" overlaps {what} {reserved}"),
                format!("a network outside {reserved}"),
                "pick a range that does not overlap it, e.g. 10.20.0.0/16",
            );
        }
    }
}

pub(super) fn check_kubernetes_version(c: &mut Checker<'_>, p: &str, cl: &crate::model::Cluster) {
    use crate::model::kubernetes_support::{self, Unsupported};
    let version = &cl.kubernetes_version;
    let calendar = kubernetes_support::calendar(cl.provider);
    let provider = calendar.name;
    let checked = kubernetes_support::CHECKED;
    let listed = |supported: Vec<String>| {
        if supported.is_empty() {
            format!("none is left in the {provider} table (checked {checked})")
        } else {
            format!("a supported minor version: {}", supported.join(", "))
        }
    };
    let pointer = format!("{p}/kubernetesVersion");
    match kubernetes_support::check(cl.provider, version, kubernetes_support::today()) {
        Ok(_) => {}
        Err(Unsupported::Malformed) => c.invalid(
            &pointer,
            format!("\"{version}\" is not a Kubernetes minor version"),
            "\"1.MINOR\", quoted, e.g. \"1.35\"",
            "quote it: an unquoted 1.30 is the number 1.3",
        ),
        Err(Unsupported::Ended { ended, supported }) => c.unsupported(
            &pointer,
            format!("Kubernetes {version} reached the end of {provider} support on {ended}"),
            listed(supported),
            format!(
                "upgrade one minor version at a time; support ends at the {} ({})",
                calendar.window, calendar.source
            ),
        ),
        Err(Unsupported::Unknown { supported }) => c.unsupported(
            &pointer,
            format!("Kubernetes {version} is not in the {provider} support table (checked {checked})"),
            listed(supported),
            if version.len() <= 3 {
                "quote it: an unquoted 1.30 is the number 1.3".to_string()
            } else {
                format!(
                    "use a listed version; a release newer than the table needs its end date from {}",
                    calendar.source
                )
            },
        ),
    }
}

pub(super) fn check_replicas(c: &mut Checker<'_>, p: &str, min: u32, max: u32) {
    if min == 0 || min > max {
        c.invalid(
            &format!("{p}/replicas"),
            format!("replica bounds min {min} / max {max} are inconsistent"),
            "1 ≤ min ≤ max",
            "the HPA scales the app between min and max; min must be at least 1",
        );
    }
    c.range(
        &format!("{p}/replicas/max"),
        max,
        1,
        limits::REPLICAS_MAX,
        "more than 100 replicas is almost surely a typo",
    );
}

pub(super) fn check_policy(c: &mut Checker<'_>, p: &str, env: &crate::model::Environment) {
    if env.production && env.policy.mode == Some(PolicyMode::Audit) {
        c.invalid(
            &format!("{p}/policy/mode"),
            "a production environment only audits its admission policies",
            "mode: enforce in production",
            "remove `mode: audit`: production blocks unsigned images and unsafe pods",
        );
    }
}

pub(super) fn region_hint(p: Provider) -> &'static str {
    match p {
        Provider::Eks => "e.g. eu-west-1",
        Provider::Aks => "e.g. westeurope",
        _ => "e.g. europe-west1",
    }
}

pub(super) fn node_size_hint(p: Provider) -> &'static str {
    match p {
        Provider::Eks => "an EC2 instance type, e.g. m6i.large",
        Provider::Aks => "an Azure VM size, e.g. Standard_D4s_v5",
        _ => "a GCE machine type, e.g. e2-standard-4",
    }
}
