//! Helpers the tests (and benchmarks) of every crate share, so none keeps its own copy:
//! [`free_port`], the Kubernetes API stand-in's answers ([`apiserver`]) and the check that no
//! crate's modules import one another in a cycle ([`module_graph`]). A dev-dependency only.

pub mod apiserver;
pub mod module_graph;

/// The repository's root (the workspace's), where the examples, the rendered tree and `docs/`
/// are, whichever crate's test asks.
pub fn repository_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A free loopback port, for a server a test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}
