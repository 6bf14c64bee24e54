//! Tells cargo what the crate's macros read that it cannot see: `include_dir!` embeds `ui/`,
//! `sqlx::migrate!` embeds `migrations/`, and the compile-checked queries (`sqlx::query!`) read
//! `.sqlx/` or, when told to, a live database. Without this, editing any of them would not
//! rebuild. Checked against a live database (`SQLX_OFFLINE=false`, as scripts/test and
//! scripts/sqlx-prepare build), the queries write `.sqlx/` instead of reading it: tracking it
//! then would make every build compile the crate again.

fn main() {
    for path in ["ui", "migrations"] {
        println!("cargo:rerun-if-changed={path}");
    }
    if std::env::var("SQLX_OFFLINE").as_deref() != Ok("false") {
        println!("cargo:rerun-if-changed=.sqlx");
    }
    for var in ["SQLX_OFFLINE", "SQLX_OFFLINE_DIR", "DATABASE_URL"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
}
