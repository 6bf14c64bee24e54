//! Whether an environment's platform fits its node pool at `nodes.min`: the requests of every
//! component it runs (model/sizing.rs) against what that many nodes of its size leave after
//! the kubelet's reserve and the cloud's own agents. A platform that does not fit leaves pods
//! Pending on the first deploy; `platform validate` refuses it, naming the biggest consumers.

use crate::model::Environment;
use crate::model::cloud_limits;
use crate::model::components::Component;
use crate::model::sizing::{Placement, Workload};

/// What the cloud runs on every node before the platform (kube-proxy, the CNI and CSI node
/// agents, the log and metrics agents): (millicores, MiB). An estimate from their published
/// requests, which differ by cloud and version.
pub const CLOUD_AGENTS_PER_NODE: (u32, u32) = (250, 400);

/// The cluster's own add-ons beside the platform (CoreDNS twice, metrics-server): (millicores, MiB).
pub const CLUSTER_ADDONS: (u32, u32) = (300, 300);

/// One reason the platform does not fit, reported at `/cluster/<field>` of the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misfit {
    pub field: &'static str,
    pub message: String,
    pub expected: String,
    pub hint: String,
}

/// CPU and memory requested, in millicores and MiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Requests {
    cpu: u64,
    memory: u64,
}

impl Requests {
    fn of(w: &Workload, count: u32) -> Self {
        Self {
            cpu: u64::from(w.cpu_millis) * u64::from(count),
            memory: u64::from(w.memory_mib) * u64::from(count),
        }
    }

    fn add(self, other: Self) -> Self {
        Self {
            cpu: self.cpu + other.cpu,
            memory: self.memory + other.memory,
        }
    }

    fn describe(self) -> String {
        format!(
            "{:.1} CPU, {:.1} GiB",
            self.cpu as f64 / 1000.0,
            self.memory as f64 / 1024.0
        )
    }
}

/// Every way `e`'s platform does not fit its nodes; empty where it fits or where the node size
/// is not one whose shape is known (an existing cluster, an unlisted family).
pub fn misfits(e: &Environment) -> Vec<Misfit> {
    let cluster = &e.cluster;
    let Some(size) = cluster.node_size.as_deref() else {
        return Vec::new();
    };
    let Some((vcpus, memory_mib)) = cloud_limits::node_shape(cluster.provider, size) else {
        return Vec::new();
    };
    let nodes = cluster.nodes.min;
    let shape = e.shape();
    let runs = e.runs();
    let workloads: Vec<(Component, Vec<Workload>)> = Component::all()
        .filter(|c| c.needed(&runs))
        .map(|c| (c, c.workloads(&shape)))
        .collect();

    let mut out = Vec::new();
    let (reserved_cpu, reserved_memory) = cloud_limits::node_reserved(vcpus, memory_mib);
    let per_node = workloads
        .iter()
        .flat_map(|(_, ws)| ws.iter().filter(|w| w.placement == Placement::EveryNode))
        .fold(
            Requests {
                cpu: u64::from(CLOUD_AGENTS_PER_NODE.0 + reserved_cpu),
                memory: u64::from(CLOUD_AGENTS_PER_NODE.1 + reserved_memory),
            },
            |sum, w| sum.add(Requests::of(w, w.replicas)),
        );
    let node = Requests {
        cpu: u64::from(vcpus) * 1000,
        memory: u64::from(memory_mib),
    };
    let free = Requests {
        cpu: node.cpu.saturating_sub(per_node.cpu),
        memory: node.memory.saturating_sub(per_node.memory),
    };

    let by_component: Vec<(Component, Requests)> = workloads
        .iter()
        .map(|(c, ws)| {
            let sum = ws
                .iter()
                .filter(|w| w.placement != Placement::EveryNode)
                .fold(Requests::default(), |sum, w| sum.add(Requests::of(w, w.replicas)));
            (*c, sum)
        })
        .filter(|(_, r)| *r != Requests::default())
        .collect();
    let total = by_component.iter().fold(
        Requests {
            cpu: u64::from(CLUSTER_ADDONS.0),
            memory: u64::from(CLUSTER_ADDONS.1),
        },
        |sum, (_, r)| sum.add(*r),
    );
    let capacity = Requests {
        cpu: free.cpu * u64::from(nodes),
        memory: free.memory * u64::from(nodes),
    };
    if let Some(misfit) = too_small(
        by_component,
        total,
        capacity,
        Fit {
            nodes,
            size,
            node,
            free,
            per_node,
        },
    ) {
        out.push(misfit);
    }
    out.extend(spread_too_thin(&workloads, nodes));
    out
}

/// What the nodes are and leave free, for the message of a misfit.
struct Fit<'a> {
    nodes: u32,
    size: &'a str,
    node: Requests,
    free: Requests,
    per_node: Requests,
}

/// The platform's requests exceed what the nodes leave free: by how much, the biggest
/// requesters, and how many nodes would do.
fn too_small(
    mut by_component: Vec<(Component, Requests)>,
    total: Requests,
    capacity: Requests,
    fit: Fit<'_>,
) -> Option<Misfit> {
    let Fit {
        nodes,
        size,
        node,
        free,
        per_node,
    } = fit;
    if total.cpu <= capacity.cpu && total.memory <= capacity.memory {
        return None;
    }
    by_component.sort_by_key(|(_, r)| std::cmp::Reverse(r.memory * 1000 / node.memory + r.cpu * 1000 / node.cpu));
    let biggest: Vec<String> = by_component
        .iter()
        .take(3)
        .map(|(c, r)| format!("{} ({})", c.spec().name, r.describe()))
        .collect();
    let short = [
        (total.cpu > capacity.cpu).then(|| format!("{:.1} CPU", (total.cpu - capacity.cpu) as f64 / 1000.0)),
        (total.memory > capacity.memory)
            .then(|| format!("{:.1} GiB", (total.memory - capacity.memory) as f64 / 1024.0)),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" and ");
    let needed = if free.cpu == 0 || free.memory == 0 {
        None
    } else {
        Some(total.cpu.div_ceil(free.cpu).max(total.memory.div_ceil(free.memory)))
    };
    Some(Misfit {
        field: "nodes",
        message: format!(
            "the platform requests {}, more than {nodes} × {size} leave it ({}): short by {short}",
            total.describe(),
            capacity.describe(),
        ),
        expected: match needed {
            Some(n) => format!("nodes.min of at least {n}, or a larger nodeSize"),
            None => "a larger nodeSize".into(),
        },
        hint: format!(
            "the biggest requests are {}; each {size} keeps {} for the kubelet, the system, the cloud's agents and the platform's per-node agents",
            biggest.join(", "),
            per_node.describe()
        ),
    })
}

/// Workloads whose pods each need a node of their own, more of them than there are nodes.
fn spread_too_thin(workloads: &[(Component, Vec<Workload>)], nodes: u32) -> Vec<Misfit> {
    let mut out = Vec::new();
    for (c, ws) in workloads {
        let spread: Vec<&Workload> = ws
            .iter()
            .filter(|w| w.placement == Placement::DistinctNodes && w.replicas > nodes)
            .collect();
        if let Some(most) = spread.iter().map(|w| w.replicas).max() {
            let names: Vec<String> = spread.iter().map(|w| format!("`{}`", w.name)).collect();
            out.push(Misfit {
                field: "nodes",
                message: format!(
                    "{} places each of its {most} {} pods on a node of its own, but nodes.min is {nodes}",
                    c.spec().name,
                    names.join(", ")
                ),
                expected: format!("nodes.min of at least {most}"),
                hint: "the chart's hard anti-affinity leaves the others Pending; raise nodes.min".into(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::misfits;

    fn env(yaml: &str) -> super::Environment {
        yaml_serde::from_str(yaml).expect("test environment parses")
    }

    const SMALL: &str = "
name: dev
cluster: { provider: eks, region: eu-west-1, nodeSize: m6i.large, nodes: { min: 1, max: 4 } }
domain: dev.example.com
acmeEmail: ops@example.com
";

    #[test]
    fn one_small_node_does_not_hold_the_platform() {
        let found = misfits(&env(SMALL));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].message.starts_with("the platform requests "),
            "{}",
            found[0].message
        );
        assert!(
            found[0].message.contains("more than 1 × m6i.large leave it"),
            "{}",
            found[0].message
        );
        assert!(
            found[0].expected.starts_with("nodes.min of at least "),
            "{}",
            found[0].expected
        );
    }

    #[test]
    fn enough_nodes_hold_it() {
        assert_eq!(misfits(&env(&SMALL.replace("min: 1", "min: 3"))), vec![]);
    }

    #[test]
    fn production_needs_three_nodes_for_argo_cds_redis_ha() {
        let prod = SMALL
            .replace("name: dev", "name: prod\nproduction: true")
            .replace("m6i.large", "m6i.4xlarge")
            .replace("min: 1", "min: 2");
        let found = misfits(&env(&prod));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].message,
            "argo-cd places each of its 3 `redis-ha`, `redis-ha-sentinel`, `redis-ha-haproxy` pods on a node of its own, but nodes.min is 2"
        );
    }

    #[test]
    fn unknown_node_shapes_and_existing_clusters_are_not_judged() {
        assert_eq!(misfits(&env(&SMALL.replace("m6i.large", "i4i.large"))), vec![]);
        let existing = "
name: lab
cluster: { provider: existing, kubeconfigContext: lab, nodes: { min: 1, max: 1 } }
domain: lab.example.com
acmeEmail: ops@example.com
";
        assert_eq!(misfits(&env(existing)), vec![]);
    }
}
