//! The manifest's JSON Schema is generated from the Rust types; a snapshot makes every
//! change to the contract visible in review.

use platform_cli::manifest::structure::schema;

#[test]
fn schema_snapshot() {
    insta::assert_json_snapshot!("platform.schema", schema());
}

#[test]
fn the_published_schema_file_is_current() {
    // platform.schema.json at the repository root is what yaml-language-server reads.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../platform.schema.json");
    let published = std::fs::read_to_string(path).expect("platform.schema.json exists");
    let current = serde_json::to_string_pretty(schema()).expect("serialisable") + "\n";
    assert_eq!(
        published, current,
        "run `cargo run -p platform-cli -- schema > platform.schema.json`"
    );
}
