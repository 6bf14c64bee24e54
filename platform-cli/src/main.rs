use std::process::ExitCode;

use clap::{CommandFactory, Parser};

fn main() -> ExitCode {
    // A fixed, generous width: errors carry digests and paths that must not be broken.
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(miette::MietteHandlerOpts::new().width(160).build())
    }));
    // A shell asking for completions (see `platform completions`) is answered here, and exits.
    clap_complete::CompleteEnv::with_factory(platform_cli::cli::Cli::command)
        .var(platform_cli::cli::COMPLETE_VAR)
        .complete();
    let cli = platform_cli::cli::Cli::parse();
    match platform_cli::cli::run(cli) {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::FAILURE
        }
    }
}
