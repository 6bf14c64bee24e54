//! The Sigstore fixtures (../shared/fixtures/sigstore/MANIFEST.txt, section D) that apply to
//! what `platform verify` checks for key-signed images: a cosign simple-signing payload, its
//! ECDSA signature and the trusted key. Each reaches the verdict the manifest states.

use std::path::PathBuf;

use platform_cli::supply_chain::payload::{PayloadError, check_keyed};

const SIGNED_DIGEST: &str = "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b";

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/sigstore/sigstore-rs/extracted/simple-signing-keyed")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text(name: &str) -> String {
    String::from_utf8(fixture(name)).expect("utf-8")
}

#[test]
fn pass_the_keyed_signature_verifies() {
    let claim = check_keyed(
        &fixture("payload.json"),
        &text("payload.sig.b64"),
        &text("key.pub"),
        SIGNED_DIGEST,
    )
    .expect("PASS fixture verifies");
    assert_eq!(claim.critical.image.docker_manifest_digest, SIGNED_DIGEST);
}

#[test]
fn fail_another_key() {
    let err = check_keyed(
        &fixture("payload.json"),
        &text("payload.sig.b64"),
        &text("wrong.pub"),
        SIGNED_DIGEST,
    );
    assert_eq!(err.err(), Some(PayloadError::BadSignature));
}

#[test]
fn fail_a_tampered_digest_in_the_payload() {
    let tampered = fixture("payload.tampered-digest.json");
    let named: serde_json::Value = serde_json::from_slice(&tampered).expect("json");
    let digest = named["critical"]["image"]["docker-manifest-digest"]
        .as_str()
        .expect("digest")
        .to_string();
    // Even when asked about the digest the tampered payload names, the signature fails.
    let err = check_keyed(&tampered, &text("payload.sig.b64"), &text("key.pub"), &digest);
    assert_eq!(err.err(), Some(PayloadError::BadSignature));
}

#[test]
fn fail_a_valid_signature_that_names_another_digest() {
    let other = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    let err = check_keyed(
        &fixture("payload.json"),
        &text("payload.sig.b64"),
        &text("key.pub"),
        other,
    );
    assert_eq!(
        err.err(),
        Some(PayloadError::OtherDigest {
            signed: SIGNED_DIGEST.into(),
            expected: other.into()
        })
    );
}

/// MANIFEST section D, simple-signing-keyless-legacy: the Rekor entry in the cosign bundle
/// annotation must record this payload's hash and this signature.
mod keyless_legacy {
    use platform_cli::supply_chain::verify::log_entry_matches;

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/fixtures/sigstore/sigstore-rs/extracted/simple-signing-keyless-legacy")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn body() -> String {
        let bundle: serde_json::Value =
            serde_json::from_slice(&fixture("bundle-annotation.json")).expect("bundle json");
        bundle["Payload"]["body"].as_str().expect("body").to_string()
    }

    #[test]
    fn pass_the_logged_entry_is_this_signature() {
        let signature = String::from_utf8(fixture("payload.sig.b64")).expect("utf-8");
        assert_eq!(log_entry_matches(&body(), &fixture("payload.json"), &signature), Ok(()));
    }

    #[test]
    fn fail_the_payload_of_another_image() {
        let signature = String::from_utf8(fixture("payload.sig.b64")).expect("utf-8");
        let other = String::from_utf8(fixture("payload.json"))
            .expect("utf-8")
            .replace("sha256:", "sha256:0");
        assert_eq!(
            log_entry_matches(&body(), other.as_bytes(), &signature),
            Err("the transparency-log entry belongs to another signature".into())
        );
    }

    #[test]
    fn fail_another_signature() {
        let sig = String::from_utf8(fixture("payload.sig.b64")).expect("utf-8");
        let forged = format!("{}A", sig.trim().trim_end_matches('='));
        assert!(log_entry_matches(&body(), &fixture("payload.json"), &forged).is_err());
    }
}
