//! Tenant isolation against the real PostgreSQL. Each test gets a fresh database
//! (`#[sqlx::test]`), migrated as the owner; every query under test runs as `app_runtime`
//! through `app::db`, with the tenant set per transaction.

use app::db::{RUNTIME_ROLE, Tenant, begin, runtime_pool};
use futures_util::FutureExt;
use sqlx::{PgPool, Row};
use uuid::Uuid;

/// Every tenant table, and whether its policy is also scoped to a project.
const TABLES: [(&str, bool); 10] = [
    ("organizations", false),
    ("projects", false),
    ("users", false),
    ("project_members", false),
    ("chat_sessions", true),
    ("chat_counters", true),
    ("service_configs", false),
    ("config_history", false),
    ("invites", false),
    ("chat_polls", true),
];

struct Org {
    id: Uuid,
    projects: [Uuid; 2],
    user: Uuid,
}

/// Two orgs, each with two projects and a row in every table (chat rows in both projects).
async fn seed(owner: &PgPool) -> [Org; 2] {
    let mut orgs = Vec::new();
    for (i, slug) in ["alpha", "beta"].iter().enumerate() {
        let org = Org {
            id: Uuid::new_v4(),
            projects: [Uuid::new_v4(), Uuid::new_v4()],
            user: Uuid::new_v4(),
        };
        let statements = [
            format!(
                "INSERT INTO organizations (id, slug, name, status) VALUES ('{}', '{slug}', '{slug}', 'COMMITTED')",
                org.id
            ),
            format!(
                "INSERT INTO projects (id, org_id, name) VALUES ('{}', '{}', 'one'), ('{}', '{}', 'two')",
                org.projects[0], org.id, org.projects[1], org.id
            ),
            format!(
                "INSERT INTO users (id, org_id, user_key) VALUES ('{}', '{}', 'guest-000{i}')",
                org.user, org.id
            ),
            format!(
                "INSERT INTO project_members (org_id, project_id, user_id, role) VALUES ('{}', '{}', '{}', 'owner')",
                org.id, org.projects[0], org.user
            ),
            format!(
                "INSERT INTO chat_sessions (org_id, project_id, user_id) VALUES ('{0}', '{1}', '{3}'), ('{0}', '{2}', '{3}')",
                org.id, org.projects[0], org.projects[1], org.user
            ),
            format!(
                "INSERT INTO chat_counters (org_id, project_id, metric, value) VALUES ('{0}', '{1}', 'ready', 1), ('{0}', '{2}', 'ready', 2)",
                org.id, org.projects[0], org.projects[1]
            ),
            format!(
                "INSERT INTO service_configs (org_id, key, value_json, version, updated_by) VALUES ('{}', 'chat.polls', '{{}}', 1, 'seed')",
                org.id
            ),
            format!(
                "INSERT INTO config_history (org_id, key, new_json, version, actor, reason) VALUES ('{}', 'chat.polls', '{{}}', 1, 'seed', 'seed')",
                org.id
            ),
            format!(
                "INSERT INTO invites (org_id, secret_sha256, role, uses_left, expires_at, created_by)
                 VALUES ('{}', sha256('{slug}'::bytea), 'member', 1, now() + interval '1 day', 'seed')",
                org.id
            ),
            format!(
                "INSERT INTO chat_polls (org_id, project_id, template, question, choices)
                 VALUES ('{0}', '{1}', 'seed', 'q', '[]'), ('{0}', '{2}', 'seed', 'q', '[]')",
                org.id, org.projects[0], org.projects[1]
            ),
        ];
        for sql in statements {
            sqlx::query(&sql)
                .execute(owner)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        orgs.push(org);
    }
    let [a, b]: [Org; 2] = orgs.try_into().unwrap_or_else(|_| unreachable!("two orgs"));
    [a, b]
}

async fn app_pool(owner: &PgPool, max: u32) -> PgPool {
    runtime_pool(owner.connect_options().as_ref().clone(), max)
        .await
        .expect("app pool")
}

/// A new row for `table` in (org, project), using the seeded user.
fn insert_sql(table: &str, org: &Org, project: Uuid, key: &str) -> String {
    let (o, u) = (org.id, org.user);
    match table {
        "organizations" => format!("INSERT INTO organizations (id, slug, name) VALUES ('{o}', 'x{key}', 'x')"),
        "projects" => format!("INSERT INTO projects (org_id, name) VALUES ('{o}', '{key}')"),
        "users" => format!(
            "INSERT INTO users (org_id, user_key) VALUES ('{o}', 'guest-9{:04}')",
            key.len()
        ),
        // The seeded membership is in the first project; a new one goes into the second.
        "project_members" => format!(
            "INSERT INTO project_members (org_id, project_id, user_id, role) VALUES ('{o}', '{}', '{u}', 'member')",
            org.projects[1]
        ),
        "chat_sessions" => {
            format!("INSERT INTO chat_sessions (org_id, project_id, user_id) VALUES ('{o}', '{project}', '{u}')")
        }
        // Metrics are canned: a poll choice names the row.
        "chat_counters" => format!(
            "INSERT INTO chat_counters (org_id, project_id, metric) VALUES ('{o}', '{project}', 'poll:{}:{key}')",
            Uuid::nil()
        ),
        "chat_polls" => format!(
            "INSERT INTO chat_polls (org_id, project_id, template, question, choices) VALUES ('{o}', '{project}', '{key}', 'q', '[]')"
        ),
        "service_configs" => format!(
            "INSERT INTO service_configs (org_id, key, value_json, version, updated_by) VALUES ('{o}', '{key}', '1', 1, 't')"
        ),
        "config_history" => format!(
            "INSERT INTO config_history (org_id, key, new_json, version, actor, reason) VALUES ('{o}', '{key}', '1', 1, 't', 't')"
        ),
        "invites" => format!(
            "INSERT INTO invites (org_id, secret_sha256, role, uses_left, expires_at, created_by)
             VALUES ('{o}', sha256('{key}'::bytea), 'member', 1, now(), 't')"
        ),
        other => unreachable!("{other}"),
    }
}

/// A refusal must come from row-level security (SQLSTATE 42501), not from some other error
/// that would hide whether RLS works.
fn refused_by_rls<T>(result: &Result<T, sqlx::Error>) -> bool {
    matches!(result, Err(e) if e.as_database_error().and_then(sqlx::error::DatabaseError::code).as_deref() == Some("42501"))
}

fn tenant_column(table: &str) -> &'static str {
    if table == "organizations" { "id" } else { "org_id" }
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn every_tenant_table_forces_rls_and_the_app_role_is_unprivileged(owner: PgPool) {
    let rows = sqlx::query(
        "SELECT c.relname::text AS name, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
                (SELECT count(*) FROM pg_policies p WHERE p.schemaname = 'public' AND p.tablename = c.relname) AS policies
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind = 'r'
            AND (c.relname = 'organizations' OR EXISTS (
                  SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped))
          ORDER BY 1",
    )
    .fetch_all(&owner)
    .await
    .expect("catalog");
    let mut names: Vec<String> = Vec::new();
    for row in &rows {
        let name: String = row.get("name");
        assert!(row.get::<bool, _>("rls"), "{name}: RLS enabled");
        assert!(row.get::<bool, _>("forced"), "{name}: RLS forced");
        assert!(row.get::<i64, _>("policies") >= 1, "{name}: has a policy");
        names.push(name);
    }
    let mut expected: Vec<String> = TABLES.iter().map(|(t, _)| (*t).to_string()).collect();
    expected.sort();
    assert_eq!(names, expected, "every table with org_id is a known tenant table");

    let role = sqlx::query("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1")
        .bind(RUNTIME_ROLE)
        .fetch_one(&owner)
        .await
        .expect("role");
    assert!(!role.get::<bool, _>("rolsuper") && !role.get::<bool, _>("rolbypassrls"));
    let owned: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE tableowner = $1")
        .bind(RUNTIME_ROLE)
        .fetch_one(&owner)
        .await
        .expect("owned");
    assert_eq!(owned, 0, "the app role owns no table");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn no_operation_crosses_a_tenant_boundary(owner: PgPool) {
    let [a, b] = seed(&owner).await;
    let pool = app_pool(&owner, 2).await;
    let mut leaks: Vec<String> = Vec::new();
    let mut checks = 0;
    for (i, (table, by_project)) in TABLES.iter().enumerate() {
        let col = tenant_column(table);
        let here = Tenant {
            org: a.id,
            project: Some(a.projects[0]),
        };
        let elsewhere = Tenant {
            org: a.id,
            project: Some(a.projects[1]),
        };
        let key = format!("k{i}");

        // SELECT: same org sees its own rows only; other org's rows are invisible.
        let mut tx = begin(&pool, here).await.expect("tx");
        let foreign: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE {col} = '{}'", b.id))
            .fetch_one(&mut *tx)
            .await
            .expect("select");
        let own: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut *tx)
            .await
            .expect("select");
        checks += 2;
        if foreign != 0 {
            leaks.push(format!("{table}: SELECT sees {foreign} rows of another org"));
        }
        let expected_own: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {table} WHERE {col} = '{}'{}",
            a.id,
            if *by_project {
                format!(" AND project_id = '{}'", a.projects[0])
            } else {
                String::new()
            }
        ))
        .fetch_one(&owner)
        .await
        .expect("owner count");
        if own != expected_own || own == 0 {
            leaks.push(format!("{table}: same org sees {own} rows, expected {expected_own}"));
        }
        // UPDATE and DELETE of another org's rows touch nothing.
        let updated = sqlx::query(&format!("UPDATE {table} SET {col} = {col} WHERE {col} = '{}'", b.id))
            .execute(&mut *tx)
            .await
            .map(|r| r.rows_affected());
        let deleted = sqlx::query(&format!("DELETE FROM {table} WHERE {col} = '{}'", b.id))
            .execute(&mut *tx)
            .await
            .map(|r| r.rows_affected());
        checks += 2;
        match (table, updated) {
            // config_history is append-only: UPDATE/DELETE are not even granted.
            (&"config_history", Err(_)) => {}
            (_, Ok(0)) => {}
            (_, other) => leaks.push(format!("{table}: UPDATE of another org gave {other:?}")),
        }
        match (table, deleted) {
            (&"config_history", Err(_)) => {}
            (_, Ok(0)) => {}
            (_, other) => leaks.push(format!("{table}: DELETE of another org gave {other:?}")),
        }
        tx.rollback().await.expect("rollback");

        // INSERT for another org is refused; for the own org it is allowed.
        let mut tx = begin(&pool, here).await.expect("tx");
        let foreign_insert = sqlx::query(&insert_sql(table, &b, b.projects[0], &key))
            .execute(&mut *tx)
            .await;
        checks += 1;
        if !refused_by_rls(&foreign_insert) {
            leaks.push(format!(
                "{table}: INSERT into another org was not refused by RLS: {:?}",
                foreign_insert.err()
            ));
        }
        tx.rollback().await.expect("rollback");
        if *table != "organizations" {
            let mut tx = begin(&pool, here).await.expect("tx");
            sqlx::query(&insert_sql(table, &a, a.projects[0], &key))
                .execute(&mut *tx)
                .await
                .unwrap_or_else(|e| panic!("{table}: own insert refused: {e}"));
            tx.rollback().await.expect("rollback");
        }

        // Another project of the same org: project-scoped tables hide and refuse.
        if *by_project {
            let mut tx = begin(&pool, elsewhere).await.expect("tx");
            let seen: i64 = sqlx::query_scalar(&format!(
                "SELECT count(*) FROM {table} WHERE project_id = '{}'",
                a.projects[0]
            ))
            .fetch_one(&mut *tx)
            .await
            .expect("select");
            let insert = sqlx::query(&insert_sql(table, &a, a.projects[0], &format!("{key}p")))
                .execute(&mut *tx)
                .await;
            checks += 2;
            if seen != 0 {
                leaks.push(format!("{table}: another project sees {seen} rows"));
            }
            if !refused_by_rls(&insert) {
                leaks.push(format!(
                    "{table}: INSERT into another project was not refused by RLS: {:?}",
                    insert.err()
                ));
            }
            tx.rollback().await.expect("rollback");
        }

        // No tenant set: nothing visible, nothing writable. (What app::db::begin prevents, done
        // on purpose.)
        #[allow(clippy::disallowed_methods)]
        let mut tx = pool.begin().await.expect("tx");
        let seen: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut *tx)
            .await
            .expect("select");
        let insert = sqlx::query(&insert_sql(table, &a, a.projects[0], &format!("{key}n")))
            .execute(&mut *tx)
            .await;
        checks += 2;
        if seen != 0 {
            leaks.push(format!("{table}: no tenant sees {seen} rows"));
        }
        if !refused_by_rls(&insert) {
            leaks.push(format!(
                "{table}: INSERT without a tenant was not refused by RLS: {:?}",
                insert.err()
            ));
        }
        tx.rollback().await.expect("rollback");
    }
    assert!(checks >= 60, "the matrix ran ({checks} checks)");
    assert!(leaks.is_empty(), "{} leaks:\n{}", leaks.len(), leaks.join("\n"));
}

/// The pool's only connection is not inside a transaction (its server says `idle`, as the
/// owner sees it in `pg_stat_activity`) and carries no tenant (a plain query sees no project).
async fn assert_connection_clean(owner: &PgPool, pool: &PgPool, what: &str) {
    let mut conn = pool.acquire().await.expect("connection");
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *conn)
        .await
        .expect("pid");
    let state: Option<String> = sqlx::query_scalar("SELECT state FROM pg_stat_activity WHERE pid = $1")
        .bind(pid)
        .fetch_one(owner)
        .await
        .expect("state");
    assert_eq!(
        state.as_deref(),
        Some("idle"),
        "{what}: the pooled connection is inside a transaction"
    );
    let leaked: i64 = sqlx::query_scalar("SELECT count(*) FROM projects")
        .fetch_one(&mut *conn)
        .await
        .expect("select");
    assert_eq!(leaked, 0, "{what}: a tenant survived on the pooled connection");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_reused_connection_never_carries_a_tenant(owner: PgPool) {
    let orgs = seed(&owner).await;
    let pool = app_pool(&owner, 1).await;
    for i in 0..60 {
        let org = &orgs[i % 2];
        let mut tx = begin(
            &pool,
            Tenant {
                org: org.id,
                project: None,
            },
        )
        .await
        .expect("tx");
        let visible: Vec<Uuid> = sqlx::query_scalar("SELECT org_id FROM projects")
            .fetch_all(&mut *tx)
            .await
            .expect("select");
        assert_eq!(visible.len(), 2, "round {i}");
        assert!(visible.iter().all(|o| *o == org.id), "round {i}: saw another org");
        if i % 3 == 0 {
            // An error mid-transaction, then rollback: the next user starts clean.
            let _ = sqlx::query("SELECT 1/0").execute(&mut *tx).await;
            tx.rollback().await.expect("rollback");
        } else {
            tx.commit().await.expect("commit");
        }
        assert_connection_clean(&owner, &pool, &format!("round {i}")).await;
    }
}

/// `db::begin` sets the tenant and opens the transaction in one statement. If that statement
/// fails part-way, nothing may be handed out and the connection must come back clean (not
/// stuck in an aborted transaction, not carrying the tenant).
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_begin_that_fails_part_way_leaves_the_connection_clean(owner: PgPool) {
    let [a, b] = seed(&owner).await;
    let pool = app_pool(&owner, 1).await;
    let statement = Tenant::org(a.id).begin_statement();
    let failing = statement.replacen("; BEGIN", ", 1/0; BEGIN", 1);
    assert_ne!(
        failing, statement,
        "the tenant is set before BEGIN, in the same statement"
    );
    #[allow(clippy::disallowed_methods)] // db::begin's own statement, broken on purpose
    let err = pool.begin_with(failing).await.expect_err("no transaction");
    assert!(err.to_string().contains("division by zero"), "{err}");
    assert_connection_clean(&owner, &pool, "after a failed begin").await;

    let mut tx = begin(&pool, Tenant::org(b.id)).await.expect("tx");
    let visible: Vec<Uuid> = sqlx::query_scalar("SELECT org_id FROM projects")
        .fetch_all(&mut *tx)
        .await
        .expect("select");
    assert_eq!(visible, [b.id, b.id], "the next transaction sees exactly its own org");
    tx.commit().await.expect("commit");
}

/// A request dropped while its `begin` is in flight (client gone, request timeout): the
/// server still opens the transaction with the tenant set. `db::begin` must make sure it is
/// rolled back before the connection serves anyone else.
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_begin_dropped_in_flight_leaves_the_connection_clean(owner: PgPool) {
    let [a, _] = seed(&owner).await;
    let pool = app_pool(&owner, 1).await;
    let mut interrupted = 0;
    for round in 0..100 {
        // Polled exactly once, then dropped: the statement is on its way, its reply unread.
        match begin(&pool, Tenant::org(a.id)).now_or_never() {
            None => interrupted += 1,
            Some(tx) => tx.expect("tx").rollback().await.expect("rollback"),
        }
        assert_connection_clean(&owner, &pool, &format!("round {round}")).await;
    }
    assert!(
        interrupted > 0,
        "no begin was interrupted; the test did not test anything"
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn moving_a_row_to_another_org_is_refused(owner: PgPool) {
    let [a, b] = seed(&owner).await;
    let pool = app_pool(&owner, 1).await;
    let mut tx = begin(
        &pool,
        Tenant {
            org: a.id,
            project: None,
        },
    )
    .await
    .expect("tx");
    let err = sqlx::query(&format!(
        "UPDATE service_configs SET org_id = '{}' WHERE org_id = '{}'",
        b.id, a.id
    ))
    .execute(&mut *tx)
    .await
    .expect_err("refused");
    let code = err
        .as_database_error()
        .and_then(sqlx::error::DatabaseError::code)
        .map(|c| c.to_string());
    assert_eq!(code.as_deref(), Some("42501"), "{err}");
    assert!(err.to_string().contains("row-level security"), "{err}");
}
