//! `platform validate`: parse and check, report every problem.

use std::process::ExitCode;

use super::ManifestArg;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    manifest: ManifestArg,
}

pub fn run(args: &Args) -> miette::Result<ExitCode> {
    let loaded = match super::load(&args.manifest.file)? {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    let names: Vec<&str> = loaded.manifest.environments.iter().map(|e| e.name.as_str()).collect();
    println!(
        "{}: valid ({} environment{}: {})",
        args.manifest.file.display(),
        names.len(),
        if names.len() == 1 { "" } else { "s" },
        names.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}
