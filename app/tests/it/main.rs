//! The app's integration tests: one binary, a module per topic, grouped by what a test needs so
//! that a group runs alone (`cargo test -p app --test it -- services::`). The app's unit tests
//! (`cargo test -p app --lib`) need nothing.
//!
//! - `services`: the real PostgreSQL (a fresh database per test) and Redis on loopback, each app
//!   instance the real server on a loopback port.
//! - `faults`: a PostgreSQL cluster and a `redis-server` of the test's own, stopped and restarted
//!   under load.
//! - `browser`: the UI in Debian's headless Chromium through chromedriver, on top of the services.

mod support;

mod browser;
mod faults;

mod services {
    mod api;
    mod chat;
    mod hot_reload;
    mod isolation;
    mod kubernetes_gate;
    mod limits;
    mod orgs;
    mod process;
    mod roles;
}
