//! `platform completions SHELL`: the shell's registration of `platform`'s completions. The
//! shell then asks the binary itself at each Tab (`COMPLETE=<shell> platform -- ...`, answered
//! in `main` before anything else runs), so subcommands and flags come from the clap
//! definitions and environment names from `./platform.yaml`.

use std::ffi::OsStr;
use std::process::ExitCode;

use clap_complete::Shell;
use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};
use clap_complete::env::Shells;

/// The environment variable that switches the binary into answering completions.
pub const COMPLETE_VAR: &str = "COMPLETE";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete in; install the script where it looks, e.g. for bash
    /// `platform completions bash > ~/.local/share/bash-completion/completions/platform`.
    #[arg(value_name = "SHELL")]
    shell: Shell,
}

pub fn run(args: &Args) -> miette::Result<ExitCode> {
    let name = args.shell.to_string();
    let shells = Shells::builtins();
    let shell = shells
        .completer(&name)
        .ok_or_else(|| miette::miette!("no completion registration for {name}"))?;
    shell
        .write_registration(COMPLETE_VAR, "platform", "platform", "platform", &mut std::io::stdout())
        .map_err(|e| miette::miette!("cannot write the completion script: {e}"))?;
    Ok(ExitCode::SUCCESS)
}

/// Completes an environment name from the manifest in the current folder (`-f` is not known
/// to a completer). The YAML is read loosely, so a manifest mid-edit still completes.
pub fn environment_names() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| -> Vec<CompletionCandidate> {
        let Some(current) = current.to_str() else {
            return Vec::new();
        };
        let Ok(text) = std::fs::read_to_string("platform.yaml") else {
            return Vec::new();
        };
        let Ok(document) = yaml_serde::from_str::<serde_json::Value>(&text) else {
            return Vec::new();
        };
        document["environments"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|env| env["name"].as_str())
            .filter(|name| name.starts_with(current))
            .map(CompletionCandidate::new)
            .collect()
    })
}
