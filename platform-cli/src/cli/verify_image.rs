//! `platform verify-image REF`: one image, trust given by flags named as cosign names them.

use std::path::PathBuf;
use std::process::ExitCode;

use miette::{IntoDiagnostic, WrapErr};

use crate::supply_chain::TrustPolicy;

use super::verify_report::{self, Common};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Image reference (a tag is resolved to its digest first).
    image: String,
    /// cosign public key (PEM, ECDSA P-256).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "certificate_identity",
        conflicts_with = "certificate_identity"
    )]
    key: Option<PathBuf>,
    /// Exact certificate identity (SAN) of a keyless signature.
    #[arg(long, value_name = "ID", requires = "certificate_oidc_issuer")]
    certificate_identity: Option<String>,
    /// OIDC issuer of a keyless signature.
    #[arg(long, value_name = "URL", requires = "certificate_identity")]
    certificate_oidc_issuer: Option<String>,
    /// GitHub repository (OWNER/REPO) the signing workflow must have run in.
    #[arg(long, value_name = "OWNER/REPO", requires = "certificate_identity")]
    certificate_github_workflow_repository: Option<String>,
    /// Accept key signatures without a transparency-log entry (cosign's flag; never for keyless).
    #[arg(long, requires = "key")]
    insecure_ignore_tlog: bool,
    #[command(flatten)]
    common: Common,
}

pub fn run(args: &Args) -> miette::Result<ExitCode> {
    let root = args.common.trusted_root()?;
    let policy = match (&args.key, &args.certificate_identity, &args.certificate_oidc_issuer) {
        (Some(key), _, _) => TrustPolicy::Key {
            public_key: std::fs::read_to_string(key)
                .into_diagnostic()
                .wrap_err_with(|| format!("cannot read the public key {}", key.display()))?,
            ignore_tlog: args.insecure_ignore_tlog,
            trusted_root: root.path.clone(),
        },
        (None, Some(identity), Some(issuer)) => TrustPolicy::Keyless {
            identity: identity.clone(),
            issuer: issuer.clone(),
            workflow_repository: args.certificate_github_workflow_repository.clone(),
            trusted_root: root.path.clone(),
        },
        // clap enforces one of the two forms.
        _ => {
            return Err(miette::miette!(
                "pass --key FILE, or --certificate-identity and --certificate-oidc-issuer"
            ));
        }
    };
    verify_report::run(std::slice::from_ref(&args.image), &policy, &args.common)
}
