//! `platform update [COMPONENT[@VERSION]]...`: bump chart pins, each proven before its pull request.

use std::process::ExitCode;
use std::time::Duration;

use crate::outdated::cache::Cache;
use crate::outdated::releases::Fetcher;
use crate::update::{self, Bump, Request};

use super::ManifestArg;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    manifest: ManifestArg,
    /// A component's key under `components:` (`argoCd`), to the newest release in its supported
    /// range, or `KEY@VERSION` to that release. None: every component the environment runs.
    #[arg(value_name = "COMPONENT[@VERSION]")]
    bumps: Vec<Bump>,
    /// The environment to bump (default: the first of the promotion chain; the others get the
    /// pin through `platform promote`).
    #[arg(long = "env", value_name = "NAME", add = super::completions::environment_names())]
    env: Option<String>,
    /// Fetch, check, render and explain each bump; push nothing, open nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    mirror: super::MirrorArg,
    #[command(flatten)]
    github: super::GitHubArg,
}

pub fn run(args: &Args) -> miette::Result<ExitCode> {
    let token = std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty());
    let request = Request {
        manifest: args.manifest.file.clone(),
        env: args.env.clone(),
        bumps: args.bumps.clone(),
        dry_run: args.dry_run,
        github: token.clone().map(|t| (args.github.github_api_url.clone(), t)),
        // The release lists as `outdated` reads them (its cache included); archives are read afresh.
        fetcher: Fetcher::new(
            args.mirror.mirror.clone(),
            Cache::new(Cache::default_dir(), Duration::from_secs(3600)),
            args.github.github_api_url.clone(),
            token,
        ),
    };
    let updated = super::runtime()?.block_on(update::update(&request))?;
    if updated.is_empty() {
        println!("nothing to update: every chart is at the newest release in its supported range");
    }
    for done in &updated {
        let outcome = &done.outcome;
        if outcome.is_noop() {
            println!("{}: already pinned there, nothing to do", done.component.key());
            continue;
        }
        println!("{}\n{}", outcome.title, outcome.verification);
        match &outcome.pull_request {
            Some(pr) => println!("pull request #{}: {}\n", pr.number, pr.url),
            None => println!("\n{}\n{}", outcome.body, outcome.diff),
        }
    }
    Ok(ExitCode::SUCCESS)
}
