//! Whether people can reach the platform: for each host name the Gateway serves, whether DNS
//! answers it with the Gateway's address, and whether cert-manager's certificate for it is Ready
//! (and why not, from the Certificate's condition and the ACME Challenge's state).
//!
//! DNS goes through a real resolver (hickory): the system's, or the name server `--dns-server`
//! names, so an operator can ask the zone's own server before caches have the records.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};

use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::{Resolver, TokioResolver};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde::Serialize;

use super::{ClusterError, api_error};
use crate::manifest::resolve::GatewayView;

/// A host the Gateway serves, and the Secret its certificate goes into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub certificate: String,
}

/// The Gateway's hosts, from the environment's resolved view.
pub fn targets(gateway: &GatewayView) -> Vec<Target> {
    [&gateway.app, &gateway.argocd, &gateway.grafana]
        .into_iter()
        .map(|l| Target {
            host: l.host.clone(),
            certificate: l.secret.to_string(),
        })
        .collect()
}

/// What DNS says of a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "verdict")]
pub enum Dns {
    /// It resolves to (one of) the Gateway's addresses.
    Gateway { addresses: Vec<IpAddr> },
    /// It resolves, but not to the Gateway.
    Elsewhere {
        addresses: Vec<IpAddr>,
        gateway: Vec<IpAddr>,
    },
    /// No such name (or no address record).
    NotFound,
    /// The Gateway has no address yet, so nothing can point at it.
    NoGatewayAddress,
    /// The resolver failed (no answer, a server error).
    Failed { message: String },
}

/// What cert-manager says of a host's certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Certificate {
    pub ready: bool,
    /// The Ready condition's reason and message, then any Challenge's state and reason.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reachability {
    pub host: String,
    pub dns: Dns,
    pub certificate: Certificate,
}

impl Reachability {
    pub fn reachable(&self) -> bool {
        matches!(self.dns, Dns::Gateway { .. }) && self.certificate.ready
    }

    /// One line for people.
    pub fn line(&self) -> String {
        let join = |a: &[IpAddr]| a.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        let dns = match &self.dns {
            Dns::Gateway { addresses } => format!("resolves to {} (the Gateway)", join(addresses)),
            Dns::Elsewhere { addresses, gateway } => {
                format!("resolves to {}, not the Gateway ({})", join(addresses), join(gateway))
            }
            Dns::NotFound => "does not resolve".into(),
            Dns::NoGatewayAddress => "the Gateway has no address yet".into(),
            Dns::Failed { message } => format!("DNS failed: {message}"),
        };
        let cert = if self.certificate.ready {
            "certificate Ready".to_string()
        } else {
            format!("certificate not ready: {}", self.certificate.detail)
        };
        format!("{}: {dns}; {cert}", self.host)
    }
}

/// The system's resolver, or one asking only `server`.
pub fn resolver(server: Option<SocketAddr>) -> Result<TokioResolver, ClusterError> {
    let built = match server {
        None => Resolver::builder_tokio().map(hickory_resolver::ResolverBuilder::build),
        Some(addr) => {
            let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
            for connection in &mut ns.connections {
                connection.port = addr.port();
            }
            Ok(Resolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![ns]),
                TokioRuntimeProvider::default(),
            )
            .build())
        }
    };
    built.and_then(|r| r).map_err(|e| ClusterError::Resolver(e.to_string()))
}

/// Checks every target against the Gateway `gateway` (namespace, name) and its certificates.
pub async fn check(
    client: &kube::Client,
    resolver: &TokioResolver,
    gateway: (&str, &str),
    targets: &[Target],
) -> Result<Vec<Reachability>, ClusterError> {
    let (namespace, name) = gateway;
    let gateways: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        namespace,
        &resource("gateway.networking.k8s.io", "v1", "Gateway"),
    );
    let live = gateways
        .get_opt(name)
        .await
        .map_err(|e| api_error(e, "get", &format!("gateways.gateway.networking.k8s.io/{name}")))?;
    let mut gateway_ips = BTreeSet::new();
    for address in live.iter().flat_map(|g| addresses(&g.data)) {
        match address.parse::<IpAddr>() {
            Ok(ip) => {
                gateway_ips.insert(ip);
            }
            // A load balancer's host name (EKS): whatever it resolves to.
            Err(_) => {
                if let Ok(found) = resolver.lookup_ip(address.as_str()).await {
                    gateway_ips.extend(found.iter());
                }
            }
        }
    }
    let certificates: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        namespace,
        &resource("cert-manager.io", "v1", "Certificate"),
    );
    let challenges: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        namespace,
        &resource("acme.cert-manager.io", "v1", "Challenge"),
    );
    // Before cert-manager's CRDs exist there are no Challenges to tell of.
    let challenge_list = match challenges.list(&ListParams::default()).await {
        Ok(list) => list.items,
        Err(kube::Error::Api(status)) if status.code == 404 => Vec::new(),
        Err(e) => return Err(api_error(e, "list", "challenges.acme.cert-manager.io")),
    };

    let mut out = Vec::new();
    for target in targets {
        let dns = resolve_host(resolver, &target.host, &gateway_ips).await;
        let certificate = match certificates.get_opt(&target.certificate).await.map_err(|e| {
            api_error(
                e,
                "get",
                &format!("certificates.cert-manager.io/{}", target.certificate),
            )
        })? {
            None => Certificate {
                ready: false,
                detail: format!(
                    "no Certificate {} yet (cert-manager makes it from the Gateway's annotation)",
                    target.certificate
                ),
            },
            Some(cert) => certificate_state(&cert.data, &target.host, &challenge_list),
        };
        out.push(Reachability {
            host: target.host.clone(),
            dns,
            certificate,
        });
    }
    Ok(out)
}

/// Where `host` resolves, against the Gateway's addresses.
async fn resolve_host(resolver: &TokioResolver, host: &str, gateway_ips: &BTreeSet<IpAddr>) -> Dns {
    if gateway_ips.is_empty() {
        return Dns::NoGatewayAddress;
    }
    match resolver.lookup_ip(format!("{host}.")).await {
        Ok(found) => {
            let addresses: Vec<IpAddr> = found.iter().collect::<BTreeSet<_>>().into_iter().collect();
            if addresses.iter().any(|a| gateway_ips.contains(a)) {
                Dns::Gateway { addresses }
            } else {
                Dns::Elsewhere {
                    addresses,
                    gateway: gateway_ips.iter().copied().collect(),
                }
            }
        }
        Err(e) if e.is_nx_domain() || e.is_no_records_found() => Dns::NotFound,
        Err(e) => Dns::Failed { message: e.to_string() },
    }
}

fn resource(group: &str, version: &str, kind: &str) -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind))
}

fn addresses(gateway: &serde_json::Value) -> Vec<String> {
    gateway["status"]["addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["value"].as_str().map(str::to_string))
        .collect()
}

fn certificate_state(cert: &serde_json::Value, host: &str, challenges: &[DynamicObject]) -> Certificate {
    let ready = cert["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Ready");
    let is_ready = ready.is_some_and(|c| c["status"] == "True");
    let mut detail = ready.map_or_else(
        || "no Ready condition yet".to_string(),
        |c| {
            format!(
                "{}: {}",
                c["reason"].as_str().unwrap_or("unknown"),
                c["message"].as_str().unwrap_or_default()
            )
        },
    );
    if !is_ready {
        for challenge in challenges.iter().filter(|c| c.data["spec"]["dnsName"] == host) {
            detail += &format!(
                "; challenge {} is {}: {}",
                challenge.metadata.name.as_deref().unwrap_or_default(),
                challenge.data["status"]["state"].as_str().unwrap_or("pending"),
                challenge.data["status"]["reason"].as_str().unwrap_or_default()
            );
        }
    }
    Certificate {
        ready: is_ready,
        detail,
    }
}
