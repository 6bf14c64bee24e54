//! `platform render`: write the rendered tree, or `--check` that the disk matches it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::render::{self, Layout, output};

use super::ManifestArg;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    manifest: ManifestArg,
    /// Write a complete, self-contained tree here (hand-written modules and charts included)
    /// instead of into the repository root.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Render only this environment (repeatable).
    #[arg(long = "env", value_name = "NAME", add = super::completions::environment_names())]
    envs: Vec<String>,
    /// Write nothing; show a diff of every file that differs and exit non-zero on drift.
    #[arg(long)]
    check: bool,
}

pub fn run(args: &Args) -> miette::Result<ExitCode> {
    let loaded = match super::load(&args.manifest.file)? {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    let (mut tree, out) = match &args.out {
        Some(dir) => (render::render_as(&loaded, &args.envs, Layout::Standalone)?, dir.clone()),
        None => (render::render(&loaded, &args.envs)?, repository_root()),
    };
    if args.out.is_some() {
        render::add_hand_written(&mut tree);
        render::add_manifest(&mut tree, &loaded);
    }
    let env_count = tree.environments.len();
    if args.check {
        let drift = output::check(&tree, &out)?;
        for d in &drift {
            match d {
                output::Drift::Changed { diff, .. } | output::Drift::Missing { diff, .. } => print!("{diff}"),
                output::Drift::Extra { path } => println!("extra file: {path} (rendered before, no longer produced)"),
            }
        }
        if drift.is_empty() {
            eprintln!(
                "{} files in sync with {} ({env_count} environments)",
                tree.files.len(),
                args.manifest.file.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!(
            "error: {} file{} differ{} from what {} renders\n  help: run `platform render -f {}{}` and commit the result",
            drift.len(),
            if drift.len() == 1 { "" } else { "s" },
            if drift.len() == 1 { "s" } else { "" },
            args.manifest.file.display(),
            args.manifest.file.display(),
            args.out
                .as_ref()
                .map(|o| format!(" --out {}", o.display()))
                .unwrap_or_default(),
        );
        return Ok(ExitCode::FAILURE);
    }
    let summary = output::write(&tree, &out)?;
    println!(
        "rendered {env_count} environment{} into {}: {} written, {} unchanged, {} removed",
        if env_count == 1 { "" } else { "s" },
        out.display(),
        summary.written,
        summary.unchanged,
        summary.removed
    );
    Ok(ExitCode::SUCCESS)
}

/// The enclosing Git work tree (where `platform.yaml` and the rendered tree live), else `.`.
fn repository_root() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    cwd.ancestors()
        .find(|dir| dir.join(".git").exists())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}
