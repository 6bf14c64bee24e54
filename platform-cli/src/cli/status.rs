//! `platform status --env NAME`: the environment's Applications, for people and CI gates.

use std::process::ExitCode;

use crate::cluster::{self, applications};

use super::verify_report::Output;
use super::{ClusterArg, EnvArg};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: EnvArg,
    #[command(flatten)]
    cluster: ClusterArg,
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
}

pub fn run(args: &Args) -> miette::Result<ExitCode> {
    let loaded = match super::load(&args.target.manifest.file)? {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    let env = super::environment(&loaded, &args.target.env)?;
    let context = args.cluster.context_for(env);
    let apps = super::runtime()?.block_on(async {
        let client = cluster::connect(context.as_deref()).await?;
        applications::list(&client).await
    })?;
    let unhealthy = apps.iter().filter(|a| !a.healthy()).count();
    match args.output {
        Output::Json => {
            let report =
                serde_json::json!({ "environment": args.target.env, "healthy": unhealthy == 0, "applications": apps });
            println!(
                "{}",
                serde_json::to_string_pretty(&report).map_err(|e| miette::miette!("{e}"))?
            );
        }
        Output::Text => {
            print!("{}", applications::table(&apps));
            eprintln!(
                "{} of {} applications Synced and Healthy",
                apps.len() - unhealthy,
                apps.len()
            );
        }
    }
    Ok(if unhealthy == 0 && !apps.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
