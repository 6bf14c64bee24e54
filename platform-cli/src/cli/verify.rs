//! `platform verify --env NAME`: the app image the environment deploys, against the manifest's
//! signing identity (the same one the rendered Kyverno policy enforces).

use std::process::ExitCode;

use crate::manifest::resolve;
use crate::supply_chain::TrustPolicy;

use super::EnvArg;
use super::verify_report::{self, Common};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: EnvArg,
    #[command(flatten)]
    common: Common,
}

pub fn run(args: &Args) -> miette::Result<ExitCode> {
    let loaded = match super::load(&args.target.manifest.file)? {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    let resolved = resolve(&loaded.manifest)?;
    let Some(env) = resolved.iter().find(|r| r.env.name == args.target.env) else {
        return Err(loaded.manifest.unknown_environment(&args.target.env).into());
    };
    let root = args.common.trusted_root()?;
    let policy = TrustPolicy::from_manifest(&loaded.manifest, root.path.clone())?;
    verify_report::run(&env.images(), &policy, &args.common)
}
