//! Output shared by `verify` and `verify-image`: a line per image as it finishes, or JSON for CI.

use std::process::ExitCode;

use miette::Diagnostic as _;
use serde_json::json;

use crate::supply_chain::trust::fetch_public_good_root;
use crate::supply_chain::{RegistryOptions, TrustPolicy, Verified, VerifyError, verify_image};

#[derive(Debug, Clone, Copy, Default, clap::ValueEnum)]
pub enum Output {
    #[default]
    Text,
    Json,
}

/// Registry and output flags of both verify commands.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Sigstore trusted_root.json (Fulcio CAs, Rekor keys): verification needs no network for trust.
    #[arg(long = "trusted-root", value_name = "FILE", conflicts_with = "sigstore_tuf")]
    pub trusted_root: Option<std::path::PathBuf>,
    /// Fetch the trusted root of Sigstore's public-good instance from its TUF repository
    /// (network), authenticated by the TUF root built into this binary, as cosign does.
    #[arg(long = "sigstore-tuf")]
    pub sigstore_tuf: bool,
    /// Talk plain HTTP to the registry (a loopback test registry), as cosign's flag does.
    #[arg(long = "allow-http-registry")]
    pub allow_http_registry: bool,
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

/// The trusted root a run verifies with; a TUF fetch lives in a folder kept while this lives.
#[derive(Debug)]
pub struct TrustedRoot {
    pub path: Option<std::path::PathBuf>,
    _fetched: Option<tempfile::TempDir>,
}

impl Common {
    /// `--trusted-root FILE` as given, or `--sigstore-tuf` fetched now.
    pub fn trusted_root(&self) -> miette::Result<TrustedRoot> {
        if !self.sigstore_tuf {
            return Ok(TrustedRoot {
                path: self.trusted_root.clone(),
                _fetched: None,
            });
        }
        let dir =
            tempfile::tempdir().map_err(|e| miette::miette!("cannot create a folder for the trusted root: {e}"))?;
        let path = super::runtime()?.block_on(fetch_public_good_root(dir.path()))?;
        Ok(TrustedRoot {
            path: Some(path),
            _fetched: Some(dir),
        })
    }
}

/// Verifies each image in turn, reporting as it goes; exit 1 if any is not verified.
pub fn run(images: &[String], policy: &TrustPolicy, common: &Common) -> miette::Result<ExitCode> {
    let registry = RegistryOptions {
        allow_http: common.allow_http_registry,
    };
    let runtime = super::runtime()?;
    let mut results: Vec<Result<Verified, VerifyError>> = Vec::new();
    for (i, image) in images.iter().enumerate() {
        if let Output::Text = common.output {
            eprintln!("[{}/{}] verifying {image}", i + 1, images.len());
        }
        let result = runtime.block_on(verify_image(image, policy, &registry));
        if let Output::Text = common.output {
            match &result {
                Ok(v) => println!(
                    "verified {} ({}, {} signature{})",
                    v.image,
                    v.digest,
                    v.signatures,
                    plural(v.signatures)
                ),
                Err(e) => {
                    println!("FAILED {e}");
                    if let Some(help) = e.help() {
                        println!("  help: {help}");
                    }
                }
            }
        }
        results.push(result);
    }
    let failed = results.iter().filter(|r| r.is_err()).count();
    match common.output {
        Output::Json => {
            let items: Vec<_> = results
                .iter()
                .map(|r| match r {
                    Ok(v) => {
                        json!({ "image": v.image, "verified": true, "digest": v.digest, "signatures": v.signatures })
                    }
                    Err(e) => json!({
                        "image": e.image(),
                        "verified": false,
                        "error": e.to_string(),
                        "code": e.code().map(|c| c.to_string()),
                        "help": e.help().map(|h| h.to_string()),
                    }),
                })
                .collect();
            let report = json!({ "verified": results.len() - failed, "failed": failed, "images": items });
            println!(
                "{}",
                serde_json::to_string_pretty(&report).map_err(|e| miette::miette!("{e}"))?
            );
        }
        Output::Text => eprintln!(
            "{} of {} image{} verified",
            results.len() - failed,
            results.len(),
            plural(results.len())
        ),
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
