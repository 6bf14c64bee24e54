//! What each component asks the scheduler for, per environment: one table that the values
//! templates render `resources` and replica counts from, and that `platform validate` adds up
//! against the environment's nodes (the fit check in `manifest/fit.rs`).

use super::Component;

/// The environment facts sizing depends on.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub production: bool,
    /// Kyverno policies are enforced (a failed admission webhook blocks every create).
    pub enforce: bool,
    /// PostgreSQL instances (in-cluster database).
    pub db_instances: u32,
    /// The app's minimum replicas (its HPA floor).
    pub app_replicas: u32,
}

/// Where a workload's pods may land.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Anywhere,
    /// A DaemonSet: one pod on every node.
    EveryNode,
    /// Hard pod anti-affinity: each replica on a node of its own.
    DistinctNodes,
}

/// One container of a component, with how many of it run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workload {
    /// The key templates read it by, e.g. `controller`.
    pub name: &'static str,
    /// How many of this container run (for `EveryNode`: per node).
    pub replicas: u32,
    pub placement: Placement,
    pub cpu_millis: u32,
    pub memory_mib: u32,
    /// Memory limit: a leak is contained in its own container.
    pub memory_limit_mib: u32,
}

const fn run(name: &'static str, replicas: u32, cpu_millis: u32, memory_mib: u32) -> Workload {
    Workload {
        name,
        replicas,
        placement: Placement::Anywhere,
        cpu_millis,
        memory_mib,
        memory_limit_mib: memory_mib * 2,
    }
}

const fn on_every_node(name: &'static str, cpu_millis: u32, memory_mib: u32) -> Workload {
    Workload {
        placement: Placement::EveryNode,
        ..run(name, 1, cpu_millis, memory_mib)
    }
}

const fn on_distinct_nodes(name: &'static str, replicas: u32, cpu_millis: u32, memory_mib: u32) -> Workload {
    Workload {
        placement: Placement::DistinctNodes,
        ..run(name, replicas, cpu_millis, memory_mib)
    }
}

impl Component {
    /// The containers this component runs in an environment of shape `s` (Jobs and hooks, which
    /// finish, are left out). Components whose objects are not workloads run none. Long as a
    /// table is: one arm per component, read row by row.
    pub fn workloads(self, s: &Shape) -> Vec<Workload> {
        use Component as C;
        let two_in_production = if s.production { 2 } else { 1 };
        match self {
            C::ArgoCd => {
                let mut w = vec![
                    run("controller", 1, 250, 512),
                    run("server", two_in_production, 50, 128),
                    run("repo-server", two_in_production, 100, 256),
                    run("applicationset", 1, 50, 128),
                    run("notifications", 1, 25, 64),
                    // Counted always: it runs for GitHub sign-in, the default on a github.com
                    // repository, and leaves its share spare otherwise.
                    run("dex", 1, 25, 64),
                ];
                if s.production {
                    // redis-ha: three Redis servers (each with a sentinel) and three HAProxies,
                    // each on a node of its own (the chart's hard anti-affinity).
                    w.push(on_distinct_nodes("redis-ha", 3, 50, 64));
                    w.push(on_distinct_nodes("redis-ha-sentinel", 3, 25, 32));
                    w.push(on_distinct_nodes("redis-ha-haproxy", 3, 25, 64));
                } else {
                    w.push(run("redis", 1, 50, 64));
                }
                w
            }
            C::KubePrometheusStack => {
                let prometheus = two_in_production;
                let alertmanager = two_in_production;
                vec![
                    run("prometheus", prometheus, 200, if s.production { 2048 } else { 1024 }),
                    run("alertmanager", alertmanager, 25, 64),
                    // The operator's config reloader beside each Prometheus and Alertmanager.
                    run("config-reloader", prometheus + alertmanager, 10, 32),
                    run("operator", 1, 50, 128),
                    run("grafana", 1, 50, 256),
                    // Grafana's dashboard and datasource sidecars.
                    run("grafana-sidecar", 2, 10, 64),
                    run("kube-state-metrics", 1, 25, 128),
                    on_every_node("node-exporter", 25, 32),
                ]
            }
            C::Kyverno => vec![
                run("admission", if s.enforce { 3 } else { 1 }, 100, 256),
                run("background", 1, 50, 128),
                run("cleanup", 1, 25, 64),
                run("reports", 1, 50, 128),
            ],
            C::CertManager => vec![
                run("controller", two_in_production, 25, 96),
                run("webhook", 1, 10, 48),
                run("cainjector", 1, 25, 128),
            ],
            C::CloudnativePg => vec![run("operator", 1, 50, 128)],
            C::AwsLoadBalancerController => vec![run("controller", 2, 50, 128)],
            // Two controllers on nodes of their own (the chart's required anti-affinity), on the
            // managed node group: Karpenter never runs on nodes it launched.
            C::Karpenter => vec![on_distinct_nodes("controller", 2, 100, 256)],
            C::Metallb => vec![run("controller", 1, 25, 64), on_every_node("speaker", 25, 64)],
            C::BarmanCloud => vec![run("plugin", 1, 25, 64)],
            C::ExternalDns => vec![run("controller", 1, 25, 64)],
            C::ExternalSecrets => vec![
                run("controller", 1, 25, 128),
                run("webhook", 1, 10, 64),
                run("cert-controller", 1, 10, 64),
            ],
            C::NginxGatewayFabric => vec![
                run("control-plane", two_in_production, 50, 128),
                // The Gateway's NGINX pods, which NGF provisions from these values.
                run("nginx", 2, 100, 128),
            ],
            C::Valkey => vec![run("valkey", 1, 100, 128), run("exporter", 1, 10, 32)],
            C::Postgres => {
                let (cpu, memory) = if s.production { (500, 1024) } else { (250, 512) };
                vec![
                    Workload {
                        memory_limit_mib: memory,
                        ..run("postgres", s.db_instances, cpu, memory)
                    },
                    // The Barman Cloud plugin's sidecar in each instance (WAL and backups).
                    run("barman-sidecar", s.db_instances, 50, 128),
                ]
            }
            C::Loki => vec![run("loki", 1, 200, 512), run("gateway", 1, 25, 64)],
            C::Tempo => vec![run("tempo", 1, 100, 512)],
            C::Alloy => vec![
                on_every_node("alloy", 50, 128),
                on_every_node("config-reloader", 10, 50),
            ],
            C::App => vec![run("app", s.app_replicas, 100, 128)],
            C::Namespaces
            | C::GatewayApiCrds
            | C::SecretStore
            | C::ClusterIssuers
            | C::KyvernoPolicies
            | C::KarpenterNodes
            | C::MetallbPool
            | C::Gateway
            | C::ValkeyTls
            | C::Observability => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Component, Shape};
    use crate::model::components::Source;
    use crate::render::embedded::TEMPLATES;

    /// The fit check adds up this table: a workload no template renders would be counted
    /// without being deployed that way.
    #[test]
    fn every_sized_workload_is_rendered_by_its_components_templates() {
        for production in [false, true] {
            let shape = Shape {
                production,
                enforce: production,
                db_instances: 2,
                app_replicas: 2,
            };
            for c in Component::all() {
                let spec = c.spec();
                let files: Vec<String> = match spec.source {
                    Source::Chart { .. } | Source::AppChart => vec![format!("helm/{}.yaml.tera", spec.name)],
                    Source::Manifests { templates, files, .. } => {
                        files.iter().map(|f| format!("{templates}/{}.tera", f.path)).collect()
                    }
                    Source::Git { .. } => Vec::new(),
                };
                let text: String = files
                    .iter()
                    .filter_map(|f| TEMPLATES.get_file(f).and_then(|f| f.contents_utf8()))
                    .collect();
                for w in c.workloads(&shape) {
                    let name = w.name;
                    let read = [
                        format!("w.{name})"),
                        format!("w.{name} "),
                        format!("w.{name}."),
                        format!("w[\"{name}\"]"),
                        format!("sizing.{}.{name})", spec.name),
                        format!("sizing.{}[\"{name}\"]", spec.name),
                    ];
                    assert!(
                        read.iter().any(|r| text.contains(r.as_str())),
                        "{c:?}: no template of {} renders workload `{name}`",
                        spec.name
                    );
                }
            }
        }
    }
}
