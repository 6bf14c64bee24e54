//! Every crate of the workspace reads bottom-up: no module reaches itself through what it
//! imports (`test_support::module_graph`, which says how imports are read). The crates come from
//! the workspace's `members`, so a new one is checked without anyone adding it here.

use std::path::Path;

use test_support::module_graph::{cycles, graph, workspace_sources};

#[test]
fn no_module_of_any_crate_imports_itself_through_others() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let crates = workspace_sources(&root);
    let names: Vec<&str> = crates.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["platform-cli", "app", "contracts", "test-support"]);
    let mut found = Vec::new();
    for (name, src) in &crates {
        let edges = graph(src);
        // The graph is read at all: a known import of each larger crate is an edge.
        match name.as_str() {
            "platform-cli" => assert!(
                edges["manifest::resolve"].contains("model"),
                "{:?}",
                edges["manifest::resolve"]
            ),
            "app" => assert!(edges["state"].contains("chat::hub"), "{:?}", edges["state"]),
            _ => {}
        }
        found.extend(cycles(&edges).into_iter().map(|c| format!("{name}: {c}")));
    }
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

/// The model is the floor: it imports nothing of the crate outside itself.
#[test]
fn the_manifest_model_imports_nothing_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = graph(&src);
    let above: Vec<String> = edges
        .iter()
        .filter(|(module, _)| *module == "model" || module.starts_with("model::"))
        .flat_map(|(module, targets)| {
            targets
                .iter()
                .filter(|t| *t != "model" && !t.starts_with("model::"))
                .map(move |t| format!("{module} → {t}"))
        })
        .collect();
    assert!(
        above.is_empty(),
        "the model reaches above itself:\n{}",
        above.join("\n")
    );
}
