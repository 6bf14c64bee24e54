//! `platform status`'s reachability against a real DNS server: Debian's dnsmasq on a loopback
//! port answers one host with the Gateway's address, one with another address and one with
//! NXDOMAIN. The cluster side (the Gateway's status, cert-manager's Certificates and Challenges)
//! is an API-server stand-in: no API server runs on these machines.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http::{Request, Response, StatusCode};
use kube::client::Body;
use platform_cli::cluster::reachability::{self, Dns, Target};
use platform_cli::manifest::{self, resolve};
use serde_json::{Value, json};

use test_support::apiserver::reply;

const GATEWAY_IP: &str = "192.0.2.10";

/// dnsmasq serving only what it is told, on a loopback port; stopped when dropped.
struct Dnsmasq {
    child: Child,
    addr: SocketAddr,
}

impl Dnsmasq {
    fn start(records: &[String]) -> Self {
        let port = UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("dnsmasq")
            .args(["--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces"])
            .args(["--listen-address=127.0.0.1", "--pid-file=", "--user=root"])
            .arg(format!("--port={port}"))
            .args(records.iter().map(|r| format!("--address={r}")))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dnsmasq runs (apt-get install dnsmasq-base)");
        Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn targets() -> Vec<Target> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/existing-cluster.yaml");
    let loaded = manifest::load(&path).expect("valid example");
    let resolved = resolve::resolve_environment(&loaded.manifest, &loaded.manifest.environments[0]).expect("resolves");
    reachability::targets(&resolved.gateway)
}

fn condition(status: &str, reason: &str, message: &str) -> Value {
    json!({ "type": "Ready", "status": status, "reason": reason, "message": message })
}

/// The Gateway with an address; app's certificate Ready, argocd's never made, grafana's waiting
/// on an HTTP-01 challenge that cannot be reached.
async fn api(targets: Vec<Target>, request: Request<Body>) -> Result<Response<Body>, std::convert::Infallible> {
    let path = request.uri().path().to_string();
    assert_eq!(request.method(), http::Method::GET, "{path}: only reads");
    let not_found = |name: &str| {
        reply(
            StatusCode::NOT_FOUND,
            &json!({ "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
                     "message": format!("\"{name}\" not found") }),
        )
    };
    let certificate = |name: &str, ready: Value| {
        json!({ "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
                "metadata": { "name": name, "namespace": "gateway" }, "spec": {}, "status": { "conditions": [ready] } })
    };
    let [app, argocd, grafana] = [&targets[0], &targets[1], &targets[2]];
    Ok(match path.as_str() {
        "/apis/gateway.networking.k8s.io/v1/namespaces/gateway/gateways/platform" => reply(
            StatusCode::OK,
            &json!({ "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
                     "metadata": { "name": "platform", "namespace": "gateway" }, "spec": {},
                     "status": { "addresses": [{ "type": "IPAddress", "value": GATEWAY_IP }] } }),
        ),
        "/apis/acme.cert-manager.io/v1/namespaces/gateway/challenges" => reply(
            StatusCode::OK,
            &json!({ "apiVersion": "acme.cert-manager.io/v1", "kind": "ChallengeList", "metadata": {}, "items": [{
                "apiVersion": "acme.cert-manager.io/v1", "kind": "Challenge",
                "metadata": { "name": "grafana-tls-1-2-3", "namespace": "gateway" },
                "spec": { "dnsName": grafana.host, "type": "HTTP-01" },
                "status": { "state": "pending", "reason": "Waiting for HTTP-01 challenge propagation: failed to perform self check GET request: no such host" }
            }] }),
        ),
        p if p
            == format!(
                "/apis/cert-manager.io/v1/namespaces/gateway/certificates/{}",
                app.certificate
            ) =>
        {
            reply(
                StatusCode::OK,
                &certificate(
                    &app.certificate,
                    condition("True", "Ready", "Certificate is up to date and has not expired"),
                ),
            )
        }
        p if p
            == format!(
                "/apis/cert-manager.io/v1/namespaces/gateway/certificates/{}",
                argocd.certificate
            ) =>
        {
            not_found(&argocd.certificate)
        }
        p if p
            == format!(
                "/apis/cert-manager.io/v1/namespaces/gateway/certificates/{}",
                grafana.certificate
            ) =>
        {
            reply(
                StatusCode::OK,
                &certificate(
                    &grafana.certificate,
                    condition("False", "DoesNotExist", "Issuing certificate as Secret does not exist"),
                ),
            )
        }
        other => panic!("the stand-in serves no {other}"),
    })
}

#[tokio::test]
async fn each_host_says_whether_it_resolves_to_the_gateway_and_why_its_certificate_is_not_ready() {
    let targets = targets();
    let [app, argocd, grafana] = [&targets[0].host, &targets[1].host, &targets[2].host];
    let dns = Dnsmasq::start(&[
        format!("/{app}/{GATEWAY_IP}"),
        format!("/{argocd}/198.51.100.7"),
        // An empty address: NXDOMAIN.
        format!("/{grafana}/"),
    ]);
    let resolver = reachability::resolver(Some(dns.addr)).expect("resolver");
    // dnsmasq answers once it listens.
    let started = Instant::now();
    while resolver.lookup_ip(format!("{app}.")).await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(10), "dnsmasq did not answer");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let served = targets.clone();
    let service = tower::service_fn(move |request| api(served.clone(), request));
    let client = kube::Client::new(service, "default");

    let report = reachability::check(&client, &resolver, ("gateway", "platform"), &targets)
        .await
        .expect("checked");
    let lines: Vec<String> = report.iter().map(reachability::Reachability::line).collect();
    assert_eq!(
        lines,
        [
            format!("{app}: resolves to 192.0.2.10 (the Gateway); certificate Ready"),
            format!(
                "{argocd}: resolves to 198.51.100.7, not the Gateway (192.0.2.10); certificate not ready: no Certificate {} \
                 yet (cert-manager makes it from the Gateway's annotation)",
                targets[1].certificate
            ),
            format!(
                "{grafana}: does not resolve; certificate not ready: DoesNotExist: Issuing certificate as Secret does not \
                 exist; challenge grafana-tls-1-2-3 is pending: Waiting for HTTP-01 challenge propagation: failed to \
                 perform self check GET request: no such host"
            ),
        ]
    );
    assert!(report[0].reachable() && !report[1].reachable() && !report[2].reachable());
    assert_eq!(report[2].dns, Dns::NotFound);
    assert_eq!(
        serde_json::to_value(&report[1].dns).expect("json"),
        json!({ "verdict": "elsewhere", "addresses": ["198.51.100.7"], "gateway": ["192.0.2.10"] })
    );
}

/// Before the Gateway API's and cert-manager's CRDs exist (the first minutes of a bootstrap), the
/// API server answers 404 for all of it: every host says so, and the check does not fail.
#[tokio::test]
async fn before_the_gateway_and_cert_manager_exist_each_host_says_so() {
    let targets = targets();
    let dns = Dnsmasq::start(&[format!("/{}/{GATEWAY_IP}", targets[0].host)]);
    let resolver = reachability::resolver(Some(dns.addr)).expect("resolver");
    let service = tower::service_fn(|request: Request<Body>| async move {
        let name = request.uri().path().rsplit('/').next().unwrap_or_default().to_string();
        Ok::<_, std::convert::Infallible>(reply(
            StatusCode::NOT_FOUND,
            &json!({ "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
                     "message": format!("the server could not find the requested resource ({name})") }),
        ))
    });
    let client = kube::Client::new(service, "default");
    let report = reachability::check(&client, &resolver, ("gateway", "platform"), &targets)
        .await
        .expect("a cluster without those CRDs is not an error");
    assert_eq!(
        report[0].line(),
        format!(
            "{}: the Gateway has no address yet; certificate not ready: no Certificate {} yet (cert-manager makes it \
             from the Gateway's annotation)",
            targets[0].host, targets[0].certificate
        )
    );
    assert!(report.iter().all(|r| r.dns == Dns::NoGatewayAddress && !r.reachable()));
}
