//! Tells cargo what the crate's macros read that it cannot see: `include_dir!` embeds `ui/`,
//! `sqlx::migrate!` embeds `migrations/`, and the compile-checked queries (`sqlx::query!`) read
//! `.sqlx/` or, when told to, a live database (`scripts/sqlx-prepare`). Without this, editing
//! any of them would not rebuild.

fn main() {
    for path in ["ui", "migrations", ".sqlx"] {
        println!("cargo:rerun-if-changed={path}");
    }
    for var in ["SQLX_OFFLINE", "SQLX_OFFLINE_DIR", "DATABASE_URL"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
}
