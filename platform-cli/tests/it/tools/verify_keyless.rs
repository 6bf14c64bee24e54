//! Keyless verification end to end. No Fulcio or Rekor runs here, so the test is its own
//! faithful stand-in for both, built with the `openssl` CLI: a CA that issues short-lived leaf
//! certificates with Fulcio's SAN and OID extensions (issuer 1.3.6.1.4.1.57264.1.1, workflow
//! repository .1.5), a Rekor key that signs Signed Entry Timestamps over the canonical JSON of
//! a hashedrekord entry, and a Sigstore `trusted_root.json` listing both. Images and signatures
//! live in a real registry (Debian's docker-registry on loopback).

use std::path::Path;

use crate::support::keyless::{
    IDENTITY, ISSUER, LocalSigstore, REPOSITORY, keyless_annotations, local_sigstore, write_trusted_root,
};
use crate::support::{
    Pushed, Registry, keypair, path, payload, push_signature_with, sign, start_registry, write_manifest,
};
use assert_cmd::Command;
use sha2::{Digest as _, Sha256};

/// A keyless-signed image; `tamper` may alter what is pushed.
struct Case {
    registry: Registry,
    sigstore: LocalSigstore,
    image: String,
    digest: String,
}

fn signed(tamper: impl FnOnce(&LocalSigstore, &mut Signed)) -> Case {
    let registry = start_registry();
    let sigstore = local_sigstore(registry_dir(&registry), "sigstore");
    let Pushed {
        image,
        digest,
        repository,
    } = registry.push_app("1.0", b"layer one");
    let (key, cert) = sigstore.issue(IDENTITY, Some(ISSUER), Some(REPOSITORY));
    let body = payload(&repository, &digest, "cosign container image signature");
    let signature = sign(&sigstore.dir, &key, &body);
    let bundle = sigstore.log(&body, &signature, &cert);
    let mut s = Signed {
        body,
        signature,
        cert,
        bundle,
    };
    tamper(&sigstore, &mut s);
    let annotations = keyless_annotations(&sigstore, &s.cert, &s.bundle);
    push_signature_with(&repository, &digest, &s.body, &s.signature, annotations);
    Case {
        registry,
        sigstore,
        image,
        digest,
    }
}

struct Signed {
    body: Vec<u8>,
    signature: String,
    cert: String,
    bundle: String,
}

fn registry_dir(registry: &Registry) -> &Path {
    registry.work()
}

fn verify(case: &Case, identity: &str, issuer: &str, repository: Option<&str>, root: Option<&Path>) -> (i32, String) {
    let mut cmd = Command::cargo_bin("platform").expect("binary");
    cmd.args(["verify-image", &case.image, "--allow-http-registry"]).args([
        "--certificate-identity",
        identity,
        "--certificate-oidc-issuer",
        issuer,
    ]);
    if let Some(repository) = repository {
        cmd.args(["--certificate-github-workflow-repository", repository]);
    }
    if let Some(root) = root {
        cmd.args(["--trusted-root", path(root)]);
    }
    let out = cmd.output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_keyless_signature_from_the_trusted_identity_verifies() {
    let case = signed(|_, _| {});
    let (code, out) = verify(
        &case,
        IDENTITY,
        ISSUER,
        Some(REPOSITORY),
        Some(&case.sigstore.trusted_root),
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, format!("verified {} ({}, 1 signature)\n", case.image, case.digest));
}

#[test]
fn identity_issuer_and_workflow_repository_must_match_exactly() {
    let case = signed(|_, _| {});
    let root = Some(case.sigstore.trusted_root.as_path());
    let evil = IDENTITY.replace("refs/heads/main", "refs/heads/evil");
    let (code, out) = verify(&case, &evil, ISSUER, None, root);
    assert_eq!(code, 1);
    assert!(
        out.contains(&format!("signed by \"{IDENTITY}\", not \"{evil}\"")),
        "{out}"
    );
    // A prefix of the identity is not the identity.
    let (code, _) = verify(&case, "https://github.com/acme/platform/", ISSUER, None, root);
    assert_eq!(code, 1);
    let (code, out) = verify(&case, IDENTITY, "https://accounts.google.com", None, root);
    assert_eq!(code, 1);
    assert!(
        out.contains("certificate issuer \"https://token.actions.githubusercontent.com\""),
        "{out}"
    );
    let (code, out) = verify(&case, IDENTITY, ISSUER, Some("acme/other"), root);
    assert_eq!(code, 1);
    assert!(
        out.contains("workflow repository \"acme/platform\", not \"acme/other\""),
        "{out}"
    );
}

#[test]
fn a_certificate_without_an_issuer_fails_an_issuer_constraint() {
    let case = signed(|sigstore, s| {
        let (key, cert) = sigstore.issue(IDENTITY, None, Some(REPOSITORY));
        s.signature = sign(&sigstore.dir, &key, &s.body);
        s.bundle = sigstore.log(&s.body, &s.signature, &cert);
        s.cert = cert;
    });
    let (code, out) = verify(&case, IDENTITY, ISSUER, None, Some(&case.sigstore.trusted_root));
    assert_eq!(code, 1);
    assert!(out.contains("the certificate names no OIDC issuer"), "{out}");
}

#[test]
fn keyless_needs_trust_material() {
    let case = signed(|_, _| {});
    let (code, out) = verify(&case, IDENTITY, ISSUER, None, None);
    assert_eq!(code, 1);
    assert!(
        out.contains("no trust material for the transparency log and Fulcio"),
        "{out}"
    );
    let empty = case.sigstore.dir.join("empty_root.json");
    std::fs::write(&empty, r#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[],"certificateAuthorities":[],"ctlogs":[],"timestampAuthorities":[]}"#).expect("write");
    let out = Command::cargo_bin("platform")
        .expect("binary")
        .args([
            "verify-image",
            &case.image,
            "--allow-http-registry",
            "--certificate-identity",
            IDENTITY,
        ])
        .args(["--certificate-oidc-issuer", ISSUER, "--trusted-root", path(&empty)])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("it holds 0 Rekor keys and 0 Fulcio CAs"), "{stdout}");
}

#[test]
fn a_certificate_from_an_untrusted_ca_is_refused() {
    let case = signed(|_, _| {});
    // Same log key, another CA: the certificate no longer chains to a trusted Fulcio.
    let other = local_sigstore(&case.sigstore.dir, "other-ca");
    let mixed = case.sigstore.dir.join("mixed_root.json");
    let rekor = std::fs::read(case.sigstore.dir.join("rekor.der")).expect("rekor");
    let other_ca = std::fs::read(other.dir.join("ca.der")).expect("ca");
    write_trusted_root(&mixed, &other_ca, &rekor, &Sha256::digest(&rekor));
    let (code, out) = verify(&case, IDENTITY, ISSUER, None, Some(&mixed));
    assert_eq!(code, 1);
    assert!(
        out.contains("no certificate chaining to the trusted Fulcio CAs"),
        "{out}"
    );
}

#[test]
fn a_bad_signed_entry_timestamp_is_refused() {
    let case = signed(|_, s| {
        let mut bundle: serde_json::Value = serde_json::from_str(&s.bundle).expect("bundle");
        let set = bundle["SignedEntryTimestamp"].as_str().expect("set").to_string();
        let flipped = if set.starts_with('M') {
            set.replacen('M', "N", 1)
        } else {
            format!("M{}", &set[1..])
        };
        bundle["SignedEntryTimestamp"] = serde_json::Value::String(flipped);
        s.bundle = bundle.to_string();
    });
    let (code, out) = verify(&case, IDENTITY, ISSUER, None, Some(&case.sigstore.trusted_root));
    assert_eq!(code, 1);
    assert!(out.contains(&format!("no signatures for {}", case.digest)), "{out}");
}

#[test]
fn a_log_entry_of_another_signature_is_refused() {
    let case = signed(|sigstore, s| {
        // A genuine, correctly timestamped entry, but for another payload.
        s.bundle = sigstore.log(b"another payload", &s.signature, &s.cert);
    });
    let (code, out) = verify(&case, IDENTITY, ISSUER, None, Some(&case.sigstore.trusted_root));
    assert_eq!(code, 1);
    assert!(
        out.contains("the transparency-log entry belongs to another signature"),
        "{out}"
    );
}

#[test]
fn a_payload_signed_by_another_key_than_the_certificate_is_refused() {
    // The log recorded it (a lax log), the certificate is genuine, but the signature was made
    // with another key: only checking the signature with the certificate's key catches this.
    let case = signed(|sigstore, s| {
        let (rogue, _) = keypair(&sigstore.dir, "rogue");
        s.signature = sign(&sigstore.dir, &rogue, &s.body);
        s.bundle = sigstore.log(&s.body, &s.signature, &s.cert);
    });
    let (code, out) = verify(&case, IDENTITY, ISSUER, None, Some(&case.sigstore.trusted_root));
    assert_eq!(code, 1);
    assert!(
        out.contains("the signature does not verify with the certificate's key"),
        "{out}"
    );
}

#[test]
fn platform_verify_trusts_the_manifests_keyless_identity() {
    let case = signed(|_, _| {});
    let signing =
        format!("  keyless:\n    issuer: {ISSUER}\n    subject: {IDENTITY}\n    workflowRepository: {REPOSITORY}\n");
    let image = format!("127.0.0.1:{}/acme/app@{}", case.registry.port, case.digest);
    let manifest = write_manifest(&case.sigstore.dir, case.registry.port, &signing, &image);
    let out = Command::cargo_bin("platform")
        .expect("binary")
        .args([
            "verify",
            "-f",
            path(&manifest),
            "--env",
            "lab",
            "--allow-http-registry",
            "--output",
            "json",
        ])
        .args(["--trusted-root", path(&case.sigstore.trusted_root)])
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert_eq!(report["verified"], 1);
    assert_eq!(report["images"][0]["digest"], case.digest);
}
