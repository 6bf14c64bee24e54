//! One trust config: the same identity `platform verify` checks and Kyverno's `verifyImages`
//! enforces (both rendered from the manifest's `signing`).

use std::path::PathBuf;

use crate::manifest::Manifest;

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
    /// The manifest's signing identity. The transparency log is always required here, as in the
    /// rendered Kyverno policy.
    pub fn from_manifest(manifest: &Manifest, trusted_root: Option<PathBuf>) -> Self {
        match (&manifest.signing.public_key, &manifest.signing.keyless) {
            (Some(key), _) => TrustPolicy::Key {
                public_key: key.trim().to_string(),
                ignore_tlog: false,
                trusted_root,
            },
            (None, Some(k)) => TrustPolicy::Keyless {
                identity: k.subject.clone(),
                issuer: k.issuer.clone(),
                workflow_repository: k.workflow_repository.clone(),
                trusted_root,
            },
            // Validation guarantees one of the two; an empty policy would trust nothing.
            (None, None) => TrustPolicy::Keyless {
                identity: String::new(),
                issuer: String::new(),
                workflow_repository: None,
                trusted_root,
            },
        }
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
