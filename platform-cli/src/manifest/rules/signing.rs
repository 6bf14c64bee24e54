//! Who signs the app image and how the signature is checked (`signing`).

use super::Checker;
use crate::manifest::ci;
use crate::model::{GITHUB_ACTIONS_ISSUER, Manifest};

pub(super) fn check_signing(c: &mut Checker<'_>, m: &Manifest) {
    match (&m.signing.public_key, &m.signing.keyless) {
        (Some(_), Some(_)) => c.invalid(
            "/signing",
            "both `publicKey` and `keyless` are set",
            "exactly one of `publicKey` or `keyless`",
            "keep the identity your CI actually signs with and remove the other",
        ),
        (None, None) => c.invalid(
            "/signing",
            "no signing identity",
            "exactly one of `publicKey` or `keyless`",
            "add `keyless: {}` (the rendered GitHub workflow signs with its own identity) or `publicKey:` with a cosign PEM key",
        ),
        (Some(key), None) => {
            let key = key.trim();
            if !(key.starts_with("-----BEGIN PUBLIC KEY-----") && key.ends_with("-----END PUBLIC KEY-----")) {
                c.invalid(
                    "/signing/publicKey",
                    "not a PEM public key",
                    "a PEM block from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY-----",
                    "paste the content of cosign.pub as a YAML block scalar (`publicKey: |`)",
                );
            }
            if let Some(private) = &m.signing.private_key {
                check_private_key(c, m, private);
            }
        }
        (None, Some(keyless)) => {
            if m.signing.private_key.is_some() {
                c.invalid(
                    "/signing/privateKey",
                    "`privateKey` is set for keyless signing",
                    "`privateKey` only next to `publicKey`",
                    "keyless signing has no key to keep: remove `privateKey`",
                );
            }
            check_keyless(c, m, keyless);
        }
    }
}

/// The keyless identity must be the one the rendered workflow gets from GitHub: anything else
/// renders a Kyverno policy that refuses every image the workflow signs.
pub(super) fn check_keyless(c: &mut Checker<'_>, m: &Manifest, keyless: &crate::model::Keyless) {
    if keyless.issuer != GITHUB_ACTIONS_ISSUER {
        c.invalid(
            "/signing/keyless/issuer",
            format!("\"{}\" is not the issuer of the rendered workflow", keyless.issuer),
            format!("\"{GITHUB_ACTIONS_ISSUER}\""),
            "the app is signed by a GitHub Actions workflow, whose OIDC tokens GitHub issues; leave `issuer` out",
        );
    }
    let Some(derived) = ci::workflow_identity(m) else {
        c.invalid(
            "/signing/keyless",
            "keyless signing needs the GitOps repository on github.com",
            "a `gitops.repoURL` of https://github.com/OWNER/REPO, whose workflow signs the app",
            "sign with a key instead: `publicKey:` with `privateKey: { kms: ... }` or `{ secret: ... }`",
        );
        return;
    };
    if let Some(subject) = &keyless.subject
        && *subject != derived.subject
    {
        c.invalid(
            "/signing/keyless/subject",
            format!("\"{subject}\" is not the identity the rendered workflow signs with"),
            format!("\"{}\"", derived.subject),
            format!(
                "the app is built and signed by {} of {} on `{}`; use that subject or leave `subject` out",
                ci::APP_WORKFLOW,
                derived.repository,
                m.gitops.target_revision
            ),
        );
    }
    if let Some(repo) = &keyless.workflow_repository
        && *repo != derived.repository
    {
        c.invalid(
            "/signing/keyless/workflowRepository",
            format!("\"{repo}\" is not the repository the rendered workflow runs in"),
            format!("\"{}\" (from `gitops.repoURL`)", derived.repository),
            "leave `workflowRepository` out: it defaults to the GitOps repository",
        );
    }
}

pub(super) fn check_private_key(c: &mut Checker<'_>, m: &Manifest, private: &crate::model::PrivateKeyRef) {
    let kind = ci::RegistryKind::of(&m.registry.host);
    match (&private.kms, &private.secret) {
        (Some(_), Some(_)) | (None, None) => c.invalid(
            "/signing/privateKey",
            "`privateKey` must name exactly one of `kms` and `secret`",
            "`kms: <cosign KMS URI>` or `secret: <GitHub Actions secret name>`",
            "a KMS key never leaves the KMS; a secret holds the key that `cosign generate-key-pair` encrypted",
        ),
        (Some(uri), None) => match kind.kms_scheme() {
            Some("awskms://") if uri.strip_prefix("awskms:///alias/").is_none_or(str::is_empty) => c.invalid(
                "/signing/privateKey/kms",
                format!("\"{uri}\" is not a KMS alias"),
                "awskms:///alias/NAME",
                "terraform/ci creates the signing key under this alias and lets the workflow's role sign with it",
            ),
            Some("gcpkms://") if uri.strip_prefix("gcpkms://").and_then(ci::gcp_kms_key).is_none() => c.invalid(
                "/signing/privateKey/kms",
                format!("\"{uri}\" is not a Cloud KMS key"),
                "gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K",
                "terraform/ci creates that key ring and key and lets the workflow's service account sign with it",
            ),
            Some(scheme) if uri.starts_with(scheme) && uri.len() > scheme.len() => {}
            Some(scheme) => c.invalid(
                "/signing/privateKey/kms",
                format!("\"{uri}\" is not a key the workflow can reach"),
                format!(
                    "a `{scheme}` URI: the workflow is logged in to {} only",
                    kind.describe()
                ),
                "keep the signing key in the registry's cloud, or use `secret:` instead",
            ),
            None => c.invalid(
                "/signing/privateKey/kms",
                format!("\"{uri}\": the workflow logs in to no cloud KMS"),
                format!("`secret:` for {}", kind.describe()),
                "store the encrypted cosign key as a GitHub Actions secret and name it here",
            ),
        },
        (None, Some(name)) => c.secret_name("/signing/privateKey/secret", name),
    }
}
