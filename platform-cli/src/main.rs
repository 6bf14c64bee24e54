use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // A fixed, generous width: errors carry digests and paths that must not be broken.
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(miette::MietteHandlerOpts::new().width(160).build())
    }));
    let cli = platform_cli::cli::Cli::parse();
    match platform_cli::cli::run(cli) {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::FAILURE
        }
    }
}
