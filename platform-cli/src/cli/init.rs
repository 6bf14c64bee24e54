//! `platform init [DIR]`: a new GitOps repository. On a terminal it asks what the flags leave
//! open; otherwise every answer must be a flag (or `--from-example`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::init::{
    self, InitError,
    answers::{self, PrivateKey},
    draft::{Draft, SigningMode},
    examples,
};
use crate::model::Provider;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Without a terminal (CI, scripts) nothing is asked: pass --name, --repo-url, --provider, \
--region (or what the provider needs instead), --domain and --acme-email, or --from-example NAME."
)]
pub struct Args {
    /// Folder of the new repository; created if missing. A manifest already there is never overwritten.
    #[arg(value_name = "DIR", default_value = ".")]
    dir: PathBuf,
    /// Start from a bundled example instead of questions.
    #[arg(long, value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(examples::names()),
          conflicts_with_all = ANSWER_FLAGS)]
    from_example: Option<String>,
    /// Never ask, even on a terminal: a missing answer is an error naming its flag.
    #[arg(long)]
    no_input: bool,
    /// Platform name: a DNS label used in resource, bucket and namespace names.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// HTTPS URL of the new repository, which Argo CD syncs from.
    #[arg(long, value_name = "URL")]
    repo_url: Option<String>,
    /// Registry for the app image (default for a GitHub repository: ghcr.io/OWNER).
    #[arg(long, value_name = "HOST/NAMESPACE")]
    registry: Option<String>,
    /// A `registry.login` field the registry needs, e.g. awsRoleArn=arn:aws:iam::123456789012:role/ci (repeatable).
    #[arg(long = "registry-login", value_name = "KEY=VALUE")]
    registry_login: Vec<String>,
    /// How the app workflow signs the image (default: keyless for a GitHub repository, else key).
    #[arg(long, value_enum)]
    signing: Option<SigningArg>,
    /// cosign public key (cosign.pub) for --signing key.
    #[arg(long, value_name = "FILE")]
    public_key: Option<PathBuf>,
    /// KMS key the workflow signs through (awskms://, azurekms:// or gcpkms://) for --signing key.
    #[arg(long, value_name = "URI", conflicts_with = "private_key_secret")]
    private_key_kms: Option<String>,
    /// GitHub Actions secret holding the encrypted private key (default COSIGN_PRIVATE_KEY).
    #[arg(long, value_name = "NAME")]
    private_key_secret: Option<String>,
    /// App image pinned by digest (default: a placeholder until the app workflow's first build).
    #[arg(long, value_name = "REF")]
    app_image: Option<String>,
    /// Environments in promotion order [default: dev,staging,prod].
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    environments: Option<Vec<String>>,
    /// The production environment, or `none` [default: the last one].
    #[arg(long, value_name = "ENV")]
    production: Option<String>,
    /// Where the clusters run (every environment).
    #[arg(long, value_enum)]
    provider: Option<ProviderArg>,
    /// Cloud region (eks, aks, gke).
    #[arg(long, value_name = "REGION")]
    region: Option<String>,
    /// GCP project (gke).
    #[arg(long, value_name = "ID")]
    gcp_project: Option<String>,
    /// kubeconfig context of the cluster (existing).
    #[arg(long, value_name = "CTX")]
    kube_context: Option<String>,
    /// S3-compatible endpoint for database backups (existing).
    #[arg(long, value_name = "URL")]
    backup_endpoint: Option<String>,
    /// Base domain: production serves app.DOMAIN, every other environment app.ENV.DOMAIN.
    #[arg(long, value_name = "DOMAIN")]
    domain: Option<String>,
    /// Let's Encrypt contact (every environment).
    #[arg(long, value_name = "EMAIL")]
    acme_email: Option<String>,
}

const ANSWER_FLAGS: [&str; 18] = [
    "name",
    "repo_url",
    "registry",
    "registry_login",
    "signing",
    "public_key",
    "private_key_kms",
    "private_key_secret",
    "app_image",
    "environments",
    "production",
    "provider",
    "region",
    "gcp_project",
    "kube_context",
    "backup_endpoint",
    "domain",
    "acme_email",
];

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum SigningArg {
    /// The app workflow's GitHub OIDC identity (no key to keep).
    Keyless,
    /// A cosign key pair.
    Key,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ProviderArg {
    /// Amazon EKS.
    Eks,
    /// Azure AKS.
    Aks,
    /// Google GKE.
    Gke,
    /// A cluster you have, through a kubeconfig context.
    Existing,
}

pub fn run(args: &Args) -> miette::Result<ExitCode> {
    let text = match &args.from_example {
        Some(name) => examples::manifest(name).ok_or_else(|| InitError::InvalidFlag {
            message: format!("--from-example {name}: no such example"),
            help: format!("examples: {}", examples::names().join(", ")),
        })?,
        None => {
            let draft = draft(args)?;
            let interactive = !args.no_input && std::io::stdin().is_terminal();
            let answers = if interactive {
                init::prompt::ask(&draft, dir_name(&args.dir).as_deref())?
            } else {
                let answers = draft.complete().map_err(|missing| InitError::MissingFlags {
                    why: if args.no_input {
                        "--no-input is given"
                    } else {
                        "stdin is not a terminal"
                    },
                    flags: missing.iter().map(|q| q.flag()).collect(),
                })?;
                let problems = answers.problems();
                if !problems.is_empty() {
                    return Err(InitError::InvalidAnswers {
                        problems: init::flag_problems(&problems),
                    }
                    .into());
                }
                answers
            };
            answers
                .manifest()
                .map_err(|e| InitError::Render(crate::render::RenderError::template(e)))?
        }
    };
    let created = init::create(&args.dir, &text)?;
    print_next_steps(&created, &args.dir);
    Ok(ExitCode::SUCCESS)
}

/// The flags as answers; a value no answer could be (an unreadable key file) is refused here.
fn draft(args: &Args) -> Result<Draft, InitError> {
    let mut registry_login = std::collections::BTreeMap::new();
    for pair in &args.registry_login {
        let (key, value) = pair.split_once('=').ok_or_else(|| InitError::InvalidFlag {
            message: format!("--registry-login {pair}: not KEY=VALUE"),
            help: "e.g. --registry-login awsRoleArn=arn:aws:iam::123456789012:role/ci-push".into(),
        })?;
        registry_login.insert(key.trim().to_string(), value.trim().to_string());
    }
    let public_key = match &args.public_key {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| InitError::InvalidFlag {
                message: format!("--public-key {}: {e}", path.display()),
                help: "pass the cosign public key file, e.g. cosign.pub from `cosign generate-key-pair`".into(),
            })?;
            if !answers::is_pem_public_key(&text) {
                return Err(InitError::InvalidFlag {
                    message: format!("--public-key {}: not a PEM public key", path.display()),
                    help: "pass cosign.pub, from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY-----".into(),
                });
            }
            Some(text)
        }
    };
    let private_key = match (&args.private_key_kms, &args.private_key_secret) {
        (Some(uri), _) => Some(PrivateKey::Kms(uri.clone())),
        (None, Some(name)) => Some(PrivateKey::Secret(name.clone())),
        (None, None) => None,
    };
    let draft = Draft {
        name: args.name.clone(),
        repo_url: args.repo_url.clone(),
        registry: args.registry.clone(),
        registry_login,
        signing: args.signing.map(|s| match s {
            SigningArg::Keyless => SigningMode::Keyless,
            SigningArg::Key => SigningMode::Key,
        }),
        public_key,
        private_key,
        app_image: args.app_image.clone(),
        environments: args.environments.clone(),
        production: args
            .production
            .clone()
            .map(|p| if p == "none" { None } else { Some(p) }),
        provider: args.provider.map(|p| match p {
            ProviderArg::Eks => Provider::Eks,
            ProviderArg::Aks => Provider::Aks,
            ProviderArg::Gke => Provider::Gke,
            ProviderArg::Existing => Provider::Existing,
        }),
        region: args.region.clone(),
        gcp_project: args.gcp_project.clone(),
        kube_context: args.kube_context.clone(),
        backup_endpoint: args.backup_endpoint.clone(),
        domain: args.domain.clone(),
        acme_email: args.acme_email.clone(),
    };
    if let Some(message) = draft.production_problem() {
        return Err(InitError::InvalidFlag {
            message,
            help: "name the production environment as --environments lists it".into(),
        });
    }
    Ok(draft)
}

/// The folder's own name, offered as the platform's name.
fn dir_name(dir: &Path) -> Option<String> {
    let absolute = std::path::absolute(dir).ok()?;
    Some(absolute.file_name()?.to_string_lossy().into_owned())
}

fn print_next_steps(created: &init::Created, dir: &Path) {
    let n = created.environments.len();
    println!(
        "created {} for {} environment{} ({}): {}, {}, README.md, .gitignore and {} rendered files",
        dir.display(),
        n,
        if n == 1 { "" } else { "s" },
        created.environments.join(", "),
        init::MANIFEST_FILE,
        init::SCHEMA_FILE,
        created.rendered,
    );
    for kept in &created.kept {
        println!("kept the {kept} that was there");
    }
    let cd = if dir == Path::new(".") {
        String::new()
    } else {
        format!("cd {} && ", shell_word(&dir.display().to_string()))
    };
    let first = &created.environments[0];
    let apply = init::first_applies(created.state_root, created.ci_root, first);
    println!("next:");
    println!(
        "  1. review, commit and push:  {cd}git init -b main && git add -A && git commit -m \"platform init\" \
         && git remote add origin {} && git push -u origin main",
        shell_word(&created.repo_url)
    );
    println!("  2. create {first}:  {apply}");
    println!("  3. bootstrap Argo CD:  platform bootstrap --env {first}");
    match &created.dns {
        init::FirstDns::Delegate { zone } => println!(
            "  4. delegate {zone} from its parent to the NS records of:  terraform -chdir=terraform/envs/{first} output \
             dns_name_servers"
        ),
        init::FirstDns::Manual { domain } => println!(
            "  4. point app.{domain}, argocd.{domain} and grafana.{domain} at the Gateway's address:  kubectl -n gateway \
             get gateway platform -o jsonpath='{{.status.addresses[*].value}}'"
        ),
        init::FirstDns::Updated => {}
    }
    if created.image_is_placeholder {
        println!(
            "app.image is a placeholder: pin the digest the app workflow prints after its first run, \
             then `platform render --out .`"
        );
    }
}

/// `s` quoted for a POSIX shell where it needs it (a NUL, which no shell word holds, is dropped).
fn shell_word(s: &str) -> String {
    let s = s.replace('\0', "");
    shlex::try_quote(&s).map_or(s.clone(), std::borrow::Cow::into_owned)
}
