//! The CLI's integration tests: one binary, a module per topic, grouped by what a test needs so
//! that a group runs alone (`cargo test -p platform-cli --test it -- pure::`).
//!
//! - `pure`: this repository, `../shared` and the `platform` binary only (with bash for the
//!   completion tests and a pseudo-terminal for `init`'s prompts). The fast loop.
//! - `tools`: a process of Debian's or npm's besides: `docker-registry` and `openssl` for the
//!   signature tests, Prism for GitHub's API, `git`, and `groff`/`man` for the man pages.

mod support;

mod pure {
    mod alert_coverage;
    mod argocd_project;
    mod cluster;
    mod cluster_identity;
    mod completions;
    mod diff;
    mod dns;
    mod docs;
    mod escaping;
    mod golden;
    mod init;
    mod loader_props;
    mod metrics_contract;
    mod module_graph;
    mod policies;
    mod promote_edit;
    mod promotion_gates;
    mod render;
    mod schema;
    mod scripts;
    mod secrets;
    mod supported_ranges;
    mod update_check;
    mod validate;
    mod verify_fixtures;
    mod workflows;
}

mod tools {
    mod keeping_current;
    mod man;
    mod promote_flow;
    mod promotion_gates;
    mod reachability;
    mod verify_keyless;
    mod verify_registry;
}
