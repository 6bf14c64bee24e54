//! `platform secrets rotate`: a new value for a generated Secret, rolled out in the order its
//! readers need so that no reader ever holds a value another one refuses. How each Secret
//! rotates is a column of the table ([`Rotation`]).
//!
//! A signing key ring rotates in two rollouts. After the first, every replica verifies with
//! the new key (`next`) and all still sign with the old one; after the second, they sign with
//! the new one and verify the old one (`previous`) until every token it signed has expired. A
//! replica of either side of each rollout accepts what the other side signs.

use std::collections::BTreeMap;
use std::time::Duration;

use platform_contracts::signing_keys::{
    CURRENT_KEY, LEEWAY_SECS, MAX_TOKEN_TTL_SECS, NEXT_KEY, PREVIOUS_KEY, PREVIOUS_UNTIL_KEY,
};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::EnvSecrets;
use super::catalog::{Birth, DATABASE_CLUSTER, DATABASE_LOGIN_B, Rotation, SecretId, VALKEY_USERS};
use super::store::{self, FIELD_MANAGER};
use super::values::{self, Data, ValueError};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};

use crate::cluster::rollout::{self, Workload};
use crate::cluster::{ClusterError, api_error};
use crate::model::SecretStore;
use crate::model::components::Component;

/// How long to wait for each rollout, and how often to look.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub timeout: Duration,
    pub poll: Duration,
}

/// What a rotation did, step by step, for the person who ran it (no value appears).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub steps: Vec<String>,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RotateError {
    #[error("{name} is supplied by a person; a new value is a `platform secrets set`")]
    #[diagnostic(code(secrets::rotate_supplied), help("{command}"))]
    Supplied { name: &'static str, command: String },
    #[error("{name} is not in the cluster, or lacks its key `{key}`: there is nothing to rotate")]
    #[diagnostic(code(secrets::rotate_missing), help("`platform bootstrap` makes it"))]
    Missing { name: &'static str, key: &'static str },
    #[error("{name} was rotated less than {minutes} minutes ago: its previous key verifies tokens until {until}")]
    #[diagnostic(
        code(secrets::rotate_retiring),
        help(
            "another rotation now would drop that key while tokens it signed are still in use; run it again after {until}"
        )
    )]
    StillRetiring {
        name: &'static str,
        minutes: u64,
        until: String,
    },
    #[error("{name}.{key} is not an RFC 3339 time: {value:?}")]
    #[diagnostic(
        code(secrets::rotate_malformed),
        help("something other than `platform secrets rotate` wrote it; remove the key and run rotate again")
    )]
    Malformed {
        name: &'static str,
        key: &'static str,
        value: String,
    },
    #[error("`platform secrets rotate` does not rotate {name} through a secret store ({store}) yet")]
    #[diagnostic(
        code(secrets::rotate_store),
        help(
            "the Secret is External Secrets Operator's copy of the store: a new value written here would be \
             overwritten at its next refresh, and the key ring's rollouts are not built on pushes yet"
        )
    )]
    InStore { name: &'static str, store: &'static str },
    #[error("CloudNativePG did not apply the new password of {role} within {seconds}s: {why}")]
    #[diagnostic(
        code(secrets::rotate_role),
        help(
            "the app still logs in with its old role, which was not changed: nothing was refused. Look at \
             `kubectl -n data get cluster postgres -o yaml` (status.managedRolesStatus), then run the same command \
             again"
        )
    )]
    NotApplied { role: String, seconds: u64, why: String },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Value(#[from] ValueError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Cluster(#[from] ClusterError),
}

/// How long a retired key must keep verifying tokens once the Secret holding it as `previous`
/// is written: the second rollout (at most `rollout`, after which old replicas stop signing
/// with it), then the longest a token lives, then the clock skew tolerated.
pub fn retirement(rollout: Duration) -> Duration {
    rollout + Duration::from_secs(MAX_TOKEN_TTL_SECS + LEEWAY_SECS)
}

/// The ring after the first step: the live keys, and the key that signs next (the one an
/// interrupted rotation left, so replicas that learnt it still agree, or a fresh one).
/// A `previous` key whose window has closed is dropped; one still open refuses the rotation.
pub fn with_next(
    id: SecretId,
    live: &Data,
    now: OffsetDateTime,
    fresh: impl FnOnce() -> Result<String, ValueError>,
) -> Result<Data, RotateError> {
    let name = id.spec().name;
    let current = live
        .get(CURRENT_KEY)
        .ok_or(RotateError::Missing { name, key: CURRENT_KEY })?;
    let mut ring = Data::from([(CURRENT_KEY.to_string(), current.clone())]);
    let next = match live.get(NEXT_KEY) {
        Some(next) => next.clone(),
        None => {
            if let Some(until) = live.get(PREVIOUS_UNTIL_KEY) {
                let ends = OffsetDateTime::parse(until, &Rfc3339).map_err(|_| RotateError::Malformed {
                    name,
                    key: PREVIOUS_UNTIL_KEY,
                    value: until.clone(),
                })?;
                if now < ends {
                    return Err(RotateError::StillRetiring {
                        name,
                        minutes: (MAX_TOKEN_TTL_SECS + LEEWAY_SECS).div_ceil(60),
                        until: until.clone(),
                    });
                }
            }
            fresh()?
        }
    };
    ring.insert(NEXT_KEY.to_string(), next);
    Ok(ring)
}

/// The ring after the second step: `next` signs, and the old key verifies until `until`.
pub fn promoted(ring: &Data, until: OffsetDateTime) -> Data {
    let mut out = Data::new();
    if let (Some(current), Some(next)) = (ring.get(CURRENT_KEY), ring.get(NEXT_KEY)) {
        out.insert(CURRENT_KEY.to_string(), next.clone());
        out.insert(PREVIOUS_KEY.to_string(), current.clone());
        out.insert(PREVIOUS_UNTIL_KEY.to_string(), rfc3339(until));
    }
    out
}

/// How a Secret the environment may rotate is rotated, and the Deployments restarted: a
/// [`Rotation`] other than a person's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan(Rotation);

/// Whether `id` can be rotated here, and how: refusals need no cluster and change nothing.
/// `manifest` is the file the person passed, for the `secrets set` line of a supplied Secret.
pub fn plan(env: &EnvSecrets, id: SecretId, manifest: &str) -> Result<Plan, RotateError> {
    let name = id.spec().name;
    if env.store != SecretStore::Kubernetes && !matches!(id.rotation(&env.runs), Rotation::Supplied) {
        return Err(RotateError::InStore {
            name,
            store: env.store.key(),
        });
    }
    match id.rotation(&env.runs) {
        Rotation::Supplied => {
            let key = id
                .keys(&env.runs)
                .iter()
                .find(|k| matches!(k.birth, Birth::Supplied { .. }));
            Err(RotateError::Supplied {
                name,
                command: env.set_command(manifest, id, key.map_or("KEY", |k| k.name)),
            })
        }
        rotation => Ok(Plan(rotation)),
    }
}

/// Gives `id` a new value in the environment's cluster and restarts its readers after each
/// step, waiting for every replica.
pub async fn rotate(
    client: &kube::Client,
    env: &EnvSecrets,
    id: SecretId,
    Plan(rotation): Plan,
    options: Options,
) -> Result<Report, RotateError> {
    let name = id.spec().name;
    let mut report = Report::default();
    match rotation {
        Rotation::KeyRing { reader } => {
            let live = read_text(client, id).await?;
            let bytes = random_bytes(id, CURRENT_KEY, &env.runs);
            let ring = with_next(id, &live, OffsetDateTime::now_utc(), || values::random(bytes))?;
            if ring != live {
                store::write(client, id, &ring, false).await?;
            }
            report.steps.push(format!(
                "{name}: a new key that verifies and does not sign yet (`{NEXT_KEY}`)"
            ));
            restart(client, reader, options, &mut report).await?;
            let until = OffsetDateTime::now_utc() + retirement(options.timeout);
            store::write(client, id, &promoted(&ring, until), false).await?;
            report.steps.push(format!(
                "{name}: the new key signs; the old one verifies until {} (`{PREVIOUS_KEY}`)",
                rfc3339(until)
            ));
            restart(client, reader, options, &mut report).await?;
        }
        Rotation::Replace { reader } => {
            let live = read_text(client, id).await?;
            if let Some(key) = id.keys(&env.runs).iter().find(|k| !live.contains_key(k.name)) {
                return Err(RotateError::Missing { name, key: key.name });
            }
            // Every key made afresh, as bootstrap makes a missing Secret.
            let fresh = values::fill(id, &env.runs, &Data::new(), &BTreeMap::new(), &env.hosts)?;
            store::write(client, id, &fresh, false).await?;
            report.steps.push(format!("{name}: a new value"));
            restart(client, reader, options, &mut report).await?;
        }
        Rotation::AlternateRoles { reader } => alternate(client, env, reader, options, &mut report).await?,
        Rotation::AlternateUsers { server, reader } => {
            alternate_users(client, env, server, reader, options, &mut report).await?;
        }
        Rotation::OwnerRole => owner(client, env, options, &mut report).await?,
        Rotation::Supplied => unreachable!("plan() refuses what a person supplies"),
    }
    Ok(report)
}

async fn read_text(client: &kube::Client, id: SecretId) -> Result<Data, RotateError> {
    Ok(store::read(client, id).await?.map(|l| l.text()).unwrap_or_default())
}

/// A URI key of `id` parsed, or why it cannot be (its value is never shown).
fn uri_of(live: &Data, id: SecretId, key: &'static str) -> Result<url::Url, RotateError> {
    let name = id.spec().name;
    let uri = live.get(key).ok_or(RotateError::Missing { name, key })?;
    url::Url::parse(uri).map_err(|_| RotateError::Malformed {
        name,
        key,
        value: "(not a URL; the value is not shown)".into(),
    })
}

/// `url` with another login (user and password); the host, path and parameters are kept.
fn with_login(
    mut url: url::Url,
    id: SecretId,
    key: &'static str,
    user: &str,
    password: &str,
) -> Result<Data, RotateError> {
    if url
        .set_username(user)
        .and_then(|()| url.set_password(Some(password)))
        .is_err()
    {
        return Err(RotateError::Malformed {
            name: id.spec().name,
            key,
            value: "(a URL without a host; the value is not shown)".into(),
        });
    }
    Ok(Data::from([(key.to_string(), url.to_string())]))
}

/// The app's Valkey login moves to the other of its two ACL users. Valkey reads its users'
/// passwords only when its pod starts, so each new password is followed by a Valkey restart:
/// first the idle user's (and the operators' `default`, which only Valkey's own pod reads),
/// then, once the app runs as that user, the user it left. The user the app logs in as is
/// never changed, so a restarted Valkey accepts the app at once.
async fn alternate_users(
    client: &kube::Client,
    env: &EnvSecrets,
    server: Workload<'static>,
    reader: Workload<'static>,
    options: Options,
    report: &mut Report,
) -> Result<(), RotateError> {
    let (users, app) = (SecretId::ValkeyUsers, SecretId::RedisAppCredentials);
    let url = uri_of(&read_text(client, app).await?, app, "url")?;
    let (now, next) = if url.username() == VALKEY_USERS[1] {
        (VALKEY_USERS[1], VALKEY_USERS[0])
    } else {
        (VALKEY_USERS[0], VALKEY_USERS[1])
    };
    let mut passwords = read_text(client, users).await?;
    if !passwords.contains_key(now) {
        return Err(RotateError::Missing {
            name: users.spec().name,
            key: now,
        });
    }
    let fresh = |key: &str| values::random(random_bytes(users, key, &env.runs));
    for key in ["default", next] {
        passwords.insert(key.to_string(), fresh(key)?);
    }
    store::write(client, users, &passwords, false).await?;
    report.steps.push(format!(
        "{}: new passwords for the idle user {next} and for default",
        users.spec().name
    ));
    restart(client, server, options, report).await?;
    let login = with_login(url, app, "url", next, &passwords[next])?;
    store::write(client, app, &login, false).await?;
    report
        .steps
        .push(format!("{}: the app logs in as {next}", app.spec().name));
    restart(client, reader, options, report).await?;
    passwords.insert(now.to_string(), fresh(now)?);
    store::write(client, users, &passwords, false).await?;
    report.steps.push(format!(
        "{}: a password nobody holds for {now}, which the app left",
        users.spec().name
    ));
    restart(client, server, options, report).await?;
    Ok(())
}

/// The database owner's new password: CloudNativePG applies it to the role (a managed role
/// since the Cluster declares it), then the URI the migrate Job reads is written. Nothing runs
/// as the owner between syncs; a sync that starts in the moment between the two fails its
/// migrate Job, and Argo CD's retry runs it again with the new URI.
async fn owner(
    client: &kube::Client,
    env: &EnvSecrets,
    options: Options,
    report: &mut Report,
) -> Result<(), RotateError> {
    let (role, uri) = (SecretId::PostgresOwner, SecretId::AppDatabaseOwner);
    let url = uri_of(&read_text(client, uri).await?, uri, "uri")?;
    let user = role_of(role, env);
    let password = new_login(client, env, role, options).await?;
    report.steps.push(format!(
        "{}: a new password, applied by CloudNativePG to {user}",
        role.spec().name
    ));
    store::write(client, uri, &with_login(url, uri, "uri", &user, &password)?, false).await?;
    report.steps.push(format!(
        "{}: the migrate Job logs in with it from the next sync",
        uri.spec().name
    ));
    Ok(())
}

/// The app's database login moves to the other of its two roles: a new password for the idle
/// role (applied by CloudNativePG before anyone uses it), the app restarted on it, then a fresh
/// password nobody holds for the role it left. The app always holds a password PostgreSQL
/// accepts: the role it uses is never the one being changed.
async fn alternate(
    client: &kube::Client,
    env: &EnvSecrets,
    workload: Workload<'static>,
    options: Options,
    report: &mut Report,
) -> Result<(), RotateError> {
    let app = SecretId::AppDatabase;
    let url = uri_of(&read_text(client, app).await?, app, "uri")?;
    let (now, next) = if url.username() == DATABASE_LOGIN_B {
        (SecretId::PostgresAppLoginB, SecretId::PostgresAppLogin)
    } else {
        (SecretId::PostgresAppLogin, SecretId::PostgresAppLoginB)
    };
    let password = new_login(client, env, next, options).await?;
    let role = role_of(next, env);
    report.steps.push(format!(
        "{}: a new password, applied by CloudNativePG to the idle role {role}",
        next.spec().name
    ));
    store::write(client, app, &with_login(url, app, "uri", &role, &password)?, false).await?;
    report
        .steps
        .push(format!("{}: the app logs in as {role}", app.spec().name));
    restart(client, workload, options, report).await?;
    new_login(client, env, now, options).await?;
    report.steps.push(format!(
        "{}: a password nobody holds for {}, which the app left",
        now.spec().name,
        role_of(now, env)
    ));
    Ok(())
}

fn role_of(id: SecretId, env: &EnvSecrets) -> String {
    id.key(&env.runs, "username")
        .and_then(|k| match k.birth {
            Birth::Fixed { value } => Some(value.to_string()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Writes a fresh password to the role's Secret and waits until CloudNativePG reports it
/// applied: its `managedRolesStatus` names the Secret's new resourceVersion for the role.
async fn new_login(
    client: &kube::Client,
    env: &EnvSecrets,
    id: SecretId,
    options: Options,
) -> Result<String, RotateError> {
    let fresh = values::fill(id, &env.runs, &Data::new(), &BTreeMap::new(), &env.hosts)?;
    let version = store::write(client, id, &fresh, false).await?.unwrap_or_default();
    let role = role_of(id, env);
    let clusters: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        Component::Postgres.spec().namespace,
        &ApiResource::from_gvk(&GroupVersionKind::gvk("postgresql.cnpg.io", "v1", "Cluster")),
    );
    let started = std::time::Instant::now();
    loop {
        let cluster = clusters
            .get(DATABASE_CLUSTER)
            .await
            .map_err(|e| api_error(e, "get", &format!("clusters.postgresql.cnpg.io/{DATABASE_CLUSTER}")))?;
        let status = &cluster.data["status"]["managedRolesStatus"];
        if status["passwordStatus"][&role]["resourceVersion"] == version.as_str() {
            return Ok(fresh.get("password").cloned().unwrap_or_default());
        }
        if started.elapsed() >= options.timeout {
            let why = status["cannotReconcile"][&role]
                .as_array()
                .map(|w| w.iter().filter_map(|m| m.as_str()).collect::<Vec<_>>().join("; "))
                .filter(|w| !w.is_empty())
                .unwrap_or_else(|| "it has not reported the new password yet".into());
            return Err(RotateError::NotApplied {
                role,
                seconds: options.timeout.as_secs(),
                why,
            });
        }
        tokio::time::sleep(options.poll).await;
    }
}

fn random_bytes(id: SecretId, key: &str, runs: &crate::model::components::Runs) -> usize {
    match id.key(runs, key).map(|k| k.birth) {
        Some(Birth::Random { bytes }) => bytes,
        _ => 48,
    }
}

async fn restart(
    client: &kube::Client,
    workload: Workload<'static>,
    options: Options,
    report: &mut Report,
) -> Result<(), RotateError> {
    let at = rfc3339(OffsetDateTime::now_utc());
    let restarted = rollout::restart(client, workload, &at, FIELD_MANAGER, options.timeout, options.poll).await?;
    report.steps.push(if restarted {
        format!("{workload}: every replica restarted and available")
    } else {
        format!("{workload}: not deployed yet, nothing to restart")
    });
    Ok(())
}

/// `t` in RFC 3339, as the app reads `previous-until` and as `kubectl rollout restart` stamps
/// a template. The times here are now plus at most a few hours (`--timeout` is at most an
/// hour), well inside the years 0-9999 that RFC 3339 can write.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("a time of this century formats as RFC 3339")
}
