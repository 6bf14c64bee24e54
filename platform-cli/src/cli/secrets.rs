//! `platform secrets list|set|rotate`: the environment's Secrets table, the values a person
//! supplies, and new values for the generated ones.
//! No value is ever printed: `list --live` shows a digest at most.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::cluster;
use crate::manifest::LoadedManifest;
use crate::manifest::resolve;
use crate::model::SecretStore;
use crate::secrets::catalog::{Birth, Maker};
use crate::secrets::external::remote_name;
use crate::secrets::store::{self, Live};
use crate::secrets::values::{self, Data};
use crate::secrets::{EnvSecrets, SetError};
use crate::secrets::{push, rotate};

use super::verify_report::Output;
use super::{ClusterArg, EnvArg};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Every Secret the environment needs: keys, how each is born, who makes it, who reads it;
    /// with --live, whether each exists in the cluster, its keys (as digests) and its age.
    List(ListArgs),
    /// Set a Secret a person supplies (NAME, or NAME.KEY when it has several keys), from a
    /// file, an environment variable or standard input; nothing is echoed.
    Set(SetArgs),
    /// Give a Secret `platform bootstrap` made a new value, and restart what reads it in the
    /// order it needs, waiting for every replica after each step.
    Rotate(RotateArgs),
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    #[command(flatten)]
    target: EnvArg,
    #[command(flatten)]
    cluster: ClusterArg,
    /// Read each Secret from the cluster.
    #[arg(long)]
    live: bool,
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
}

#[derive(Debug, clap::Args)]
struct SetArgs {
    #[command(flatten)]
    target: EnvArg,
    #[command(flatten)]
    cluster: ClusterArg,
    /// NAME or NAME.KEY, e.g. alertmanager-receivers.slack-webhook-url.
    #[arg(value_name = "NAME[.KEY]")]
    secret: String,
    /// Read the value from this file.
    #[arg(long, value_name = "FILE", conflicts_with = "from_env")]
    from_file: Option<PathBuf>,
    /// Read the value from this environment variable.
    #[arg(long, value_name = "VAR")]
    from_env: Option<String>,
}

#[derive(Debug, clap::Args)]
struct RotateArgs {
    #[command(flatten)]
    target: EnvArg,
    #[command(flatten)]
    cluster: ClusterArg,
    /// The Secret, e.g. app-jwt.
    #[arg(value_name = "NAME")]
    secret: String,
    /// Longest wait for each rollout, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=3600))]
    timeout: u64,
}

pub fn run(args: &Args) -> miette::Result<ExitCode> {
    match &args.command {
        Command::List(list) => run_list(list),
        Command::Set(set) => run_set(set),
        Command::Rotate(rotate) => run_rotate(rotate),
    }
}

fn env_secrets(loaded: &LoadedManifest, name: &str) -> miette::Result<EnvSecrets> {
    let env = super::environment(loaded, name)?;
    let resolved = resolve::resolve_environment(&loaded.manifest, env).map_err(|e| miette::miette!("{e}"))?;
    Ok(resolved.secret_table(&loaded.manifest, env))
}

fn run_list(args: &ListArgs) -> miette::Result<ExitCode> {
    let loaded = match super::load(&args.target.manifest.file)? {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    let secrets = env_secrets(&loaded, &args.target.env)?;
    let live = if args.live {
        let context = args.cluster.context_for(super::environment(&loaded, &args.target.env)?);
        let found = super::runtime()?.block_on(async {
            let client = cluster::connect(context.as_deref()).await?;
            let mut found = Vec::new();
            for &id in &secrets.secrets {
                found.push(store::read(&client, id).await?);
            }
            Ok::<_, cluster::ClusterError>(found)
        })?;
        Some(found)
    } else {
        None
    };
    let rows: Vec<serde_json::Value> = secrets
        .secrets
        .iter()
        .enumerate()
        .map(|(i, &id)| row(&secrets, id, live.as_ref().map(|l| l[i].as_ref())))
        .collect();
    match args.output {
        Output::Json => {
            let report = serde_json::json!({ "environment": secrets.environment, "secrets": rows });
            println!(
                "{}",
                serde_json::to_string_pretty(&report).map_err(|e| miette::miette!("{e}"))?
            );
        }
        Output::Text => print!("{}", text_table(&rows, live.is_some())),
    }
    let incomplete = rows
        .iter()
        .any(|r| r["live"]["missingKeys"].as_array().is_some_and(|m| !m.is_empty()));
    Ok(if incomplete {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn row(secrets: &EnvSecrets, id: crate::secrets::catalog::SecretId, live: Option<Option<&Live>>) -> serde_json::Value {
    let spec = id.spec();
    let keys = id.keys(&secrets.runs);
    let mut row = serde_json::json!({
        "name": spec.name,
        "namespace": id.namespace(),
        "type": spec.kind,
        "madeBy": match id.maker(&secrets.runs) { Maker::Platform => "platform", Maker::Person => "person" },
        "keys": keys.iter().map(|k| serde_json::json!({ "name": k.name, "birth": k.birth })).collect::<Vec<_>>(),
        "readers": spec.readers,
        "rotation": {
            "how": <&str>::from(id.rotation(&secrets.runs)),
            "restarts": id.rotation(&secrets.runs).restarts().iter()
                .map(|w| serde_json::json!({ "namespace": w.namespace, "deployment": w.name }))
                .collect::<Vec<_>>(),
        },
    });
    if let Some(live) = live {
        row["live"] = match live {
            None => {
                serde_json::json!({ "exists": false, "missingKeys": keys.iter().map(|k| k.name).collect::<Vec<_>>() })
            }
            Some(live) => serde_json::json!({
                "exists": true,
                "created": live.created,
                "keys": live.data.iter().map(|(k, v)| (k.clone(), values::digest(v).into())).collect::<serde_json::Map<_, _>>(),
                "missingKeys": keys.iter().filter(|k| !live.data.contains_key(k.name)).map(|k| k.name).collect::<Vec<_>>(),
            }),
        };
    }
    row
}

fn text_table(rows: &[serde_json::Value], live: bool) -> String {
    let mut lines = vec![if live {
        vec!["SECRET", "NAMESPACE", "MADE BY", "KEYS", "IN CLUSTER"]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
    } else {
        vec!["SECRET", "NAMESPACE", "MADE BY", "KEYS", "READ BY"]
            .into_iter()
            .map(String::from)
            .collect()
    }];
    for r in rows {
        let keys: Vec<String> = r["keys"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|k| {
                let birth = match k["birth"]["kind"].as_str() {
                    Some("random") => format!("random {}B", k["birth"]["bytes"]),
                    Some(kind) => kind.to_string(),
                    None => String::new(),
                };
                format!("{} ({birth})", k["name"].as_str().unwrap_or_default())
            })
            .collect();
        let last = if live {
            let missing: Vec<&str> = r["live"]["missingKeys"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|k| k.as_str())
                .collect();
            match (r["live"]["exists"].as_bool(), missing.is_empty()) {
                (Some(false), _) => "missing".to_string(),
                (_, true) => format!("present, created {}", r["live"]["created"].as_str().unwrap_or("?")),
                (_, false) => format!("lacks {}", missing.join(", ")),
            }
        } else {
            r["readers"].as_str().unwrap_or_default().to_string()
        };
        lines.push(vec![
            r["name"].as_str().unwrap_or_default().to_string(),
            r["namespace"].as_str().unwrap_or_default().to_string(),
            r["madeBy"].as_str().unwrap_or_default().to_string(),
            keys.join(", "),
            last,
        ]);
    }
    let widths: Vec<usize> = (0..4)
        .map(|c| lines.iter().map(|l| l[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for l in &lines {
        for (c, w) in widths.iter().enumerate() {
            out += &format!("{:<w$}  ", l[c]);
        }
        out += &l[4];
        out += "\n";
    }
    out
}

fn run_set(args: &SetArgs) -> miette::Result<ExitCode> {
    let loaded = match super::load(&args.target.manifest.file)? {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    let secrets = env_secrets(&loaded, &args.target.env)?;
    let (id, key) = secrets.supplied_target(&args.secret)?;
    let target = format!("{}.{key}", id.spec().name);
    let raw = read_value(args)?;
    let mut value = String::from_utf8(raw).map_err(|_| SetError::NotText { target: target.clone() })?;
    // What `echo` and editors leave at the end of a file is not part of a key or a URL.
    while value.ends_with('\n') || value.ends_with('\r') {
        value.pop();
    }
    if value.trim().is_empty() {
        return Err(SetError::Empty { target }.into());
    }
    let env = super::environment(&loaded, &args.target.env)?;
    let data = super::runtime()?.block_on(async {
        let client = args.cluster.connect_checked(&loaded, env).await?;
        let mut data: Data = store::read(&client, id).await?.map(|l| l.text()).unwrap_or_default();
        if secrets.store == SecretStore::Kubernetes || id.in_cluster_only() {
            data.insert(key.to_string(), value);
            store::write(&client, id, &data, false).await?;
        } else {
            // Only this key goes to the store; the others keep what the store holds.
            let target = push::Target {
                store: secrets.store,
                prefix: secrets.prefix.clone(),
                timeout: Duration::from_secs(120),
                poll: Duration::from_secs(2),
            };
            let pushed = Data::from([(key.to_string(), value)]);
            push::push(&client, &target, id, &pushed, push::Policy::Replace).await?;
            data.extend(pushed);
        }
        Ok::<_, miette::Report>(data)
    })?;
    let still: Vec<&str> = id
        .keys(&secrets.runs)
        .iter()
        .filter(|k| matches!(k.birth, Birth::Supplied { .. }) && !data.contains_key(k.name))
        .map(|k| k.name)
        .collect();
    if secrets.store == SecretStore::Kubernetes || id.in_cluster_only() {
        eprintln!("set {target} in namespace {}", id.namespace());
    } else {
        eprintln!(
            "set {target} in the secret store as {}; External Secrets Operator copies it to namespace {}",
            remote_name(&secrets.prefix, id, key),
            id.namespace()
        );
    }
    if !still.is_empty() {
        eprintln!("{} also needs: {}", id.spec().name, still.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

fn run_rotate(args: &RotateArgs) -> miette::Result<ExitCode> {
    let loaded = match super::load(&args.target.manifest.file)? {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    let secrets = env_secrets(&loaded, &args.target.env)?;
    let id = secrets.find(&args.secret)?;
    let plan = rotate::plan(&secrets, id, &args.target.manifest.file.display().to_string())?;
    let env = super::environment(&loaded, &args.target.env)?;
    let options = rotate::Options {
        timeout: Duration::from_secs(args.timeout),
        poll: Duration::from_secs(2),
    };
    let report = super::runtime()?.block_on(async {
        let client = args.cluster.connect_checked(&loaded, env).await?;
        Ok::<_, miette::Report>(rotate::rotate(&client, &secrets, id, plan, options).await?)
    })?;
    for step in &report.steps {
        eprintln!("{step}");
    }
    Ok(ExitCode::SUCCESS)
}

fn read_value(args: &SetArgs) -> miette::Result<Vec<u8>> {
    if let Some(path) = &args.from_file {
        return std::fs::read(path).map_err(|e| miette::miette!("cannot read {}: {e}", path.display()));
    }
    if let Some(var) = &args.from_env {
        return std::env::var_os(var)
            .map(std::ffi::OsString::into_encoded_bytes)
            .ok_or_else(|| {
                miette::miette!(
                    help = "export it first, or use --from-file",
                    "environment variable {var} is not set"
                )
            });
    }
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .map_err(|e| miette::miette!("cannot read standard input: {e}"))?;
    Ok(buf)
}
