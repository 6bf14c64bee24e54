//! A faithful local stand-in for Fulcio and Rekor, built with the `openssl` CLI (neither can
//! run here): a CA issuing leaf certificates with Fulcio's SAN and OID extensions (issuer
//! 1.3.6.1.4.1.57264.1.1, workflow repository .1.5), a Rekor key signing Signed Entry
//! Timestamps over the canonical JSON of hashedrekord entries, and a `trusted_root.json`.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use super::{Pushed, Registry, keypair, openssl, path, payload, push_signature_with, sign};

/// What Fulcio certifies for the rendered app workflow of `acme/platform` (the GitOps repository
/// of the test manifests) on `main`: the only keyless identity a manifest may trust.
pub const IDENTITY: &str = "https://github.com/acme/platform/.github/workflows/app.yaml@refs/heads/main";
pub const ISSUER: &str = "https://token.actions.githubusercontent.com";
pub const REPOSITORY: &str = "acme/platform";

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The Fulcio and Rekor stand-in: a CA, a log key and the trusted root naming them.
pub struct LocalSigstore {
    pub dir: PathBuf,
    ca_key: PathBuf,
    pub ca_cert: PathBuf,
    rekor_key: PathBuf,
    log_id: String,
    pub trusted_root: PathBuf,
}

pub fn local_sigstore(dir: &Path, name: &str) -> LocalSigstore {
    let dir = dir.join(name);
    std::fs::create_dir_all(&dir).expect("dir");
    let (ca_key, _) = keypair(&dir, "ca");
    let ca_cert = dir.join("ca.pem");
    openssl(&[
        "req",
        "-x509",
        "-new",
        "-key",
        path(&ca_key),
        "-subj",
        &format!("/O=platform-test/CN={name}"),
        "-days",
        "2",
        "-addext",
        "basicConstraints=critical,CA:true",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-out",
        path(&ca_cert),
    ]);
    let ca_der = dir.join("ca.der");
    openssl(&["x509", "-in", path(&ca_cert), "-outform", "DER", "-out", path(&ca_der)]);
    let (rekor_key, _) = keypair(&dir, "rekor");
    let rekor_der = dir.join("rekor.der");
    openssl(&[
        "ec",
        "-in",
        path(&rekor_key),
        "-pubout",
        "-outform",
        "DER",
        "-out",
        path(&rekor_der),
    ]);
    let rekor_public = std::fs::read(&rekor_der).expect("rekor key");
    let key_id = Sha256::digest(&rekor_public).to_vec();
    let trusted_root = dir.join("trusted_root.json");
    write_trusted_root(
        &trusted_root,
        &std::fs::read(&ca_der).expect("ca der"),
        &rekor_public,
        &key_id,
    );
    LocalSigstore {
        dir,
        ca_key,
        ca_cert,
        rekor_key,
        log_id: hex(&key_id),
        trusted_root,
    }
}

pub fn write_trusted_root(path: &Path, ca_der: &[u8], rekor_public: &[u8], key_id: &[u8]) {
    let root = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [{
            "baseUrl": "https://rekor.stand-in.invalid",
            "hashAlgorithm": "SHA2_256",
            "publicKey": { "rawBytes": b64(rekor_public), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                           "validFor": { "start": "2020-01-01T00:00:00Z" } },
            "logId": { "keyId": b64(key_id) }
        }],
        "certificateAuthorities": [{
            "subject": { "organization": "platform-test", "commonName": "fulcio stand-in" },
            "uri": "https://fulcio.stand-in.invalid",
            "certChain": { "certificates": [{ "rawBytes": b64(ca_der) }] },
            "validFor": { "start": "2020-01-01T00:00:00Z" }
        }],
        "ctlogs": [],
        "timestampAuthorities": []
    });
    std::fs::write(path, serde_json::to_vec_pretty(&root).expect("json")).expect("write trusted root");
}

impl LocalSigstore {
    /// A leaf certificate for `identity`, as Fulcio would issue it: (private key, PEM).
    pub fn issue(&self, identity: &str, issuer: Option<&str>, repository: Option<&str>) -> (PathBuf, String) {
        let (key, _) = keypair(&self.dir, "leaf");
        let csr = self.dir.join("leaf.csr");
        openssl(&[
            "req",
            "-new",
            "-key",
            path(&key),
            "-subj",
            "/O=sigstore.dev",
            "-out",
            path(&csr),
        ]);
        // Fulcio's extensions hold the raw string bytes (not DER-wrapped), hence DER:<hex>.
        let mut ext = format!(
            "subjectAltName=critical,URI:{identity}\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n"
        );
        if let Some(issuer) = issuer {
            ext.push_str(&format!("1.3.6.1.4.1.57264.1.1=DER:{}\n", hex(issuer.as_bytes())));
        }
        if let Some(repository) = repository {
            ext.push_str(&format!("1.3.6.1.4.1.57264.1.5=DER:{}\n", hex(repository.as_bytes())));
        }
        let ext_file = self.dir.join("leaf.ext");
        std::fs::write(&ext_file, ext).expect("ext");
        let cert = self.dir.join("leaf.pem");
        openssl(&[
            "x509",
            "-req",
            "-in",
            path(&csr),
            "-CA",
            path(&self.ca_cert),
            "-CAkey",
            path(&self.ca_key),
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            path(&ext_file),
            "-out",
            path(&cert),
        ]);
        (key, std::fs::read_to_string(&cert).expect("cert"))
    }

    /// The cosign bundle annotation: a hashedrekord entry for (hash, signature, cert) and its SET.
    pub fn log(&self, logged_payload: &[u8], logged_signature: &str, cert_pem: &str) -> String {
        let entry = serde_json::json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": { "hash": { "algorithm": "sha256", "value": hex(&Sha256::digest(logged_payload)) } },
                "signature": { "content": logged_signature, "publicKey": { "content": b64(cert_pem.as_bytes()) } }
            }
        });
        let body = b64(&serde_json::to_vec(&entry).expect("entry"));
        let integrated_time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        // RFC 8785 canonical form of the payload: keys sorted, no spaces.
        let canonical = format!(
            r#"{{"body":"{body}","integratedTime":{integrated_time},"logID":"{}","logIndex":7}}"#,
            self.log_id
        );
        let set = sign(&self.dir, &self.rekor_key, canonical.as_bytes());
        serde_json::json!({
            "SignedEntryTimestamp": set,
            "Payload": { "body": body, "integratedTime": integrated_time, "logIndex": 7, "logID": self.log_id }
        })
        .to_string()
    }
}

/// Pushes `acme/app:<tag>` and signs it keyless as `IDENTITY`, logged in the stand-in Rekor.
pub fn push_keyless_signed(registry: &Registry, sigstore: &LocalSigstore, tag: &str, content: &[u8]) -> Pushed {
    let pushed = registry.push_app(tag, content);
    let (key, cert) = sigstore.issue(IDENTITY, Some(ISSUER), Some(REPOSITORY));
    let body = payload(&pushed.repository, &pushed.digest, "cosign container image signature");
    let signature = sign(&sigstore.dir, &key, &body);
    let bundle = sigstore.log(&body, &signature, &cert);
    push_signature_with(
        &pushed.repository,
        &pushed.digest,
        &body,
        &signature,
        keyless_annotations(sigstore, &cert, &bundle),
    );
    pushed
}

/// The annotations cosign puts on a keyless signature layer.
pub fn keyless_annotations(sigstore: &LocalSigstore, cert: &str, bundle: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("dev.sigstore.cosign/certificate".to_string(), cert.to_string()),
        (
            "dev.sigstore.cosign/chain".to_string(),
            std::fs::read_to_string(&sigstore.ca_cert).expect("ca"),
        ),
        ("dev.sigstore.cosign/bundle".to_string(), bundle.to_string()),
    ])
}
