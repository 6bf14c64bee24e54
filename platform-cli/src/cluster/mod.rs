//! The cluster side of an environment: put Argo CD's entry points on the cluster
//! (`bootstrap`) and read back how its Applications are doing (`status`).
//!
//! Everything goes through `kube::Client`, so tests drive the exact same code against a
//! scripted API server (`tower-test`), as kube-rs tests itself.

pub mod applications;
pub mod bootstrap;
pub mod identity;
pub mod reachability;
pub mod rollout;

use kube::config::{KubeConfigOptions, Kubeconfig};

/// The field manager of every server-side apply `platform` makes.
pub const FIELD_MANAGER: &str = "platform";

/// Oldest Kubernetes minor version the rendered platform supports.
pub const MIN_MINOR: u32 = 28;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ClusterError {
    #[error("cannot load the kubeconfig{}: {reason}", .context.as_deref().map(|c| format!(" (context {c})")).unwrap_or_default())]
    #[diagnostic(
        code(cluster::kubeconfig),
        help("check KUBECONFIG and the context name (`kubectl config get-contexts`)")
    )]
    Kubeconfig { context: Option<String>, reason: String },
    #[error(transparent)]
    #[diagnostic(transparent)]
    WrongCluster(#[from] identity::WrongCluster),
    #[error("the cluster is not reachable: {0}")]
    #[diagnostic(
        code(cluster::unreachable),
        help("check the network path to the API server and that the cluster is up (`kubectl version`)")
    )]
    Unreachable(String),
    #[error("no DNS resolver: {0}")]
    #[diagnostic(
        code(cluster::resolver),
        help("check /etc/resolv.conf, or name a server with --dns-server IP:PORT")
    )]
    Resolver(String),
    #[error("Kubernetes {version} is not supported")]
    #[diagnostic(
        code(cluster::version),
        help("the platform needs Kubernetes 1.{MIN_MINOR} or newer; upgrade the cluster")
    )]
    UnsupportedVersion { version: String },
    #[error(
        "the cluster has no default StorageClass ({}): every PersistentVolumeClaim of the platform would stay Pending",
        if .classes.is_empty() { "it has none at all".to_string() } else { format!("it has {}, none marked default", .classes.join(", ")) }
    )]
    #[diagnostic(
        code(cluster::storage_class),
        help(
            "nothing was written. Mark one default (`kubectl annotate storageclass NAME storageclass.kubernetes.io/is-default-class=true`), \
             or install a provisioner that makes one (on kubeadm, e.g. local-path-provisioner for a lab, Longhorn or a CSI driver for \
             your storage), then run bootstrap again"
        )
    )]
    NoDefaultStorageClass { classes: Vec<String> },
    #[error("not allowed to {verb} {resource}: {message}")]
    #[diagnostic(
        code(cluster::forbidden),
        help(
            "the identity in the kubeconfig needs that verb on that resource: bootstrap and status need get/list/patch on \
             argoproj.io appprojects and applications in the argocd namespace, bootstrap also list on storageclasses and \
             get/patch on the Secrets of `platform secrets list`, status also get on the gateway's Gateway and \
             Certificates and list on its Challenges, diff --live needs get on every kind it renders"
        )
    )]
    Forbidden {
        verb: String,
        resource: String,
        message: String,
    },
    #[error("the API server refused to {verb} {resource}: {message}")]
    #[diagnostic(code(cluster::api), help("{help}"))]
    Api {
        verb: String,
        resource: String,
        message: String,
        help: String,
    },
    #[error("timed out after {seconds}s waiting for Argo CD; not healthy:\n{}", .unhealthy.join("\n"))]
    #[diagnostic(
        code(cluster::timeout),
        help("re-run bootstrap to keep waiting (it resumes), or inspect with `platform status`")
    )]
    Timeout { seconds: u64, unhealthy: Vec<String> },
    #[error("timed out after {seconds}s waiting for {workload} to roll out: {progress}")]
    #[diagnostic(
        code(cluster::rollout),
        help(
            "look at its pods (`kubectl -n NAMESPACE get pods`, `kubectl describe`); once they run, run the same \
             command again: it resumes where it stopped"
        )
    )]
    Rollout {
        workload: String,
        seconds: u64,
        progress: String,
    },
    #[error("rendered object {0} is missing or malformed")]
    #[diagnostic(
        code(cluster::render),
        help("this is a bug in the embedded templates; please report it")
    )]
    Rendered(String),
}

/// A client for `context` (or the current one) of the default kubeconfig.
pub async fn connect(context: Option<&str>) -> Result<kube::Client, ClusterError> {
    client(read_kubeconfig(context)?, context).await
}

/// A client for `context` (or the current one), once the context is known to reach `expected`:
/// what writes to an environment's cluster connects this way.
pub async fn connect_to(context: Option<&str>, expected: &identity::Expected) -> Result<kube::Client, ClusterError> {
    let kubeconfig = read_kubeconfig(context)?;
    let checked = identity::check(&kubeconfig, context, expected)?;
    client(kubeconfig, Some(&checked)).await
}

fn read_kubeconfig(context: Option<&str>) -> Result<Kubeconfig, ClusterError> {
    Kubeconfig::read().map_err(|e| ClusterError::Kubeconfig {
        context: context.map(str::to_string),
        reason: e.to_string(),
    })
}

async fn client(kubeconfig: Kubeconfig, context: Option<&str>) -> Result<kube::Client, ClusterError> {
    let err = |reason: String| ClusterError::Kubeconfig {
        context: context.map(str::to_string),
        reason,
    };
    let options = KubeConfigOptions {
        context: context.map(str::to_string),
        ..KubeConfigOptions::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| err(e.to_string()))?;
    kube::Client::try_from(config).map_err(|e| err(e.to_string()))
}

/// Maps a kube error on `verb resource` to what the user can do about it.
pub(crate) fn api_error(e: kube::Error, verb: &str, resource: &str) -> ClusterError {
    match e {
        kube::Error::Api(status) if status.code == 403 => ClusterError::Forbidden {
            verb: verb.into(),
            resource: resource.into(),
            message: status.message.clone(),
        },
        kube::Error::Api(status) => ClusterError::Api {
            verb: verb.into(),
            resource: resource.into(),
            message: status.message.clone(),
            help: match status.code {
                404 => "is Argo CD installed? Terraform's argocd module installs it (and its CRDs) first".into(),
                409 => "another field manager owns these fields; bootstrap applies with force, so re-run it".into(),
                422 => "the object was rejected by the API server's validation; check the Argo CD version".into(),
                _ => "retry; if it persists, check the API server's health".into(),
            },
        },
        other => ClusterError::Unreachable(other.to_string()),
    }
}
