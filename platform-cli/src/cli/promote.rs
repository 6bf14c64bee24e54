//! `platform promote --from ENV --to ENV`: carry pins forward as a pull request.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::promote::flow::{Request, promote};
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
    /// GitHub API base URL (GitHub Enterprise: https://HOST/api/v3).
    #[arg(
        long,
        value_name = "URL",
        env = "GITHUB_API_URL",
        default_value = "https://api.github.com"
    )]
    github_api_url: String,
}

pub fn run(args: &Args) -> miette::Result<ExitCode> {
    let token = std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty());
    if token.is_none() && !args.dry_run {
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
        github: token.map(|t| (args.github_api_url.clone(), t)),
    };
    let runtime = super::runtime()?;
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
