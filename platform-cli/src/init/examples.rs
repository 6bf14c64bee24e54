//! The bundled examples `platform init --from-example NAME` starts from: the repository's
//! `examples/*.yaml`, each a complete manifest that validates (tested).

use include_dir::{Dir, include_dir};

static EXAMPLES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../examples");

/// The examples' names (file stems), sorted.
pub fn names() -> Vec<&'static str> {
    let mut names: Vec<&str> = EXAMPLES
        .files()
        .filter_map(|f| f.path().to_str()?.strip_suffix(".yaml"))
        .collect();
    names.sort_unstable();
    names
}

/// The manifest of example `name` as a new repository holds it: its `$schema` line names the
/// schema file beside it rather than the toolkit's.
pub fn manifest(name: &str) -> Option<String> {
    let text = EXAMPLES.get_file(format!("{name}.yaml"))?.contents_utf8()?;
    Some(text.replacen(
        "$schema=../platform.schema.json",
        &format!("$schema=./{}", super::SCHEMA_FILE),
        1,
    ))
}
