//! `platform outdated`: every pin against the releases published for it.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use crate::model::kubernetes_support;
use crate::outdated::cache::Cache;
use crate::outdated::releases::Fetcher;
use crate::outdated::{self, report};

use super::ManifestArg;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Output {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    manifest: ManifestArg,
    /// Only this environment's pins (repeat for several; default: every environment).
    #[arg(long = "env", value_name = "NAME", add = super::completions::environment_names())]
    env: Vec<String>,
    /// How to print the report.
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
    #[command(flatten)]
    mirror: super::MirrorArg,
    #[command(flatten)]
    github: super::GitHubArg,
    /// How long what a source answered is reused, in minutes (0: read everything again).
    #[arg(long, value_name = "MINUTES", default_value_t = 60)]
    cache_minutes: u64,
}

pub fn run(args: &Args) -> miette::Result<ExitCode> {
    // Past-support pins are what this reports: they do not refuse the manifest here.
    let loaded = match super::loaded_or_exit(crate::manifest::load_for_report(&args.manifest.file))? {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    for name in &args.env {
        super::environment(&loaded, name)?;
    }
    let cache = Cache::new(Cache::default_dir(), Duration::from_secs(args.cache_minutes * 60));
    // A token only raises GitHub's rate limit: tags are public.
    let token = std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty());
    let fetcher = Fetcher::new(
        args.mirror.mirror.clone(),
        cache,
        args.github.github_api_url.clone(),
        token,
    );
    let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.set_style(
        indicatif::ProgressStyle::with_template("reading releases {bar:30} {pos}/{len} sources")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let rows = super::runtime()?.block_on(outdated::check(
        &loaded.manifest,
        &args.env,
        &fetcher,
        kubernetes_support::today(),
        |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    ));
    bar.finish_and_clear();
    print!(
        "{}",
        match args.output {
            Output::Text => report::text(&rows),
            Output::Json => report::json(&rows),
            Output::Markdown => report::markdown(&rows),
        }
    );
    Ok(ExitCode::from(outdated::exit_code(&rows)))
}
