//! `platform status --env NAME`: the environment's Applications, and whether its host names
//! reach the Gateway with a Ready certificate, for people and CI gates.

use std::process::ExitCode;

use std::net::SocketAddr;

use crate::cluster::{self, applications, reachability};
use crate::manifest::resolve;

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
    /// Ask this name server (IP:PORT) instead of the system's resolver, e.g. the zone's own
    /// server before caches have the records.
    #[arg(long, value_name = "IP:PORT")]
    dns_server: Option<SocketAddr>,
}

pub fn run(args: &Args) -> miette::Result<ExitCode> {
    let loaded = match super::load(&args.target.manifest.file)? {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    let env = super::environment(&loaded, &args.target.env)?;
    let resolved = resolve::resolve_environment(&loaded.manifest, env).map_err(|e| miette::miette!("{e}"))?;
    let context = args.cluster.context_for(env);
    let (apps, hosts) = super::runtime()?.block_on(async {
        let client = cluster::connect(context.as_deref()).await?;
        let apps = applications::list(&client).await?;
        let resolver = reachability::resolver(args.dns_server)?;
        let gateway = (resolved.gateway.namespace, resolved.gateway.name);
        let hosts = reachability::check(&client, &resolver, gateway, &reachability::targets(&resolved.gateway)).await?;
        Ok::<_, cluster::ClusterError>((apps, hosts))
    })?;
    let unhealthy = apps.iter().filter(|a| !a.healthy()).count();
    let unreachable = hosts.iter().filter(|h| !h.reachable()).count();
    match args.output {
        Output::Json => {
            let report = serde_json::json!({
                "environment": args.target.env,
                "healthy": unhealthy == 0,
                "reachable": unreachable == 0,
                "applications": apps,
                "hosts": hosts,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&report).map_err(|e| miette::miette!("{e}"))?
            );
        }
        Output::Text => {
            print!("{}", applications::table(&apps));
            for host in &hosts {
                println!("{}", host.line());
            }
            eprintln!(
                "{} of {} applications Synced and Healthy; {} of {} hosts reachable",
                apps.len() - unhealthy,
                apps.len(),
                hosts.len() - unreachable,
                hosts.len()
            );
        }
    }
    Ok(if unhealthy == 0 && unreachable == 0 && !apps.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
