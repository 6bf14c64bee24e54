//! The command line: clap types live here and nowhere else; each subcommand has its own file.

mod bootstrap;
mod completions;
mod diff;
mod init;
mod man;
mod outdated;
mod promote;
mod render;
mod schema;
mod secrets;
mod status;
mod update;
mod validate;
mod verify;
mod verify_image;
mod verify_report;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::cluster;
use crate::manifest::{self, LoadError, LoadedManifest};

pub use completions::COMPLETE_VAR;

#[derive(Debug, Parser)]
#[command(
    name = "platform",
    version,
    about = "Render, verify and promote a Kubernetes SaaS platform from one manifest"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new GitOps repository: a commented platform.yaml (asked for on a terminal, from
    /// flags or an example otherwise), its README and .gitignore, and the rendered tree.
    Init(Box<init::Args>),
    /// Parse and check the manifest; report every problem with FILE:LINE:COL.
    Validate(validate::Args),
    /// Print the manifest's JSON Schema (for editors and yaml-language-server).
    Schema(schema::Args),
    /// Render Terraform, Helm values, Argo CD, policies and observability for every (or each named) environment.
    Render(render::Args),
    /// Compare two environments object by object, each difference explained by the manifest
    /// field or pin that renders it (exit 1 on an unexplained one); or, with --live, an
    /// environment's committed objects with the cluster's (exit 1 on drift).
    Diff(diff::Args),
    /// Carry an environment's pinned versions into the next one, as a pull request.
    Promote(promote::Args),
    /// Every pin (charts, Kubernetes, Terraform providers and modules, the workflows' actions)
    /// against its newest release inside the supported range and at all, with its support
    /// status (exit 1 when anything is past its support, 2 when a source could not be read).
    Outdated(outdated::Args),
    /// Bump chart pins in the first environment of the promotion chain (or --env), each
    /// proven against the new release (values checked, tree rendered, change explained)
    /// before its pull request opens.
    Update(update::Args),
    /// Apply the AppProject and root Application and wait until Argo CD reports everything healthy.
    Bootstrap(bootstrap::Args),
    /// The environment's Secrets: list them (with --live, as the cluster has them) and set the
    /// ones a person supplies; `bootstrap` makes the rest.
    Secrets(secrets::Args),
    /// Show the sync and health of the environment's Argo CD Applications and whether its hosts
    /// reach the Gateway with a Ready certificate (non-zero if any is not).
    Status(status::Args),
    /// Verify the cosign signature of the app image an environment deploys (component images
    /// are their vendors' and not checked).
    Verify(verify::Args),
    /// Verify the cosign signatures of one image.
    VerifyImage(verify_image::Args),
    /// Print the completion registration for bash, zsh, fish, elvish or powershell (environment
    /// names complete from ./platform.yaml).
    Completions(completions::Args),
    /// Print the man page, platform(1), in roff; or write it and one per subcommand into a folder.
    Man(man::Args),
}

/// The manifest and one of its environments; shared by the per-environment commands.
#[derive(Debug, clap::Args)]
struct EnvArg {
    #[command(flatten)]
    manifest: ManifestArg,
    /// The environment, by name.
    #[arg(long = "env", value_name = "NAME", add = completions::environment_names())]
    env: String,
}

/// Which cluster to talk to; shared by the commands that reach Kubernetes.
#[derive(Debug, clap::Args)]
struct ClusterArg {
    /// kubeconfig context (default: the environment's kubeconfigContext, else the current one).
    #[arg(long, value_name = "CTX")]
    context: Option<String>,
}

impl ClusterArg {
    fn context_for(&self, env: &crate::model::Environment) -> Option<String> {
        self.context.clone().or_else(|| env.cluster.kubeconfig_context.clone())
    }

    /// A client for `env`'s cluster that refuses, before anything is written, a context that
    /// reaches another cluster (`cluster::identity`).
    async fn connect_checked(
        &self,
        loaded: &LoadedManifest,
        env: &crate::model::Environment,
    ) -> miette::Result<kube::Client> {
        let expected = cluster::identity::Expected::of(&loaded.manifest.metadata.name, env).ok_or_else(|| {
            miette::miette!(
                help = "set cluster.kubeconfigContext to the context of the cluster this environment runs on",
                "{}: the manifest does not say which cluster this environment is, so nothing is written to one",
                env.name
            )
        })?;
        Ok(cluster::connect_to(
            self.context.as_deref().or(env.cluster.kubeconfig_context.as_deref()),
            &expected,
        )
        .await?)
    }
}

/// GitHub's API; shared by the commands that talk to it.
#[derive(Debug, clap::Args)]
struct GitHubArg {
    /// GitHub API base URL (GitHub Enterprise: https://HOST/api/v3).
    #[arg(
        long,
        value_name = "URL",
        env = "GITHUB_API_URL",
        default_value = "https://api.github.com"
    )]
    github_api_url: String,
}

/// Where releases are read; shared by `outdated` and `update`.
#[derive(Debug, clap::Args)]
struct MirrorArg {
    /// Read what is published under FROM at TO instead (a mirror): a prefix of a chart
    /// repository (`https://charts.jetstack.io`), of an OCI one (`oci://ghcr.io/nginx/charts`)
    /// or of the Terraform registry (`https://registry.terraform.io`). Repeat for several.
    #[arg(long, value_name = "FROM=TO")]
    mirror: Vec<crate::outdated::releases::Mirror>,
}

/// Where the manifest comes from; shared by every subcommand.
#[derive(Debug, clap::Args)]
struct ManifestArg {
    /// The platform manifest.
    #[arg(short = 'f', long = "file", value_name = "FILE", default_value = "platform.yaml")]
    file: PathBuf,
}

pub fn run(cli: Cli) -> miette::Result<ExitCode> {
    match cli.command {
        Command::Init(args) => init::run(&args),
        Command::Validate(args) => validate::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Render(args) => render::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Promote(args) => promote::run(&args),
        Command::Outdated(args) => outdated::run(&args),
        Command::Update(args) => update::run(&args),
        Command::Bootstrap(args) => bootstrap::run(&args),
        Command::Secrets(args) => secrets::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::VerifyImage(args) => verify_image::run(&args),
        Command::Completions(args) => completions::run(&args),
        Command::Man(args) => man::run(&args),
    }
}

/// Loads the manifest; on invalid input prints every diagnostic and returns the exit code.
fn load(file: &Path) -> miette::Result<Result<LoadedManifest, ExitCode>> {
    loaded_or_exit(manifest::load(file))
}

/// The loaded manifest, or every diagnostic printed and the exit code.
fn loaded_or_exit(loaded: Result<LoadedManifest, LoadError>) -> miette::Result<Result<LoadedManifest, ExitCode>> {
    match loaded {
        Ok(loaded) => Ok(Ok(loaded)),
        Err(LoadError::Invalid { diagnostics, .. }) => {
            eprint!("{}", diagnostics.render(color()));
            Ok(Err(ExitCode::FAILURE))
        }
        Err(e) => Err(e.into()),
    }
}

fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// The named environment of a loaded manifest, or an error listing the ones there are.
fn environment<'a>(loaded: &'a LoadedManifest, name: &str) -> miette::Result<&'a crate::model::Environment> {
    Ok(loaded.manifest.environment(name)?)
}

/// A single-threaded runtime for the commands that talk to the network.
fn runtime() -> miette::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| miette::miette!("cannot start the async runtime: {e}"))
}
