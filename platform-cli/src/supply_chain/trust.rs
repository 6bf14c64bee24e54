//! One trust config: the same identity `platform verify` checks and Kyverno's `verifyImages`
//! enforces (both rendered from the manifest's `signing`).

use std::path::PathBuf;

use crate::manifest::Manifest;
use crate::manifest::ci::{self, NoSigningIdentity, SigningView};

/// Who must have signed an image, and what evidence is required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustPolicy {
    /// A cosign key pair (ECDSA P-256); `public_key` is PEM.
    Key {
        public_key: String,
        /// cosign's `--insecure-ignore-tlog`: accept signatures without a Rekor entry.
        ignore_tlog: bool,
        /// Sigstore `trusted_root.json` holding the Rekor keys that check the log entry.
        trusted_root: Option<PathBuf>,
    },
    /// A Fulcio certificate for an exact identity.
    Keyless {
        /// Exact SAN (`--certificate-identity`); no prefix or regex matching.
        identity: String,
        /// `--certificate-oidc-issuer`.
        issuer: String,
        /// `--certificate-github-workflow-repository` (OWNER/REPO), when required.
        workflow_repository: Option<String>,
        /// Sigstore `trusted_root.json` (Fulcio CAs and Rekor keys).
        trusted_root: Option<PathBuf>,
    },
}

impl TrustPolicy {
    /// The manifest's signing identity, as resolved once for the workflow and Kyverno too. The
    /// transparency log is always required here, as in the rendered Kyverno policy.
    pub fn from_manifest(manifest: &Manifest, trusted_root: Option<PathBuf>) -> Result<Self, NoSigningIdentity> {
        Ok(match ci::signing(manifest)? {
            SigningView::Key { public_key, .. } => TrustPolicy::Key {
                public_key,
                ignore_tlog: false,
                trusted_root,
            },
            SigningView::Keyless {
                issuer,
                subject,
                workflow_repository,
            } => TrustPolicy::Keyless {
                identity: subject,
                issuer,
                workflow_repository: Some(workflow_repository),
                trusted_root,
            },
        })
    }

    pub fn trusted_root(&self) -> Option<&PathBuf> {
        match self {
            TrustPolicy::Key { trusted_root, .. } | TrustPolicy::Keyless { trusted_root, .. } => trusted_root.as_ref(),
        }
    }

    pub fn requires_tlog(&self) -> bool {
        !matches!(self, TrustPolicy::Key { ignore_tlog: true, .. })
    }
}

/// Sigstore's public-good trusted root could not be fetched.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("cannot fetch Sigstore's trusted root through TUF: {reason}")]
#[diagnostic(
    code(verify::tuf),
    help(
        "check the network path to tuf-repo-cdn.sigstore.dev (a root it cannot update from there reports as expired), or pass --trusted-root FILE with a trusted_root.json fetched earlier"
    )
)]
pub struct TufError {
    reason: String,
}

/// Fetches the public-good instance's `trusted_root.json` from Sigstore's TUF repository into
/// `dir`, authenticated by the TUF root that the `sigstore` crate embeds, as cosign does by
/// default. Returns the file's path, for the same checks as a `--trusted-root` file.
pub async fn fetch_public_good_root(dir: &std::path::Path) -> Result<PathBuf, TufError> {
    sigstore::trust::sigstore::SigstoreTrustRoot::new(Some(dir))
        .await
        .map_err(|e| TufError { reason: e.to_string() })?;
    Ok(dir.join("trusted_root.json"))
}
