//! The roles as CloudNativePG makes them (templates/manifests/postgres/cluster.yaml.tera): the
//! database belongs to an owner who may not create roles; the cluster's managed roles make
//! `app_runtime` and a login role that is a member of it. The migrations must run as that owner,
//! and the app must work as that login, on the real PostgreSQL.

use app::db::{MIGRATOR, Tenant, begin, runtime_pool};
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

/// Runs `statements` as the superuser the test harness connects as.
async fn as_superuser(admin: &PgPool, statements: &[String]) {
    for statement in statements {
        sqlx::query(statement).execute(admin).await.expect(statement);
    }
}

#[sqlx::test(migrations = false)]
async fn migrations_run_as_an_owner_who_may_not_create_roles_and_the_app_logs_in_as_a_member(admin: PgPool) {
    let tag = Uuid::new_v4().simple().to_string();
    let (owner, login, database) = (format!("owner_{tag}"), format!("app_{tag}"), format!("cnpg_{tag}"));
    // What CloudNativePG's initdb and managed roles leave behind. app_runtime is cluster-wide and
    // other tests' migrations may have made it already.
    as_superuser(
        &admin,
        &[
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_runtime') THEN \
             CREATE ROLE app_runtime NOLOGIN; END IF; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
                .to_string(),
            format!("CREATE ROLE {owner} LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB"),
            format!("CREATE ROLE {login} LOGIN NOSUPERUSER NOCREATEROLE IN ROLE app_runtime"),
            format!("CREATE DATABASE {database} OWNER {owner}"),
        ],
    )
    .await;
    let base = admin.connect_options().as_ref().clone().database(&database);

    let mut owner_conn = PgConnection::connect_with(&base.clone().username(&owner))
        .await
        .expect("the owner logs in");
    let migrated = MIGRATOR.run(&mut owner_conn).await;
    owner_conn.close().await.expect("close");
    migrated.expect("every migration runs as the database owner, who may not create roles");

    let app = runtime_pool(base.clone().username(&login), 2)
        .await
        .expect("the login role connects and becomes app_runtime");
    let mut tx = begin(&app, Tenant::org(Uuid::new_v4()))
        .await
        .expect("a tenant transaction");
    let visible: i64 = sqlx::query_scalar("SELECT count(*) FROM organizations")
        .fetch_one(&mut *tx)
        .await
        .expect("app_runtime reads the tenant tables");
    assert_eq!(visible, 0);
    tx.rollback().await.expect("rollback");
    app.close().await;

    as_superuser(
        &admin,
        &[
            format!("DROP DATABASE {database} WITH (FORCE)"),
            format!("DROP ROLE {login}"),
            format!("DROP ROLE {owner}"),
        ],
    )
    .await;
}
