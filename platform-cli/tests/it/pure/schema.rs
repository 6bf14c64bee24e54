//! The manifest's JSON Schema is generated from the Rust types; a snapshot makes every
//! change to the contract visible in review.

use platform_cli::manifest::structure::schema;

#[test]
fn schema_snapshot() {
    insta::assert_json_snapshot!("platform.schema", schema());
}

#[test]
fn the_published_schema_file_is_current() {
    // platform.schema.json at the repository root is what yaml-language-server reads.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../platform.schema.json");
    let published = std::fs::read_to_string(path).expect("platform.schema.json exists");
    let current = serde_json::to_string_pretty(schema()).expect("serialisable") + "\n";
    assert_eq!(
        published, current,
        "run `cargo run -p platform-cli -- schema > platform.schema.json`"
    );
}

/// What an editor does with the published schema: every bound `platform validate` enforces on
/// a cluster, a backup or an SLO is there too, per provider where it depends on the provider.
#[test]
fn editors_see_the_bounds_validate_enforces() {
    let validator = jsonschema::validator_for(schema()).expect("the schema compiles");
    let manifest = |environment: &str| -> serde_json::Value {
        let text = format!(
            "apiVersion: platform/v1alpha1
kind: Platform
metadata: {{ name: acme }}
gitops: {{ repoURL: https://github.com/acme/platform.git }}
registry: {{ host: ghcr.io, namespace: acme }}
signing: {{ keyless: {{}} }}
app: {{ image: ghcr.io/acme/app@sha256:{}, chartVersion: 1.0.0 }}
environments:
  - {environment}
",
            "0".repeat(64)
        );
        yaml_serde::from_str(&text).expect("test manifest parses")
    };
    let env = |cluster: &str, extra: &str| {
        format!("{{ name: dev, cluster: {cluster}, domain: dev.acme.example, acmeEmail: ops@acme.example{extra} }}")
    };
    let eks = |region: &str, size: &str, cidr: &str| {
        format!("{{ provider: eks, region: {region}, nodeSize: {size}, networkCidr: {cidr} }}")
    };
    let errors = |environment: String| -> Vec<String> {
        validator
            .iter_errors(&manifest(&environment))
            .map(|e| e.instance_path().to_string())
            .collect()
    };

    assert_eq!(
        errors(env(&eks("eu-west-1", "m6i.large", "10.0.0.0/16"), "")),
        Vec::<String>::new()
    );
    assert_eq!(
        errors(env(&eks("westeurope", "Standard_D4s_v5", "10.0.0.0/12"), "")),
        [
            "/environments/0/cluster/region",
            "/environments/0/cluster/nodeSize",
            "/environments/0/cluster/networkCidr"
        ]
    );
    // The same network is fine on AKS, whose VNets may be wider.
    assert_eq!(
        errors(env(
            "{ provider: aks, region: westeurope, nodeSize: Standard_D4s_v5, networkCidr: 10.0.0.0/12 }",
            ""
        )),
        Vec::<String>::new()
    );
    assert_eq!(
        errors(env(
            &eks("eu-west-1", "m6i.large", "10.0.0.0/16"),
            ", backup: { rpoMinutes: 0, retentionDays: 4000 }, replicas: { min: 0, max: 101 }"
        )),
        [
            "/environments/0/backup/rpoMinutes",
            "/environments/0/backup/retentionDays",
            "/environments/0/replicas/min",
            "/environments/0/replicas/max"
        ]
    );
    // An environment may not be named after a hand-written observability folder.
    assert_eq!(
        errors(env(&eks("eu-west-1", "m6i.large", "10.0.0.0/16"), "").replace("name: dev", "name: tests")),
        ["/environments/0/name"]
    );
}
