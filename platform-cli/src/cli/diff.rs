//! `platform diff --from ENV --to ENV`: how two environments differ and why;
//! `platform diff --env ENV --live`: what in the cluster has drifted from the committed tree.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::diff::{self, Side, report};
use crate::render::EnvironmentRenderer;

use super::{ClusterArg, ManifestArg};

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["from", "env"])))]
pub struct Args {
    #[command(flatten)]
    manifest: ManifestArg,
    /// Compare this environment's committed files ...
    #[arg(long, value_name = "ENV", requires = "to", add = super::completions::environment_names())]
    from: Option<String>,
    /// ... with this one's.
    #[arg(long, value_name = "ENV", requires = "from", add = super::completions::environment_names())]
    to: Option<String>,
    /// With --live: the environment whose committed objects are compared with the cluster's.
    #[arg(long = "env", value_name = "ENV", requires = "live", add = super::completions::environment_names())]
    env: Option<String>,
    /// Compare the committed objects of --env with the live ones; exit 1 on drift.
    #[arg(long, requires = "env")]
    live: bool,
    #[command(flatten)]
    cluster: ClusterArg,
    /// The rendered tree to read (default: the manifest's folder).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Output {
    Text,
    Json,
    Markdown,
}

/// GitHub's limit on a comment or pull request body, which a Markdown report keeps under.
const MARKDOWN_LIMIT: usize = crate::promote::summary::BODY_LIMIT;

pub fn run(args: &Args) -> miette::Result<ExitCode> {
    let loaded = match super::load(&args.manifest.file)? {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    let root = args.dir.clone().unwrap_or_else(|| manifest_dir(&args.manifest.file));
    if args.live {
        if args.output == Output::Markdown {
            return Err(miette::miette!(
                help = "use --output text or --output json with --live",
                "--output markdown is the report of --from/--to"
            ));
        }
        let name = args.env.as_deref().unwrap_or_default();
        let env = super::environment(&loaded, name)?;
        return live(env, &root, args.cluster.context_for(env), args.output);
    }
    let (Some(from), Some(to)) = (&args.from, &args.to) else {
        return Err(miette::miette!("--from and --to name the environments to compare"));
    };
    let a = super::environment(&loaded, from)?;
    let b = super::environment(&loaded, to)?;
    let renderer = EnvironmentRenderer::new()?;
    let side_a = Side {
        label: a.name.clone(),
        manifest: &loaded.manifest,
        env: a,
        objects: diff::tree::committed(&root, &a.name)?,
    };
    let side_b = Side {
        label: b.name.clone(),
        manifest: &loaded.manifest,
        env: b,
        objects: diff::tree::committed(&root, &b.name)?,
    };
    let comparison = diff::compare(&renderer, &side_a, &side_b)?;
    match args.output {
        Output::Text => print!("{}", report::text(&comparison)),
        Output::Json => print!("{}", report::json(&comparison)),
        Output::Markdown => print!(
            "{}",
            report::markdown(&comparison, MARKDOWN_LIMIT, "`platform diff --output json`")
        ),
    }
    Ok(if comparison.all_explained() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Drift between the committed objects of `env` and the cluster's.
fn live(
    env: &crate::model::Environment,
    root: &Path,
    context: Option<String>,
    output: Output,
) -> miette::Result<ExitCode> {
    let objects = diff::tree::committed(root, &env.name)?;
    let (compared, drifts) = super::runtime()?.block_on(async {
        let client = crate::cluster::connect(context.as_deref()).await?;
        diff::live::drift(&client, &objects).await
    })?;
    match output {
        Output::Json => print!("{}", report::live_json(&env.name, compared, &drifts)),
        Output::Text | Output::Markdown => print!("{}", report::live_text(&env.name, compared, &drifts)),
    }
    Ok(if drifts.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn manifest_dir(file: &Path) -> PathBuf {
    file.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}
