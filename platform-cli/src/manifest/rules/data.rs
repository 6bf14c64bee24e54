//! What keeps state: the database and its backups, the Secrets' store, Terraform's state
//! (`database`, `backup`, `secrets`, `terraformState`).

use super::Checker;
use crate::model::cloud_limits;
use crate::model::{DatabaseMode, Provider, SecretStore, limits};

pub(super) fn check_database_and_backup(c: &mut Checker<'_>, p: &str, env: &crate::model::Environment) {
    let db = &env.database;
    if db.mode == DatabaseMode::Managed && env.cluster.provider != Provider::Eks {
        c.invalid(
            &format!("{p}/database/mode"),
            format!("no managed PostgreSQL module for {}", env.cluster.provider.in_prose()),
            "mode: managed only with provider: eks (Amazon RDS)",
            "use `mode: in-cluster` (CloudNativePG with WAL archiving), which runs on every provider",
        );
    }
    c.range(
        &format!("{p}/database/instances"),
        db.instances,
        1,
        limits::DB_INSTANCES_MAX,
        "1 primary plus up to 8 replicas",
    );
    if env.production && db.mode == DatabaseMode::InCluster && db.instances < 2 {
        c.invalid(
            &format!("{p}/database/instances"),
            "a production database with a single instance",
            "at least 2 instances in production",
            "a replica lets CloudNativePG fail over without restoring from backup",
        );
    }
    c.range(
        &format!("{p}/database/storageGib"),
        db.storage_gib,
        1,
        limits::DB_STORAGE_GIB_MAX,
        "a volume size in GiB",
    );
    let b = &env.backup;
    c.range(
        &format!("{p}/backup/rpoMinutes"),
        b.rpo_minutes,
        1,
        limits::RPO_MINUTES_MAX,
        "the RPO sets how often WAL is archived; the design targets 5 minutes",
    );
    c.range(
        &format!("{p}/backup/retentionDays"),
        b.retention_days,
        1,
        limits::BACKUP_RETENTION_DAYS_MAX,
        "keep backups at least a day",
    );
    let needs_endpoint = env.cluster.provider == Provider::Existing;
    match (&b.s3_endpoint, needs_endpoint) {
        (None, true) => c.missing(
            &format!("{p}/backup"),
            "s3Endpoint",
            "the S3-compatible endpoint that stores backups of an existing cluster",
            "e.g. https://minio.example.com; credentials come from the Secret `postgres-backup-s3`",
        ),
        (Some(url), true) => c.https_url(&format!("{p}/backup/s3Endpoint"), url, "the backup object store"),
        (Some(_), false) => c.invalid(
            &format!("{p}/backup/s3Endpoint"),
            format!("`s3Endpoint` has no effect on {}", env.cluster.provider.in_prose()),
            "s3Endpoint only with provider: existing",
            "remove it: backups go to the bucket Terraform creates",
        ),
        (None, false) => {}
    }
}

/// A cloud's secret store only on that cloud's clusters (the controller reads it with the
/// cluster's workload identity), and a Vault server exactly where Vault is the store.
pub(super) fn check_secrets(c: &mut Checker<'_>, p: &str, env: &crate::model::Environment) {
    let secrets = &env.secrets;
    let p = format!("{p}/secrets");
    let provider = env.cluster.provider;
    let home = match secrets.store {
        SecretStore::AwsSecretsManager => Some(Provider::Eks),
        SecretStore::AzureKeyVault => Some(Provider::Aks),
        SecretStore::GcpSecretManager => Some(Provider::Gke),
        SecretStore::Kubernetes | SecretStore::Vault => None,
    };
    if let Some(home) = home
        && home != provider
    {
        c.invalid(
            &format!("{p}/store"),
            format!("{} cannot reach {}", provider.in_prose(), secrets.store.key()),
            format!("store: kubernetes or vault on provider: {}", provider.key()),
            format!(
                "External Secrets Operator reads this store with the workload identity of {}: use `vault`, or `kubernetes` (the Secrets live in the cluster only)",
                home.in_prose()
            ),
        );
    }
    match (&secrets.vault, secrets.store) {
        (None, SecretStore::Vault) => c.missing(
            &p,
            "vault",
            "the Vault server External Secrets Operator reads and writes",
            "e.g. `vault: { server: https://vault.example.com:8200 }`; Terraform makes its Kubernetes auth role and policy (docs/secrets.md)",
        ),
        (Some(vault), SecretStore::Vault) => {
            c.https_url(&format!("{p}/vault/server"), &vault.server, "the Vault server");
            for (field, value) in [("mount", &vault.mount), ("authMount", &vault.auth_mount)] {
                if value.is_empty() || value.starts_with('/') || value.ends_with('/') || value.contains("//") {
                    c.invalid(
                        &format!("{p}/vault/{field}"),
                        format!("\"{value}\" is not a mount path"),
                        "a path like `secret` or `kubernetes/prod`, without leading or trailing /",
                        "the path after `vault secrets enable -path=` (or `vault auth enable -path=`)",
                    );
                }
            }
        }
        (Some(_), _) => c.invalid(
            &format!("{p}/vault"),
            "`vault` has no effect without `store: vault`",
            "vault only with store: vault",
            "set `store: vault`, or remove the server",
        ),
        (None, _) => {}
    }
}

/// Whether a Gateway with an address from `ranges` can be reached from the internet: no ranges
/// (the cluster's own load balancers, assumed public) or any range of public addresses.
pub(super) fn reachable_from_internet(ranges: &[String]) -> bool {
    let public = |ip: std::net::IpAddr| match ip {
        std::net::IpAddr::V4(v4) => {
            let shared =
                ipnet::Ipv4Net::new(std::net::Ipv4Addr::new(100, 64, 0, 0), 10).is_ok_and(|net| net.contains(&v4));
            !(v4.is_private() || v4.is_loopback() || v4.is_link_local() || v4.is_documentation() || shared)
        }
        std::net::IpAddr::V6(v6) => !(v6.is_loopback() || v6.is_unique_local() || v6.is_unicast_link_local()),
    };
    ranges.is_empty()
        || ranges
            .iter()
            .filter_map(|r| cloud_limits::parse_address_range(r).ok())
            .any(|(first, _)| public(first))
}

pub(super) fn check_state(c: &mut Checker<'_>, p: &str, env: &crate::model::Environment) {
    let s = &env.terraform_state;
    let p = format!("{p}/terraformState");
    let provider = env.cluster.provider;
    let allowed: &[&str] = match provider {
        Provider::Eks | Provider::Gke => &["bucket"],
        Provider::Aks => &["resourceGroup", "storageAccount"],
        Provider::Existing => &[],
    };
    for (field, set) in [
        ("bucket", s.bucket.is_some()),
        ("resourceGroup", s.resource_group.is_some()),
        ("storageAccount", s.storage_account.is_some()),
    ] {
        if set && !allowed.contains(&field) {
            let hint = if provider == Provider::Existing {
                "remove it: an existing cluster keeps state in a Kubernetes Secret".to_string()
            } else {
                format!("{} uses: {}", provider.in_prose(), allowed.join(", "))
            };
            c.invalid(
                &format!("{p}/{field}"),
                format!("`{field}` has no effect on {}", provider.in_prose()),
                format!("one of: {}", allowed.join(", ")),
                hint,
            );
        }
    }
    if let Some(bucket) = &s.bucket {
        let ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && !bucket.starts_with(['-', '.'])
            && !bucket.ends_with(['-', '.']);
        if !ok {
            c.invalid(
                &format!("{p}/bucket"),
                format!("\"{bucket}\" is not a bucket name"),
                "3-63 lowercase letters, digits, '-' and '.'",
                "bucket names are global: prefix it with your organization",
            );
        }
    }
    if let Some(account) = &s.storage_account
        && !((3..=24).contains(&account.len()) && account.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
    {
        c.invalid(
            &format!("{p}/storageAccount"),
            format!("\"{account}\" is not a storage account name"),
            "3-24 lowercase letters and digits",
            "Azure storage account names allow no '-'",
        );
    }
}
