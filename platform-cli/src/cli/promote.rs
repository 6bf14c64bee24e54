//! `platform promote --from ENV --to ENV`: carry pins forward as a pull request.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::promote::flow::{GateOptions, Request, SourceCluster, gates_only, promote};
use crate::promote::gates::GateName;
use crate::promote::github::GitHubError;
use crate::supply_chain::RegistryOptions;

use super::ManifestArg;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    manifest: ManifestArg,
    /// The environment whose pins are promoted (must be the target's promotedFrom).
    #[arg(long, value_name = "ENV", required_unless_present = "revision", add = super::completions::environment_names())]
    from: Option<String>,
    /// The environment that receives the pins.
    #[arg(long, value_name = "ENV", add = super::completions::environment_names())]
    to: String,
    /// Roll back: re-promote the pins the target had at this Git revision.
    #[arg(long, value_name = "GIT_REV", conflicts_with = "from")]
    revision: Option<String>,
    /// Print the summary and the diff; push nothing, open nothing.
    #[arg(long)]
    dry_run: bool,
    /// Sigstore trusted_root.json for verifying the images the target would deploy.
    #[arg(long, value_name = "FILE")]
    trusted_root: Option<PathBuf>,
    /// Talk plain HTTP to the image registry (a loopback test registry).
    #[arg(long)]
    allow_http_registry: bool,
    #[command(flatten)]
    github: super::GitHubArg,
    /// Proceed although this gate refuses (repeat for several); needs --reason, and the pull
    /// request records both and who ran it.
    #[arg(long = "override-gate", value_name = "GATE", requires = "reason")]
    override_gate: Vec<GateName>,
    /// Why the overridden gates may be skipped.
    #[arg(long, value_name = "TEXT", requires = "override_gate")]
    reason: Option<String>,
    /// kubeconfig context of the source environment's cluster, where the gates read Argo CD
    /// and Prometheus (default: its kubeconfigContext, else the current one).
    #[arg(long, value_name = "CTX")]
    context: Option<String>,
    /// The source's Prometheus query API (default: the manifest's promotion.prometheusUrl,
    /// else its in-cluster Prometheus through the API server).
    #[arg(long, value_name = "URL")]
    prometheus_url: Option<String>,
    /// Only check the gates and print their evidence; push nothing (the workflow's check of a
    /// promotion pull request).
    #[arg(long, requires = "from", conflicts_with_all = ["dry_run", "revision"])]
    gates_only: bool,
}

pub fn run(args: &Args) -> miette::Result<ExitCode> {
    let token = std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty());
    if args.reason.as_deref().is_some_and(|r| r.trim().is_empty()) {
        return Err(miette::miette!(
            help = "say why the gate may be skipped, e.g. --reason \"hotfix for incident 123; staging has no traffic at night\"",
            "--reason is empty"
        ));
    }
    if token.is_none() && !args.dry_run && !args.gates_only {
        // Before any work: a promotion that cannot open its pull request must not push.
        return Err(GitHubError::NoToken.into());
    }
    let request = Request {
        manifest: args.manifest.file.clone(),
        from: args.from.clone(),
        to: args.to.clone(),
        revision: args.revision.clone(),
        dry_run: args.dry_run,
        trusted_root: args.trusted_root.clone(),
        registry: RegistryOptions {
            allow_http: args.allow_http_registry,
        },
        github: token.map(|t| (args.github.github_api_url.clone(), t)),
        gates: GateOptions {
            overrides: args.override_gate.clone(),
            reason: args.reason.clone(),
            prometheus_url: args.prometheus_url.clone(),
            cluster: args
                .context
                .clone()
                .map_or(SourceCluster::Kubeconfig, SourceCluster::Context),
        },
    };
    let runtime = super::runtime()?;
    if args.gates_only {
        match runtime.block_on(gates_only(&request))? {
            Some(report) => print!("{}", report.markdown()),
            None => println!("no gates: nothing is checked before promoting into {}", args.to),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let outcome = runtime.block_on(promote(&request))?;
    if outcome.is_noop() {
        println!(
            "nothing to promote: {} already runs these pins; no branch, no pull request",
            args.to
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}", outcome.title);
    for c in &outcome.changes {
        println!("  {}: {} -> {}", c.field, c.from, c.to);
    }
    println!("signatures: {}", outcome.verification);
    if let Some(gates) = &outcome.gates {
        for row in &gates.rows {
            println!("gate {}: {} ({})", row.label(), row.observed, row.verdict);
        }
    }
    for f in &outcome.files {
        println!("  {} (+{} -{})", f.path, f.added, f.removed);
    }
    if args.dry_run {
        print!("{}", outcome.diff);
        println!("dry run: nothing pushed");
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(pr) = &outcome.pull_request {
        let verb = if pr.updated { "updated" } else { "opened" };
        println!(
            "pushed {}; {verb} pull request #{} {}",
            outcome.branch, pr.number, pr.url
        );
    }
    Ok(ExitCode::SUCCESS)
}
