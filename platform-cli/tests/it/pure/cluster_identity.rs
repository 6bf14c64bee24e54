//! `bootstrap` and `secrets set` write to a cluster, so they refuse a kubeconfig context that
//! reaches another cluster than the environment's, before they contact any. The kubeconfigs
//! are shaped as `aws eks update-kubeconfig` and kubeadm write them; their servers are never
//! reached (a refused one is not contacted, a matching one is on a closed loopback port).

use std::path::Path;

use crate::support::cli::{assert_output, platform};

fn example(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../examples/{name}.yaml"))
}

/// A kubeconfig with one context, `ctx`, current.
fn kubeconfig(dir: &Path, context: &str, cluster: &str, server: &str) -> std::path::PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: {context}\n\
             clusters:\n- name: {cluster}\n  cluster:\n    server: {server}\n\
             users:\n- name: admin\n  user:\n    token: not-a-real-token\n\
             contexts:\n- name: {context}\n  context:\n    cluster: {cluster}\n    user: admin\n"
        ),
    )
    .expect("write kubeconfig");
    path
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port()
}

#[test]
fn bootstrap_refuses_the_staging_cluster_for_prod_before_writing_anything() {
    let dir = tempfile::tempdir().expect("tempdir");
    let staging = "arn:aws:eks:eu-west-1:111122223333:cluster/shop-staging";
    let config = kubeconfig(
        dir.path(),
        staging,
        staging,
        "https://0123ABCD.gr7.eu-west-1.eks.amazonaws.com",
    );
    let out = platform()
        .env("KUBECONFIG", &config)
        .args(["bootstrap", "--env", "prod", "-f"])
        .arg(example("eks-three-envs"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_output(
        &String::from_utf8_lossy(&out.stderr),
        "tests/fixtures/cli/bootstrap-wrong-cluster.stderr",
    );
}

#[test]
fn secrets_set_refuses_a_context_the_manifest_does_not_name_for_an_existing_cluster() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = kubeconfig(
        dir.path(),
        "kind-scratch",
        "kind-scratch",
        &format!("https://127.0.0.1:{}", closed_port()),
    );
    let out = platform()
        .env("KUBECONFIG", &config)
        .args([
            "secrets",
            "set",
            "--env",
            "lab",
            "postgres-backup-s3.ACCESS_KEY_ID",
            "--context",
            "kind-scratch",
            "-f",
        ])
        .arg(example("existing-cluster"))
        .write_stdin("AKIAEXAMPLE\n")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_output(
        &String::from_utf8_lossy(&out.stderr),
        "tests/fixtures/cli/secrets-set-wrong-context.stderr",
    );
}

/// The context the manifest names passes the check: what fails next is reaching the server.
#[test]
fn the_context_the_manifest_names_is_let_through_to_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = kubeconfig(
        dir.path(),
        "kubernetes-admin@lab",
        "lab",
        &format!("https://127.0.0.1:{}", closed_port()),
    );
    let out = platform()
        .env("KUBECONFIG", &config)
        .args(["bootstrap", "--env", "lab", "-f"])
        .arg(example("existing-cluster"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cluster::unreachable"), "{stderr}");
}
