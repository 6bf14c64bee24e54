//! The command line: clap types live here and nowhere else; each subcommand has its own file.

mod promote;
mod render;
mod schema;
mod validate;
mod verify;
mod verify_image;
mod verify_report;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::manifest::{self, LoadError, LoadedManifest};

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
    /// Parse and check the manifest; report every problem with FILE:LINE:COL.
    Validate(validate::Args),
    /// Print the manifest's JSON Schema (for editors and yaml-language-server).
    Schema(schema::Args),
    /// Render Terraform, Helm values, Argo CD, policies and observability for every (or each named) environment.
    Render(render::Args),
    /// Carry an environment's pinned versions into the next one, as a pull request.
    Promote(promote::Args),
    /// Verify the cosign signatures of every image an environment deploys.
    Verify(verify::Args),
    /// Verify the cosign signatures of one image.
    VerifyImage(verify_image::Args),
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
        Command::Validate(args) => validate::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Render(args) => render::run(&args),
        Command::Promote(args) => promote::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::VerifyImage(args) => verify_image::run(&args),
    }
}

/// Loads the manifest; on invalid input prints every diagnostic and returns the exit code.
fn load(file: &Path) -> miette::Result<Result<LoadedManifest, ExitCode>> {
    match manifest::load(file) {
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
