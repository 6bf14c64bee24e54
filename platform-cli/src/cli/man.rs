//! `platform man`: the man pages (roff), from the clap definitions.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::CommandFactory;
use miette::{Context, IntoDiagnostic};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write platform.1 and a platform-<subcommand>.1 per subcommand (the pages platform(1)
    /// refers to) into this folder, e.g. /usr/local/share/man/man1; without it, print platform(1).
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

pub fn run(args: &Args) -> miette::Result<ExitCode> {
    let command = super::Cli::command();
    let Some(dir) = &args.out_dir else {
        clap_mangen::Man::new(command)
            .render(&mut std::io::stdout())
            .into_diagnostic()?;
        return Ok(ExitCode::SUCCESS);
    };
    std::fs::create_dir_all(dir)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot create {}", dir.display()))?;
    let mut pages = vec![("platform".to_string(), command.clone())];
    for sub in command.get_subcommands() {
        let name = format!("platform-{}", sub.get_name());
        pages.push((name.clone(), sub.clone().name(name)));
    }
    for (name, page) in pages {
        let path = dir.join(format!("{name}.1"));
        let mut roff = Vec::new();
        clap_mangen::Man::new(page).render(&mut roff).into_diagnostic()?;
        std::fs::write(&path, roff)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "wrote {} man pages into {}",
        command.get_subcommands().count() + 1,
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
