use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = platform_cli::cli::Cli::parse();
    match platform_cli::cli::run(cli) {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::FAILURE
        }
    }
}
