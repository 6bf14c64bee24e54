//! Shared by the signature tests: a real OCI registry (Debian's `docker-registry`) on a loopback
//! port, pushes with `oci-client`, and cosign-layout signatures made by the `openssl` CLI.
pub mod charts;
pub mod cli;
pub mod github;
pub mod keyless;
pub mod prometheus;

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process};
use std::time::{Duration, Instant};

use base64::Engine as _;
use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::manifest::OciImageManifest;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};

pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";

/// A docker-registry process serving a temporary folder; stopped on drop.
pub struct Registry {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

use test_support::free_port;

pub fn start_registry() -> Registry {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let child = serve_registry(dir.path(), port, "");
    Registry { child, port, dir }
}

/// Runs docker-registry on `port` over the data in `dir`, with `auth` (YAML under `auth:`) if any.
fn serve_registry(dir: &Path, port: u16, auth: &str) -> Child {
    let config = dir.join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{auth}",
            dir.join("data").display()
        ),
    )
    .expect("write config");
    // Its request log (404s for absent signature tags are expected) goes to a file.
    let log = std::fs::File::create(dir.join("registry.log")).expect("log file");
    let child = Process::new("docker-registry")
        .arg("serve")
        .arg(&config)
        .stdout(log.try_clone().expect("log file"))
        .stderr(log)
        .spawn()
        .expect("docker-registry runs (Debian package docker-registry; scripts/test installs it)");
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "docker-registry did not listen on 127.0.0.1:{port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

impl Registry {
    /// Restarts the registry over the same images, now answering only `user` with the password
    /// whose bcrypt hash is `bcrypt` (docker-registry's htpasswd authentication).
    pub fn require_login(&mut self, user: &str, bcrypt: &str) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let htpasswd = self.dir.path().join("htpasswd");
        std::fs::write(&htpasswd, format!("{user}:{bcrypt}\n")).expect("write htpasswd");
        let auth = format!(
            "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
            htpasswd.display()
        );
        self.child = serve_registry(self.dir.path(), self.port, &auth);
    }

    pub fn image(&self, tag: &str) -> String {
        format!("127.0.0.1:{}/acme/app:{tag}", self.port)
    }

    pub fn work(&self) -> &Path {
        self.dir.path()
    }
}

pub fn client() -> Client {
    Client::new(ClientConfig {
        protocol: ClientProtocol::Http,
        ..ClientConfig::default()
    })
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Pushes a one-layer image under `reference`; returns its manifest digest.
pub fn push_image(reference: &str, content: &[u8]) -> String {
    let reference: Reference = reference.parse().expect("reference");
    runtime().block_on(async {
        let layer = ImageLayer::oci_v1(content.to_vec(), None);
        let config = Config::oci_v1(br#"{"architecture":"amd64","os":"linux"}"#.to_vec(), None);
        client()
            .push(&reference, &[layer], config, &RegistryAuth::Anonymous, None)
            .await
            .expect("push image");
        client()
            .fetch_manifest_digest(&reference, &RegistryAuth::Anonymous)
            .await
            .expect("digest")
    })
}

/// Pushes a cosign signature (payload + base64 signature) for `digest` of `repository`.
pub fn push_signature(repository: &str, digest: &str, payload: &[u8], signature_b64: &str) {
    push_signature_with(repository, digest, payload, signature_b64, BTreeMap::new());
}

/// A cosign signature with extra annotations (certificate, chain, Rekor bundle).
pub fn push_signature_with(
    repository: &str,
    digest: &str,
    payload: &[u8],
    signature_b64: &str,
    mut annotations: BTreeMap<String, String>,
) {
    let tag = format!("{}.sig", digest.replace(':', "-"));
    let reference: Reference = format!("{repository}:{tag}").parse().expect("reference");
    annotations.insert(SIGNATURE_ANNOTATION.to_string(), signature_b64.to_string());
    runtime().block_on(async {
        let layer = ImageLayer::new(payload.to_vec(), SIMPLE_SIGNING.into(), Some(annotations));
        let config = Config::oci_v1(b"{}".to_vec(), None);
        let manifest = OciImageManifest::build(std::slice::from_ref(&layer), &config, None);
        let client = client();
        client
            .auth(&reference, &RegistryAuth::Anonymous, RegistryOperation::Push)
            .await
            .expect("auth");
        client
            .push_blob(&reference, layer.data.clone(), &layer.sha256_digest())
            .await
            .expect("push payload");
        client
            .push_blob(&reference, config.data.clone(), &config.sha256_digest())
            .await
            .expect("push config");
        // oci-client's own manifest push writes canonical JSON with raw newlines inside strings,
        // which a registry rejects once an annotation holds a PEM; send standard JSON instead.
        let body = serde_json::to_vec(&manifest).expect("manifest json");
        let content_type = http::HeaderValue::from_static("application/vnd.oci.image.manifest.v1+json");
        client
            .push_manifest_raw(&reference, body, content_type)
            .await
            .expect("push signature");
    });
}

pub fn payload(repository: &str, digest: &str, kind: &str) -> Vec<u8> {
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"{repository}"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"{kind}"}},"optional":null}}"#
    )
    .into_bytes()
}

pub fn openssl(args: &[&str]) {
    let status = Process::new("openssl").args(args).status().expect("openssl runs");
    assert!(status.success(), "openssl {args:?}");
}

/// A P-256 key pair made by openssl: (private key, public key PEM path).
pub fn keypair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let private = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub"));
    openssl(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        path(&private),
    ]);
    openssl(&["ec", "-in", path(&private), "-pubout", "-out", path(&public)]);
    (private, public)
}

/// ECDSA-SHA256 over the exact payload bytes, DER, base64: what cosign stores.
pub fn sign(dir: &Path, private: &Path, payload: &[u8]) -> String {
    let input = dir.join("payload.json");
    let output = dir.join("payload.sig");
    std::fs::write(&input, payload).expect("write payload");
    openssl(&[
        "dgst",
        "-sha256",
        "-sign",
        path(private),
        "-out",
        path(&output),
        path(&input),
    ]);
    base64::engine::general_purpose::STANDARD.encode(std::fs::read(&output).expect("read signature"))
}

pub fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// An image pushed to the test registry.
pub struct Pushed {
    /// With its tag, e.g. `127.0.0.1:5000/acme/app:1.0`.
    pub image: String,
    pub digest: String,
    /// Without tag or digest, e.g. `127.0.0.1:5000/acme/app`.
    pub repository: String,
}

impl Registry {
    /// Pushes `acme/app:<tag>` with one layer of `content`.
    pub fn push_app(&self, tag: &str, content: &[u8]) -> Pushed {
        let image = self.image(tag);
        let digest = push_image(&image, content);
        Pushed {
            image,
            digest,
            repository: format!("127.0.0.1:{}/acme/app", self.port),
        }
    }
}

/// A one-environment manifest (an existing cluster) deploying `image` from the test registry,
/// trusting `signing` (YAML lines indented under `signing:`).
pub fn write_manifest(dir: &Path, port: u16, signing: &str, image: &str) -> PathBuf {
    let manifest = dir.join("platform.yaml");
    let text = format!(
        "apiVersion: platform/v1alpha1\nkind: Platform\nmetadata:\n  name: acme\ngitops:\n  repoURL: https://github.com/acme/platform.git\nregistry:\n  host: 127.0.0.1:{port}\n  namespace: acme\nsigning:\n{signing}app:\n  image: {image}\n  chartVersion: 0.1.0\nenvironments:\n  - name: lab\n    cluster: {{ provider: existing, kubeconfigContext: lab }}\n    domain: lab.example.org\n    acmeEmail: ops@example.org\n    backup: {{ s3Endpoint: https://minio.example.org }}\n"
    );
    std::fs::write(&manifest, text).expect("write manifest");
    manifest
}

/// `git -C dir ARGS`, which must succeed; its output, trimmed.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Process::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
