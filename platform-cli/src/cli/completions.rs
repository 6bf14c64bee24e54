//! `platform completions SHELL`: a completion script for the shell, from the clap definitions.

use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete in; install the script where it looks, e.g. for bash
    /// `platform completions bash > ~/.local/share/bash-completion/completions/platform`.
    #[arg(value_name = "SHELL")]
    shell: Shell,
}

pub fn run(args: &Args) -> miette::Result<ExitCode> {
    let mut command = super::Cli::command();
    clap_complete::generate(args.shell, &mut command, "platform", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}
