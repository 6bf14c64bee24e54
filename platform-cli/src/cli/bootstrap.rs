//! `platform bootstrap --env NAME`: apply Argo CD's entry points and watch it converge.

use std::process::ExitCode;
use std::time::Duration;

use crate::cluster::{applications, bootstrap};
use crate::manifest::resolve;
use crate::model::SecretStore;
use crate::secrets::{EnvSecrets, push, store};

use super::{ClusterArg, EnvArg};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: EnvArg,
    #[command(flatten)]
    cluster: ClusterArg,
    /// Server-side dry run: validated and admitted by the API server, nothing persisted.
    #[arg(long)]
    dry_run: bool,
    /// How long to wait for every Application to be Synced and Healthy, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    timeout: u64,
}

pub fn run(args: &Args) -> miette::Result<ExitCode> {
    let loaded = match super::load(&args.target.manifest.file)? {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    let env = super::environment(&loaded, &args.target.env)?;
    let objects = bootstrap::objects_for(&loaded, &args.target.env)?;
    let resolved = resolve::resolve_environment(&loaded.manifest, env).map_err(|e| miette::miette!("{e}"))?;
    let secrets = resolved.secret_table(&loaded.manifest, env);
    let mut options = bootstrap::Options {
        dry_run: args.dry_run,
        wait: true,
        timeout: Duration::from_secs(args.timeout),
        poll: Duration::from_secs(5),
    };
    let runtime = super::runtime()?;
    let mut last = String::new();
    let mut missing = Vec::new();
    let apps = runtime.block_on(async {
        let client = args.cluster.connect_checked(&loaded, env).await?;
        bootstrap::check_version(&client).await?;
        bootstrap::check_storage_class(&client).await?;
        let outcome = if secrets.store == SecretStore::Kubernetes {
            store::ensure(&client, &secrets, args.dry_run).await?
        } else {
            in_store(&client, &secrets, &objects, &options).await?
        };
        let created = if secrets.store == SecretStore::Kubernetes {
            "created"
        } else {
            "pushed to the store (kept where the store had a value)"
        };
        for (verb, ids) in [(created, &outcome.created), ("completed", &outcome.completed)] {
            for id in ids {
                eprintln!("secret {}/{} {verb}", id.namespace(), id.spec().name);
            }
        }
        missing = outcome.missing;
        options.wait = missing.is_empty();
        let apps = bootstrap::bootstrap(&client, &objects, &options, |apps| {
            // A live table, printed when something changed.
            let table = applications::table(apps);
            if table != last {
                eprintln!("{table}");
                last = table;
            }
        })
        .await?;
        Ok::<_, miette::Report>(apps)
    })?;
    if !missing.is_empty() {
        let file = args.target.manifest.file.to_string_lossy();
        let lines: Vec<String> = missing
            .iter()
            .flat_map(|(id, keys)| keys.iter().map(|k| format!("  {}", secrets.set_command(&file, *id, k))))
            .collect();
        return Err(miette::miette!(
            help = "set each, then run bootstrap again: it resumes and waits for the Applications",
            "{}: not ready; a person must set {} secret value(s) first:\n{}",
            args.target.env,
            lines.len(),
            lines.join("\n")
        ));
    }
    if args.dry_run {
        println!("dry run: the API server accepted the AppProject and the root Application; nothing was persisted");
    } else {
        println!("{}: {} applications Synced and Healthy", args.target.env, apps.len());
    }
    Ok(ExitCode::SUCCESS)
}

/// With a secret store, the generated values are written through External Secrets Operator,
/// which Argo CD installs: make the namespaces the ExternalSecrets write to (most are made by
/// Applications of later waves), apply the entry points without waiting, wait for the store,
/// then push. "created" then means: pushed, unless the store already had a value.
async fn in_store(
    client: &kube::Client,
    secrets: &EnvSecrets,
    objects: &bootstrap::BootstrapObjects,
    options: &bootstrap::Options,
) -> miette::Result<store::Outcome> {
    push::make_namespaces(client, secrets, options.dry_run).await?;
    let missing = push::missing_before_sync(client, secrets).await?;
    if !missing.is_empty() {
        // Argo CD cannot read the repository yet, so the store would never become ready.
        return Ok(store::Outcome {
            missing,
            ..store::Outcome::default()
        });
    }
    if options.dry_run {
        eprintln!("dry run: the generated secrets are pushed to the store only once Argo CD has synced it");
        return Ok(store::Outcome::default());
    }
    let entry = bootstrap::Options {
        wait: false,
        ..options.clone()
    };
    bootstrap::bootstrap(client, objects, &entry, |_| {}).await?;
    let target = push::Target {
        store: secrets.store,
        prefix: secrets.prefix.clone(),
        timeout: options.timeout,
        poll: options.poll,
    };
    push::wait_for_store(client, &target).await?;
    Ok(push::ensure(client, secrets, &target).await?)
}
