//! Fetch an image's cosign signatures and decide, failing closed at every step.
//!
//! Order matters: the reference is resolved to a digest first, and everything after uses that
//! digest, so a tag that moves during verification cannot mix two images.

use std::collections::BTreeSet;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use sigstore::cosign::bundle_content::BundleContent;
use sigstore::cosign::signature_layers::{CertificateSubject, SignatureLayer};
use sigstore::cosign::{Client, ClientBuilder, CosignCapabilities};
use sigstore::registry::{Auth, ClientConfig, ClientProtocol, OciReference};
use sigstore::trust::TrustRoot;
use sigstore::trust::sigstore::SigstoreTrustRoot;

use sigstore::crypto::Signature;

use super::payload::{check_keyed, check_simple_signing};
use super::trust::TrustPolicy;

/// How to reach the registry.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// cosign's `--allow-http-registry`: plain HTTP (a loopback test registry).
    pub allow_http: bool,
}

/// The credentials the Docker config holds for `registry` (what `docker login`,
/// `aws ecr get-login-password | docker login`, `az acr login` or a credential helper left), as
/// cosign uses them; anonymous where there are none.
fn registry_auth(image: &str, registry: &str) -> Result<Auth, VerifyError> {
    use docker_credential::{CredentialRetrievalError as E, DockerCredential};
    match docker_credential::get_credential(registry) {
        Ok(DockerCredential::UsernamePassword(user, password)) => Ok(Auth::Basic(user, password)),
        // No config file, or nothing for this registry: a public registry needs nothing.
        Err(E::ConfigNotFound | E::ConfigReadError | E::NoCredentialConfigured) => Ok(Auth::Anonymous),
        Ok(DockerCredential::IdentityToken(_)) => Err(VerifyError::Registry {
            image: image.into(),
            reason: format!(
                "the Docker config holds an identity token for {registry}, which needs an exchange this tool does not do"
            ),
        }),
        Err(e) => Err(VerifyError::Registry {
            image: image.into(),
            reason: format!("cannot read the Docker config's credentials for {registry}: {e}"),
        }),
    }
}

/// An image whose signature satisfied the policy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verified {
    pub image: String,
    pub digest: String,
    /// How many signatures satisfied the policy.
    pub signatures: usize,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum VerifyError {
    #[error("{image}: not an image reference ({reason})")]
    #[diagnostic(code(verify::reference), help("write REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST]"))]
    BadReference { image: String, reason: String },
    #[error("{image}: nothing to verify against: the trust policy has no key or identity")]
    #[diagnostic(
        code(verify::no_constraints),
        help("pass --key FILE, or --certificate-identity and --certificate-oidc-issuer")
    )]
    NoConstraints { image: String },
    #[error("{image}: no trust material for the transparency log{}", if *.keyless { " and Fulcio" } else { "" })]
    #[diagnostic(
        code(verify::no_trust_root),
        help(
            "pass --trusted-root FILE (Sigstore trusted_root.json); for key-signed images without a Rekor entry, --insecure-ignore-tlog"
        )
    )]
    NoTrustRoot { image: String, keyless: bool },
    #[error("{image}: trusted root {path}: {reason}")]
    #[diagnostic(
        code(verify::trusted_root),
        help("use a Sigstore trusted_root.json (e.g. from `cosign trusted-root create` or the TUF repository)")
    )]
    BadTrustRoot {
        image: String,
        path: String,
        reason: String,
    },
    #[error("{image}: registry error: {reason}")]
    #[diagnostic(
        code(verify::registry),
        help(
            "check that the registry is reachable and the image exists; a private registry needs a login first (`docker login`, or the cloud's), whose credentials are read from the Docker config; a plain-HTTP registry needs --allow-http-registry"
        )
    )]
    Registry { image: String, reason: String },
    #[error("{image}: no signatures for {digest}")]
    #[diagnostic(
        code(verify::unsigned),
        help(
            "sign the digest (cosign sign IMAGE@DIGEST); signatures for another digest or malformed ones are ignored"
        )
    )]
    Unsigned { image: String, digest: String },
    #[error("{image}: no signature of {digest} satisfies the trust policy: {}", .reasons.join("; "))]
    #[diagnostic(
        code(verify::rejected),
        help("check that the image was signed by the identity in platform.yaml's `signing`")
    )]
    Rejected {
        image: String,
        digest: String,
        reasons: Vec<String>,
    },
}

impl VerifyError {
    /// The image the error is about.
    pub fn image(&self) -> &str {
        match self {
            VerifyError::BadTrustRoot { image, .. }
            | VerifyError::BadReference { image, .. }
            | VerifyError::NoConstraints { image }
            | VerifyError::NoTrustRoot { image, .. }
            | VerifyError::Registry { image, .. }
            | VerifyError::Unsigned { image, .. }
            | VerifyError::Rejected { image, .. } => image,
        }
    }
}

/// Verifies `image` against `policy`. Any doubt is a refusal.
pub async fn verify_image(
    image: &str,
    policy: &TrustPolicy,
    registry: &RegistryOptions,
) -> Result<Verified, VerifyError> {
    let reference: OciReference =
        image
            .parse()
            .map_err(|e: sigstore::errors::SigstoreError| VerifyError::BadReference {
                image: image.into(),
                reason: e.to_string(),
            })?;
    let empty = match policy {
        TrustPolicy::Key { public_key, .. } => public_key.trim().is_empty(),
        TrustPolicy::Keyless { identity, issuer, .. } => identity.trim().is_empty() || issuer.trim().is_empty(),
    };
    if empty {
        // The crate's verify_constraints accepts an empty constraint list; we do not.
        return Err(VerifyError::NoConstraints { image: image.into() });
    }
    let mut client = client(policy, image, registry)?;
    let auth = registry_auth(image, reference.registry())?;

    // 1. Resolve the reference (tag or digest) to the digest the registry serves now.
    let (_, digest) = client
        .triangulate(&reference, &auth)
        .await
        .map_err(|e| registry_error(image, &e))?;
    if let Some(pinned) = reference.digest()
        && pinned != digest
    {
        return Err(VerifyError::Registry {
            image: image.into(),
            reason: format!("the registry serves {digest} for a reference pinned to {pinned}"),
        });
    }
    // 2. Fetch signatures of exactly that digest.
    let pinned = OciReference::with_digest(
        reference.registry().into(),
        reference.repository().into(),
        digest.clone(),
    );
    let layers = client
        .trusted_signature_layers(&auth, &pinned)
        .await
        .map_err(|e| registry_error(image, &e))?;
    if layers.is_empty() {
        return Err(VerifyError::Unsigned {
            image: image.into(),
            digest,
        });
    }
    // 3. Every check on every signature; one that passes them all is enough.
    let mut reasons = BTreeSet::new();
    let mut passed = 0;
    for layer in &layers {
        match check_layer(layer, policy, &digest) {
            Ok(()) => passed += 1,
            Err(reason) => {
                reasons.insert(reason);
            }
        }
    }
    if passed == 0 {
        return Err(VerifyError::Rejected {
            image: image.into(),
            digest,
            reasons: reasons.into_iter().collect(),
        });
    }
    Ok(Verified {
        image: image.into(),
        digest,
        signatures: passed,
    })
}

/// A cosign client that trusts the policy's roots (Fulcio and Rekor for keyless) and talks to
/// the registry as `registry` says.
fn client(policy: &TrustPolicy, image: &str, registry: &RegistryOptions) -> Result<Client, VerifyError> {
    let keyless = matches!(policy, TrustPolicy::Keyless { .. });
    let root = load_trust_root(policy, image, keyless)?;

    let mut builder = ClientBuilder::default().with_oci_client_config(ClientConfig {
        protocol: if registry.allow_http {
            ClientProtocol::Http
        } else {
            ClientProtocol::Https
        },
        ..ClientConfig::default()
    });
    if let Some(root) = &root {
        builder = builder
            .with_trust_repository(root)
            .map_err(|e| VerifyError::BadTrustRoot {
                image: image.into(),
                path: policy
                    .trusted_root()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                reason: e.to_string(),
            })?;
    }
    builder.build().map_err(|e| registry_error(image, &e))
}

fn registry_error(image: &str, e: &sigstore::errors::SigstoreError) -> VerifyError {
    VerifyError::Registry {
        image: image.into(),
        reason: e.to_string(),
    }
}

fn load_trust_root(policy: &TrustPolicy, image: &str, keyless: bool) -> Result<Option<SigstoreTrustRoot>, VerifyError> {
    let Some(path) = policy.trusted_root() else {
        return if keyless || policy.requires_tlog() {
            Err(VerifyError::NoTrustRoot {
                image: image.into(),
                keyless,
            })
        } else {
            Ok(None)
        };
    };
    let bad = |reason: String| VerifyError::BadTrustRoot {
        image: image.into(),
        path: path.display().to_string(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let root = SigstoreTrustRoot::from_trusted_root_json_unchecked(&bytes).map_err(|e| bad(e.to_string()))?;
    // An empty trusted root would let the crate skip the checks it cannot do.
    let rekor = root.rekor_keys().map(|k| k.len()).unwrap_or(0);
    let fulcio = root.fulcio_certs().map(|c| c.len()).unwrap_or(0);
    if rekor == 0 || (keyless && fulcio == 0) {
        return Err(bad(format!("it holds {rekor} Rekor keys and {fulcio} Fulcio CAs")));
    }
    Ok(Some(root))
}

/// One signature against the policy; the error says why it does not count.
fn check_layer(layer: &SignatureLayer, policy: &TrustPolicy, digest: &str) -> Result<(), String> {
    let signature = layer
        .signature
        .as_deref()
        .ok_or("the signature annotation is missing")?;
    match policy {
        TrustPolicy::Key { public_key, .. } => {
            check_keyed(&layer.raw_data, signature, public_key, digest).map_err(|e| e.to_string())?;
        }
        TrustPolicy::Keyless {
            identity,
            issuer,
            workflow_repository,
            ..
        } => {
            check_simple_signing(&layer.simple_signing, digest).map_err(|e| e.to_string())?;
            // Present only when the certificate chains to the trusted Fulcio CAs and was valid
            // at the log's integrated time.
            let cert = layer
                .certificate_signature
                .as_ref()
                .ok_or("no certificate chaining to the trusted Fulcio CAs signed it")?;
            // The crate extracts the identity but never checks the signature with the
            // certificate's key; without this, any logged certificate would vouch for any payload.
            cert.verification_key
                .verify_signature(Signature::Base64Encoded(signature.trim().as_bytes()), &layer.raw_data)
                .map_err(|_| "the signature does not verify with the certificate's key".to_string())?;
            let subject = match &cert.subject {
                CertificateSubject::Email(s) | CertificateSubject::Uri(s) => s,
            };
            if subject != identity {
                return Err(format!("signed by \"{subject}\", not \"{identity}\""));
            }
            match &cert.issuer {
                Some(i) if i == issuer => {}
                Some(i) => return Err(format!("certificate issuer \"{i}\", not \"{issuer}\"")),
                None => return Err("the certificate names no OIDC issuer".into()),
            }
            if let Some(repo) = workflow_repository
                && cert.github_workflow_repository.as_deref() != Some(repo.as_str())
            {
                return Err(format!(
                    "workflow repository {:?}, not \"{repo}\"",
                    cert.github_workflow_repository.as_deref().unwrap_or("(none)")
                ));
            }
        }
    }
    if policy.requires_tlog() {
        match &layer.bundle {
            // The crate verified the SET against the trusted Rekor keys; it does not check that
            // the entry is about this signature (CVE-2022-36056), so we do.
            Some(BundleContent::RekorBundle(bundle)) => {
                log_entry_matches(&bundle.payload.body, &layer.raw_data, signature)?;
            }
            Some(_) => {}
            None => return Err("no verifiable transparency-log entry".into()),
        }
    }
    Ok(())
}

/// The Rekor entry (hashedrekord or rekord body) records this payload's hash and this signature.
pub fn log_entry_matches(body_b64: &str, payload: &[u8], signature_b64: &str) -> Result<(), String> {
    let body = base64::engine::general_purpose::STANDARD
        .decode(body_b64)
        .map_err(|_| "the transparency-log entry body is not base64")?;
    let entry: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| "the transparency-log entry is not JSON")?;
    let spec = &entry["spec"];
    let logged_hash = spec["data"]["hash"]["value"].as_str().unwrap_or_default();
    let logged_signature = spec["signature"]["content"].as_str().unwrap_or_default();
    let hash = Sha256::digest(payload)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    if logged_hash != hash || logged_signature.trim() != signature_b64.trim() {
        return Err("the transparency-log entry belongs to another signature".into());
    }
    Ok(())
}
