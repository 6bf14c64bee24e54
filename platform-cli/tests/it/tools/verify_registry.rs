//! `platform verify-image` / `platform verify` against a real OCI registry: Debian's
//! `docker-registry` on a loopback port, images pushed with `oci-client`, and signatures made
//! in cosign's layout (`sha256-<hex>.sig` tag, simple-signing payload, signature annotation) by
//! an independent signer, the `openssl` command line. No mock stands in for either.

use std::path::{Path, PathBuf};

use crate::support::{
    Pushed, Registry, keypair, path, payload, push_image, push_signature, sign, start_registry, write_manifest,
};
use assert_cmd::Command;
use base64::Engine as _;
use test_support::free_port;

fn verify_image(image: &str, key: &Path, extra: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("platform")
        .expect("binary")
        .args(["verify-image", image, "--key", path(key), "--allow-http-registry"])
        .args(extra)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A signed image: (registry, image with tag, digest, public key).
fn signed_image() -> (Registry, String, String, PathBuf) {
    let registry = start_registry();
    let Pushed {
        image,
        digest,
        repository,
    } = registry.push_app("1.0", b"layer one");
    let (private, public) = keypair(registry.work(), "signer");
    let body = payload(&repository, &digest, "cosign container image signature");
    let signature = sign(registry.work(), &private, &body);
    push_signature(&repository, &digest, &body, &signature);
    (registry, image, digest, public)
}

#[test]
fn a_good_signature_verifies_by_tag_and_by_digest() {
    let (registry, image, digest, key) = signed_image();
    let (code, out) = verify_image(&image, &key, &["--insecure-ignore-tlog"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, format!("verified {image} ({digest}, 1 signature)\n"));
    let by_digest = format!("127.0.0.1:{}/acme/app@{digest}", registry.port);
    let (code, out) = verify_image(&by_digest, &key, &["--insecure-ignore-tlog"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn the_transparency_log_is_required_unless_explicitly_ignored() {
    let (_registry, image, _, key) = signed_image();
    let (code, out) = verify_image(&image, &key, &[]);
    assert_eq!(code, 1);
    assert!(out.contains("no trust material for the transparency log"), "{out}");
    let root = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/sigstore/sigstore-rs/trust_root/prod/trusted_root.json"
    );
    let (code, out) = verify_image(&image, &key, &["--trusted-root", root]);
    assert_eq!(code, 1);
    assert!(out.contains("no verifiable transparency-log entry"), "{out}");
}

#[test]
fn a_signature_by_another_key_is_refused() {
    let (registry, image, _, _) = signed_image();
    let (_, other) = keypair(registry.work(), "other");
    let (code, out) = verify_image(&image, &other, &["--insecure-ignore-tlog"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("the signature does not verify with the trusted key"),
        "{out}"
    );
}

#[test]
fn a_tampered_payload_is_refused() {
    let registry = start_registry();
    let Pushed {
        image,
        digest,
        repository,
    } = registry.push_app("1.0", b"layer one");
    let (private, public) = keypair(registry.work(), "signer");
    let body = payload(&repository, &digest, "cosign container image signature");
    let signature = sign(registry.work(), &private, &body);
    // Same claim, one byte changed after signing (the identity), signature kept.
    let tampered = payload(&format!("{repository}x"), &digest, "cosign container image signature");
    push_signature(&repository, &digest, &tampered, &signature);
    let (code, out) = verify_image(&image, &public, &["--insecure-ignore-tlog"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("the signature does not verify with the trusted key"),
        "{out}"
    );
}

#[test]
fn a_payload_of_another_type_is_refused() {
    let registry = start_registry();
    let Pushed {
        image,
        digest,
        repository,
    } = registry.push_app("1.0", b"layer one");
    let (private, public) = keypair(registry.work(), "signer");
    let body = payload(&repository, &digest, "atomic container signature");
    push_signature(&repository, &digest, &body, &sign(registry.work(), &private, &body));
    let (code, out) = verify_image(&image, &public, &["--insecure-ignore-tlog"]);
    assert_eq!(code, 1);
    assert!(out.contains("has type \"atomic container signature\""), "{out}");
}

#[test]
fn a_tag_moved_to_another_image_is_refused() {
    let (registry, image, signed_digest, key) = signed_image();
    // The tag now names another image; the old image's signature must not vouch for it, even
    // when copied under the new digest's signature tag.
    let moved = push_image(&image, b"layer two");
    assert_ne!(moved, signed_digest);
    let (code, out) = verify_image(&image, &key, &["--insecure-ignore-tlog"]);
    assert_eq!(code, 1);
    assert!(out.contains(&format!("no signatures for {moved}")), "{out}");

    let repository = format!("127.0.0.1:{}/acme/app", registry.port);
    let old_claim = payload(&repository, &signed_digest, "cosign container image signature");
    let (private, _) = keypair(registry.work(), "replay");
    push_signature(
        &repository,
        &moved,
        &old_claim,
        &sign(registry.work(), &private, &old_claim),
    );
    let (code, out) = verify_image(&image, &key, &["--insecure-ignore-tlog"]);
    assert_eq!(code, 1);
    assert!(out.contains(&format!("no signatures for {moved}")), "{out}");
}

#[test]
fn an_unsigned_image_is_refused() {
    let registry = start_registry();
    let image = registry.image("unsigned");
    let digest = push_image(&image, b"nobody signed me");
    let (_, key) = keypair(registry.work(), "signer");
    let (code, out) = verify_image(&image, &key, &["--insecure-ignore-tlog"]);
    assert_eq!(code, 1);
    assert!(
        out.contains(&format!("FAILED {image}: no signatures for {digest}")),
        "{out}"
    );
    assert!(out.contains("help: sign the digest"), "{out}");
}

#[test]
fn an_unreachable_registry_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, key) = keypair(dir.path(), "signer");
    let image = format!("127.0.0.1:{}/acme/app:1.0", free_port());
    let (code, out) = verify_image(&image, &key, &["--insecure-ignore-tlog"]);
    assert_eq!(code, 1);
    assert!(out.contains(&format!("FAILED {image}: registry error")), "{out}");
}

#[test]
fn an_empty_key_trusts_nothing() {
    let (registry, image, _, _) = signed_image();
    let empty = registry.work().join("empty.pub");
    std::fs::write(&empty, "").expect("write");
    let (code, out) = verify_image(&image, &empty, &["--insecure-ignore-tlog"]);
    assert_eq!(code, 1);
    assert!(out.contains("nothing to verify against"), "{out}");
}

#[test]
fn verify_checks_the_environment_images_with_the_manifest_trust_and_reports_json() {
    let (registry, _, digest, key) = signed_image();
    let pem = std::fs::read_to_string(&key).expect("key");
    let signing = format!(
        "  publicKey: |\n{}",
        pem.lines().map(|l| format!("    {l}\n")).collect::<String>()
    );
    let image = format!("127.0.0.1:{}/acme/app@{digest}", registry.port);
    let manifest = write_manifest(registry.work(), registry.port, &signing, &image);
    // The manifest's trust never ignores the transparency log (as Kyverno's verifyImages):
    // an openssl signature has no Rekor entry, so it is refused, and the JSON says why.
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
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["verified"], 0);
    assert_eq!(report["failed"], 1);
    assert_eq!(report["images"][0]["image"], image);
    assert_eq!(report["images"][0]["verified"], false);
    assert_eq!(report["images"][0]["code"], "verify::no_trust_root");
}

/// `verify-image` with `DOCKER_CONFIG` pointing at `config` (a folder holding config.json).
fn verify_image_with_docker_config(image: &str, key: &Path, config: &Path) -> (i32, String) {
    let out = Command::cargo_bin("platform")
        .expect("binary")
        .env("DOCKER_CONFIG", config)
        .args(["verify-image", image, "--key", path(key), "--allow-http-registry"])
        .arg("--insecure-ignore-tlog")
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_private_registry_is_read_with_the_docker_logins_credentials() {
    // The rendered verify job logs in as the image job does (docker login, ECR's, `az acr login`),
    // which leaves the credentials in the Docker config; verify must use them.
    let (mut registry, image, digest, key) = signed_image();
    // bcrypt (cost 4) of "verify-test-password", as `htpasswd -B` would write it.
    registry.require_login("ci", "$2b$04$CcfSn5jvM9qlvJVwehJ0hu/Q3jA5RgDT.FvqA6cWdeXlzvjvxAsUC");
    let host = format!("127.0.0.1:{}", registry.port);
    let docker_config = |auth: &str| {
        let dir = registry.work().join(format!("docker-{}", auth.len()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let encoded = base64::engine::general_purpose::STANDARD.encode(auth);
        std::fs::write(
            dir.join("config.json"),
            format!(r#"{{"auths": {{"{host}": {{"auth": "{encoded}"}}}}}}"#),
        )
        .expect("write config.json");
        dir
    };

    let nobody = registry.work().join("no-docker-config");
    let (code, out) = verify_image_with_docker_config(&image, &key, &nobody);
    assert_eq!(code, 1, "anonymous reads are refused now: {out}");
    assert!(out.contains("registry error"), "{out}");
    assert!(out.contains("a private registry needs a login first"), "{out}");

    let (code, out) = verify_image_with_docker_config(&image, &key, &docker_config("ci:wrong-password"));
    assert_eq!(code, 1, "{out}");

    let (code, out) = verify_image_with_docker_config(&image, &key, &docker_config("ci:verify-test-password"));
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, format!("verified {image} ({digest}, 1 signature)\n"));
}
