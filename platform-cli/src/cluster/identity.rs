//! Which cluster a kubeconfig context reaches, and whether it is the environment's.
//!
//! `bootstrap` and `secrets set` write to the cluster, so they first make sure the context is the
//! environment's cluster and not whatever `kubectl` last pointed at. The evidence is what each
//! provider's own CLI writes into the kubeconfig:
//!
//! - EKS (`aws eks update-kubeconfig`): the API server's host names the region
//!   (`….<region>.eks.amazonaws.com`); the cluster entry is the cluster's ARN, or the user's
//!   `aws eks get-token --cluster-name <name>` names it (an `--alias`ed context keeps both).
//! - AKS (`az aks get-credentials`): the host names the region (`….hcp.<region>.azmk8s.io`,
//!   or `….privatelink.<region>.azmk8s.io`); the cluster entry is the cluster's name.
//! - GKE (`gcloud container clusters get-credentials`): the cluster entry is
//!   `gke_<project>_<location>_<name>`, the location being the region or one of its zones.
//! - An existing cluster: the context must be the one the manifest names.

use kube::config::Kubeconfig;

use crate::manifest::resolve;
use crate::model::{Environment, Provider};

/// The cluster an environment's manifest describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    Eks {
        name: String,
        region: String,
    },
    Aks {
        name: String,
        region: String,
    },
    Gke {
        name: String,
        region: String,
        project: String,
    },
    /// A self-managed cluster, known only by its kubeconfig context.
    Context(String),
}

impl Expected {
    /// What `env` of platform `platform` must reach (None: the manifest does not say, which
    /// `validate` refuses for the clouds; an existing cluster may leave its context out).
    pub fn of(platform: &str, env: &Environment) -> Option<Self> {
        let name = resolve::cluster_name(platform, &env.name);
        let region = env.cluster.region.clone();
        Some(match env.cluster.provider {
            Provider::Eks => Self::Eks { name, region: region? },
            Provider::Aks => Self::Aks { name, region: region? },
            Provider::Gke => Self::Gke {
                name,
                region: region?,
                project: env.cluster.gcp_project.clone()?,
            },
            Provider::Existing => Self::Context(env.cluster.kubeconfig_context.clone()?),
        })
    }

    fn describe(&self) -> String {
        match self {
            Self::Eks { name, region } => format!("EKS cluster {name} in {region}"),
            Self::Aks { name, region } => format!("AKS cluster {name} in {region}"),
            Self::Gke { name, region, project } => format!("GKE cluster {name} in {region} of project {project}"),
            Self::Context(context) => format!("the cluster of context {context}"),
        }
    }

    /// The command that writes the right context.
    fn fix(&self) -> String {
        match self {
            Self::Eks { name, region } => format!("aws eks update-kubeconfig --name {name} --region {region}"),
            Self::Aks { name, .. } => {
                format!("az aks get-credentials --name {name} --resource-group <its resource group>")
            }
            Self::Gke { name, region, project } => {
                format!("gcloud container clusters get-credentials {name} --region {region} --project {project}")
            }
            Self::Context(context) => format!("kubectl config use-context {context}"),
        }
    }
}

/// The context reaches another cluster than the environment's (or cannot be told apart).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("context {context} is not {expected}: {found}")]
#[diagnostic(
    code(cluster::wrong_cluster),
    help(
        "nothing was written. Point the kubeconfig at the environment's cluster (`{fix}`), or pass its context with --context"
    )
)]
pub struct WrongCluster {
    pub context: String,
    pub expected: String,
    pub found: String,
    pub fix: String,
}

/// `context` (or the current one) and its entry; else the context's name and what is wrong.
fn context_entry<'a>(
    kubeconfig: &'a Kubeconfig,
    context: Option<&str>,
) -> Result<(String, &'a kube::config::Context), (String, String)> {
    let Some(name) = context
        .map(str::to_string)
        .or_else(|| kubeconfig.current_context.clone())
    else {
        return Err(("(none)".into(), "the kubeconfig has no current context".into()));
    };
    match kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.context.as_ref())
    {
        Some(entry) => Ok((name, entry)),
        None => Err((name, "the kubeconfig has no such context".into())),
    }
}

/// What a context points at: its API server, that server's host, its cluster entry's name,
/// and the arguments of its credential plugin (where EKS names its cluster).
struct Reached<'a> {
    server: String,
    host: String,
    cluster_entry: &'a str,
    exec_args: Vec<String>,
}

fn reached<'a>(kubeconfig: &'a Kubeconfig, entry: &'a kube::config::Context) -> Reached<'a> {
    let cluster_entry = entry.cluster.as_str();
    let server = kubeconfig
        .clusters
        .iter()
        .find(|c| c.name == cluster_entry)
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| c.server.clone())
        .unwrap_or_default();
    let host = server
        .split("://")
        .nth(1)
        .unwrap_or(&server)
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_string();
    let exec_args = entry
        .user
        .as_deref()
        .and_then(|user| kubeconfig.auth_infos.iter().find(|a| a.name == user))
        .and_then(|a| a.auth_info.as_ref())
        .and_then(|a| a.exec.as_ref())
        .and_then(|e| e.args.clone())
        .unwrap_or_default();
    Reached {
        server,
        host,
        cluster_entry,
        exec_args,
    }
}

/// Checks that `context` (or the current context) of `kubeconfig` reaches `expected`; returns
/// the context's name.
pub fn check(kubeconfig: &Kubeconfig, context: Option<&str>, expected: &Expected) -> Result<String, WrongCluster> {
    let wrong = |context: &str, found: String| WrongCluster {
        context: context.to_string(),
        expected: expected.describe(),
        found,
        fix: expected.fix(),
    };
    let (name, entry) = context_entry(kubeconfig, context).map_err(|(context, why)| wrong(&context, why))?;
    let Reached {
        server,
        host,
        cluster_entry,
        exec_args,
    } = reached(kubeconfig, entry);

    let found = match expected {
        Expected::Eks { name: want, region } => {
            let Some(found_region) = host
                .strip_suffix(".eks.amazonaws.com")
                .and_then(|h| h.rsplit('.').next())
            else {
                return Err(wrong(&name, format!("its API server {server} is not an EKS endpoint")));
            };
            let cluster = arn_cluster(cluster_entry)
                .or_else(|| flag_value(&exec_args, &["--cluster-name", "--cluster-id", "-i"]))
                .unwrap_or_default();
            (found_region == region && cluster == *want)
                .then_some(())
                .ok_or_else(|| format!("it reaches EKS cluster {} in {found_region}", or_unnamed(&cluster)))
        }
        Expected::Aks { name: want, region } => {
            let found_region = host
                .rsplit_once(".azmk8s.io")
                .and_then(|(h, _)| h.rsplit('.').next())
                .filter(|_| host.contains(".hcp.") || host.contains(".privatelink."));
            let Some(found_region) = found_region else {
                return Err(wrong(&name, format!("its API server {server} is not an AKS endpoint")));
            };
            (found_region == region && cluster_entry == want)
                .then_some(())
                .ok_or_else(|| format!("it reaches AKS cluster {cluster_entry} in {found_region}"))
        }
        Expected::Gke {
            name: want,
            region,
            project,
        } => {
            let parts: Vec<&str> = cluster_entry.splitn(4, '_').collect();
            let [prefix, found_project, location, cluster] = parts.as_slice() else {
                return Err(wrong(
                    &name,
                    format!("its cluster entry {cluster_entry} is not gke_<project>_<location>_<name>"),
                ));
            };
            let in_region = *location == region
                || location
                    .strip_prefix(region.as_str())
                    .is_some_and(|z| z.starts_with('-'));
            (*prefix == "gke" && found_project == project && in_region && cluster == want)
                .then_some(())
                .ok_or_else(|| format!("it reaches GKE cluster {cluster} in {location} of project {found_project}"))
        }
        Expected::Context(want) => (name == *want)
            .then_some(())
            .ok_or_else(|| "the manifest names another context for this environment".to_string()),
    };
    found.map(|()| name.clone()).map_err(|found| wrong(&name, found))
}

/// `arn:aws:eks:<region>:<account>:cluster/<name>` → name.
fn arn_cluster(entry: &str) -> Option<String> {
    entry
        .strip_prefix("arn:")
        .filter(|rest| rest.contains(":eks:"))
        .and_then(|rest| rest.rsplit_once(":cluster/"))
        .map(|(_, name)| name.to_string())
}

/// The value after any of `flags` (`--flag value` or `--flag=value`).
fn flag_value(args: &[String], flags: &[&str]) -> Option<String> {
    args.iter().enumerate().find_map(|(i, arg)| {
        flags.iter().find_map(|flag| {
            if arg == flag {
                args.get(i + 1).cloned()
            } else {
                arg.strip_prefix(flag)
                    .and_then(|v| v.strip_prefix('='))
                    .map(str::to_string)
            }
        })
    })
}

fn or_unnamed(cluster: &str) -> &str {
    if cluster.is_empty() { "(unnamed)" } else { cluster }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kubeconfig(cluster: &str, server: &str, exec_args: &[&str]) -> Kubeconfig {
        let args = serde_json::to_string(exec_args).expect("json");
        Kubeconfig::from_yaml(&format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: ctx\n\
             clusters: [{{name: '{cluster}', cluster: {{server: '{server}'}}}}]\n\
             users: [{{name: u, user: {{exec: {{apiVersion: client.authentication.k8s.io/v1beta1, command: aws, args: {args}}}}}}}]\n\
             contexts: [{{name: ctx, context: {{cluster: '{cluster}', user: u}}}}]\n"
        ))
        .expect("kubeconfig")
    }

    fn eks() -> Expected {
        Expected::Eks {
            name: "shop-prod".into(),
            region: "eu-west-1".into(),
        }
    }

    #[test]
    fn eks_is_told_by_its_arn_or_by_the_token_command() {
        let server = "https://0123ABCD.gr7.eu-west-1.eks.amazonaws.com";
        let arn = kubeconfig("arn:aws:eks:eu-west-1:111122223333:cluster/shop-prod", server, &[]);
        assert_eq!(check(&arn, None, &eks()).expect("same cluster"), "ctx");
        let aliased = kubeconfig("prod", server, &["eks", "get-token", "--cluster-name", "shop-prod"]);
        assert!(check(&aliased, None, &eks()).is_ok());
        let staging = kubeconfig("arn:aws:eks:eu-west-1:111122223333:cluster/shop-staging", server, &[]);
        assert_eq!(
            check(&staging, None, &eks()).expect_err("another cluster").to_string(),
            "context ctx is not EKS cluster shop-prod in eu-west-1: it reaches EKS cluster shop-staging in eu-west-1"
        );
        let elsewhere = kubeconfig(
            "arn:aws:eks:us-east-1:111122223333:cluster/shop-prod",
            "https://0123ABCD.gr7.us-east-1.eks.amazonaws.com",
            &[],
        );
        assert!(check(&elsewhere, None, &eks()).is_err());
        let kind = kubeconfig("kind-kind", "https://127.0.0.1:6443", &[]);
        assert_eq!(
            check(&kind, None, &eks()).expect_err("not EKS").found,
            "its API server https://127.0.0.1:6443 is not an EKS endpoint"
        );
    }

    #[test]
    fn aks_is_told_by_its_endpoint_region_and_cluster_entry() {
        let expected = Expected::Aks {
            name: "contoso-prod".into(),
            region: "westeurope".into(),
        };
        let ok = kubeconfig(
            "contoso-prod",
            "https://contoso-prod-1a2b3c4d.hcp.westeurope.azmk8s.io:443",
            &[],
        );
        assert!(check(&ok, None, &expected).is_ok());
        let private = kubeconfig(
            "contoso-prod",
            "https://contoso-prod-1a2b.5e6f.privatelink.westeurope.azmk8s.io:443",
            &[],
        );
        assert!(check(&private, None, &expected).is_ok());
        let other = kubeconfig(
            "contoso-dev",
            "https://contoso-dev-9f8e.hcp.northeurope.azmk8s.io:443",
            &[],
        );
        assert_eq!(
            check(&other, None, &expected).expect_err("another").found,
            "it reaches AKS cluster contoso-dev in northeurope"
        );
    }

    #[test]
    fn gke_is_told_by_its_cluster_entry_zones_included() {
        let expected = Expected::Gke {
            name: "globex-prod".into(),
            region: "europe-west1".into(),
            project: "globex-prod".into(),
        };
        let server = "https://34.76.1.2";
        assert!(
            check(
                &kubeconfig("gke_globex-prod_europe-west1_globex-prod", server, &[]),
                None,
                &expected
            )
            .is_ok()
        );
        assert!(
            check(
                &kubeconfig("gke_globex-prod_europe-west1-b_globex-prod", server, &[]),
                None,
                &expected
            )
            .is_ok()
        );
        let staging = kubeconfig("gke_globex-staging_europe-west1_globex-staging", server, &[]);
        assert_eq!(
            check(&staging, None, &expected).expect_err("another").found,
            "it reaches GKE cluster globex-staging in europe-west1 of project globex-staging"
        );
        assert!(
            check(
                &kubeconfig("gke_globex-prod_europe-west10_globex-prod", server, &[]),
                None,
                &expected
            )
            .is_err()
        );
    }

    #[test]
    fn an_existing_cluster_is_its_context_and_the_flag_picks_the_context() {
        let expected = Expected::Context("kubernetes-admin@lab".into());
        let config = kubeconfig("lab", "https://192.168.50.10:6443", &[]);
        let err = check(&config, None, &expected).expect_err("current context is ctx");
        assert_eq!(
            err.to_string(),
            "context ctx is not the cluster of context kubernetes-admin@lab: the manifest names another context for this environment"
        );
        assert_eq!(err.fix, "kubectl config use-context kubernetes-admin@lab");
        assert_eq!(
            check(&config, Some("missing"), &expected).expect_err("no such").found,
            "the kubeconfig has no such context"
        );
    }
}
