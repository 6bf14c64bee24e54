//! Checks of one cosign simple-signing signature that the `sigstore` crate leaves to callers:
//! the payload's type, the digest it names, and the signature over its exact bytes.

use sigstore::cosign::simple_signing::SimpleSigning;
use sigstore::crypto::{CosignVerificationKey, Signature};

/// The `critical.type` of a cosign image signature payload.
pub const COSIGN_PAYLOAD_TYPE: &str = "cosign container image signature";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("the signed payload is not a cosign simple-signing document ({0})")]
    Malformed(String),
    #[error("the signed payload has type \"{0}\", not \"{COSIGN_PAYLOAD_TYPE}\"")]
    WrongType(String),
    #[error("the signature is for {signed}, not for the image's digest {expected}")]
    OtherDigest { signed: String, expected: String },
    #[error("the signature does not verify with the trusted key")]
    BadSignature,
    #[error("the trusted public key is not a usable PEM key ({0})")]
    BadKey(String),
}

/// Verifies `signature_b64` over `payload` with `public_key_pem`, and that the payload is a
/// cosign image signature for `expected_digest`.
pub fn check_keyed(
    payload: &[u8],
    signature_b64: &str,
    public_key_pem: &str,
    expected_digest: &str,
) -> Result<SimpleSigning, PayloadError> {
    let claim = check_claim(payload, expected_digest)?;
    let key = CosignVerificationKey::try_from_pem(public_key_pem.as_bytes())
        .map_err(|e| PayloadError::BadKey(e.to_string()))?;
    key.verify_signature(Signature::Base64Encoded(signature_b64.trim().as_bytes()), payload)
        .map_err(|_| PayloadError::BadSignature)?;
    Ok(claim)
}

/// The payload's type and digest, parsed from its bytes.
pub fn check_claim(payload: &[u8], expected_digest: &str) -> Result<SimpleSigning, PayloadError> {
    let claim: SimpleSigning = serde_json::from_slice(payload).map_err(|e| PayloadError::Malformed(e.to_string()))?;
    check_simple_signing(&claim, expected_digest)?;
    Ok(claim)
}

/// The claim is a cosign image signature, for `expected_digest`.
pub fn check_simple_signing(claim: &SimpleSigning, expected_digest: &str) -> Result<(), PayloadError> {
    if claim.critical.type_name != COSIGN_PAYLOAD_TYPE {
        return Err(PayloadError::WrongType(claim.critical.type_name.clone()));
    }
    let signed = &claim.critical.image.docker_manifest_digest;
    if signed != expected_digest {
        return Err(PayloadError::OtherDigest {
            signed: signed.clone(),
            expected: expected_digest.to_string(),
        });
    }
    Ok(())
}
