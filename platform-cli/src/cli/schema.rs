//! `platform schema`: the manifest's JSON Schema, generated from the Rust types.

use std::process::ExitCode;

use miette::IntoDiagnostic;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_: &Args) -> miette::Result<ExitCode> {
    let text = serde_json::to_string_pretty(crate::manifest::structure::schema()).into_diagnostic()?;
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}
