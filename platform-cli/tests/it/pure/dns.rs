//! Who makes the Gateway's DNS records and how its certificates are validated: the choice in
//! `dns` reaches external-dns's values, the ClusterIssuer's solver and the Terraform that grants
//! each reader its DNS identity, and nothing runs for records a person makes.

use std::path::Path;

use platform_cli::{manifest, render};

/// The example's files, rendered with `edit` applied to its manifest text.
fn rendered(example: &str, edit: impl Fn(String) -> String) -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../examples/{example}.yaml"));
    let text = edit(std::fs::read_to_string(&path).expect("example"));
    let loaded = manifest::load_str(example, &text).expect("the edited example is valid");
    let tree = render::render(&loaded, &[]).expect("renders");
    tree.files
        .iter()
        .map(|(p, b)| (p.clone(), String::from_utf8_lossy(b).into_owned()))
        .collect()
}

fn file<'a>(files: &'a [(String, String)], path: &str) -> &'a str {
    files
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, text)| text.as_str())
        .unwrap_or_else(|| panic!("{path} is rendered"))
}

#[test]
fn dns01_on_eks_answers_through_route53_as_cert_managers_own_pod_identity() {
    let files = rendered("eks-three-envs", |text| {
        text.replace(
            "    domain: dev.shop.example.com\n",
            "    domain: dev.shop.example.com\n    dns: { zone: shop.example.com, createZone: false, challenge: dns01 }\n",
        )
    });
    let issuer = file(&files, "argocd/dev/manifests/cluster-issuers/cluster-issuers.yaml");
    assert!(
        issuer.contains("      - selector:\n          dnsZones:\n            - \"shop.example.com\"\n        dns01:\n"),
        "{issuer}"
    );
    assert!(
        issuer.contains("          route53:\n            region: \"eu-west-1\"\n"),
        "{issuer}"
    );
    assert!(!issuer.contains("http01"), "{issuer}");
    let terraform = file(&files, "terraform/envs/dev/main.tf");
    for line in [
        "  zone        = \"shop.example.com\"\n",
        "  create_zone = false\n",
        "  dns01                        = true\n",
        "  cert_manager_service_account = \"cert-manager\"\n",
    ] {
        assert!(terraform.contains(line), "{line}{terraform}");
    }
    let values = file(&files, "helm/values/dev/external-dns.yaml");
    assert!(
        values.contains("domainFilters:\n  - \"shop.example.com\"\n"),
        "{values}"
    );
    assert!(values.contains("txtOwnerId: \"shop-dev\"\n"), "{values}");
    // The other environments keep HTTP-01 and a zone of their own.
    let staging = file(&files, "argocd/staging/manifests/cluster-issuers/cluster-issuers.yaml");
    assert!(staging.contains("      - http01:\n"), "{staging}");
    assert!(file(&files, "terraform/envs/staging/main.tf").contains("  dns01                        = false\n"));
}

#[test]
fn dns01_on_gke_answers_through_cloud_dns_in_the_zone_terraform_makes() {
    let files = rendered("gke-central-mimir", |text| {
        text.replacen(
            "    domain: staging.globex.example\n",
            "    domain: staging.globex.example\n    dns: { challenge: dns01 }\n",
            1,
        )
    });
    let issuer = file(&files, "argocd/staging/manifests/cluster-issuers/cluster-issuers.yaml");
    assert!(
        issuer.contains(
            "          cloudDNS:\n            project: \"globex-staging\"\n            hostedZoneName: \"staging-globex-example\"\n"
        ),
        "{issuer}"
    );
    let terraform = file(&files, "terraform/envs/staging/main.tf");
    assert!(
        terraform.contains("  zone_name = \"staging-globex-example\"\n"),
        "{terraform}"
    );
    assert!(
        terraform.contains("  dns01                        = true\n"),
        "{terraform}"
    );
    let values = file(&files, "helm/values/staging/external-dns.yaml");
    assert!(values.contains("  - --google-project=globex-staging\n"), "{values}");
}

#[test]
fn records_a_person_makes_run_no_external_dns_and_read_no_tsig_key() {
    let files = rendered("existing-cluster", |text| {
        text.replace("      records: rfc2136\n", "      records: manual\n")
            .replace("      rfc2136: { server: 192.168.50.53, keyName: external-dns }\n", "")
            .replace("      challenge: dns01\n", "")
            .replace("      loadBalancerAddresses: [\"192.168.50.240-192.168.50.250\"]\n", "")
    });
    assert!(
        !files.iter().any(|(p, _)| p.contains("external-dns")),
        "no external-dns files"
    );
    assert!(
        !files.iter().any(|(_, text)| text.contains("tsig")),
        "no TSIG key is read"
    );
    let issuer = file(&files, "argocd/lab/manifests/cluster-issuers/cluster-issuers.yaml");
    assert!(issuer.contains("      - http01:\n"), "{issuer}");
}

#[test]
fn rfc2136_signs_with_the_tsig_key_from_the_secrets_table() {
    let files = rendered("existing-cluster", |text| text);
    let values = file(&files, "helm/values/lab/external-dns.yaml");
    for line in [
        "  name: rfc2136\n",
        "  - --rfc2136-host=192.168.50.53\n",
        "  - --rfc2136-zone=lab.example.org\n",
        "  - --rfc2136-tsig-keyname=external-dns\n",
        "  - --rfc2136-tsig-secret-alg=hmac-sha256\n",
        "        name: external-dns-tsig\n        key: tsig-secret\n",
    ] {
        assert!(values.contains(line), "{line}{values}");
    }
    let issuer = file(&files, "argocd/lab/manifests/cluster-issuers/cluster-issuers.yaml");
    assert!(
        issuer.contains("            nameserver: \"192.168.50.53:53\"\n"),
        "{issuer}"
    );
    assert!(issuer.contains("              name: cert-manager-tsig\n"), "{issuer}");
}
