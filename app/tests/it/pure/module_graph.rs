//! The app's modules read bottom-up: no module reaches itself through what it imports. A cycle
//! ties every module on it together (none can be read, tested or moved alone), so it fails here
//! with the path that closes it.
//!
//! The graph is read from the source: each `crate::…` and `super::…` path outside comments and
//! unit-test modules names the deepest module it reaches.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `src/chat/hub.rs` → `chat::hub`; `src/chat/mod.rs` → `chat`.
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).expect("under src").with_extension("");
    let parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|p| p != "mod")
        .collect();
    parts.join("::")
}

/// Paths the code names, as `a::b::c` from `crate::a::b::c` or `super::…` (resolved against
/// `module`), including each item of a `use crate::a::{b, c}` group.
fn referenced(module: &str, code: &str) -> Vec<String> {
    let parent: Vec<&str> = module.split("::").collect();
    let parent = parent[..parent.len().saturating_sub(1)].join("::");
    let mut found = Vec::new();
    for (prefix, base) in [("crate::", String::new()), ("super::", parent)] {
        for (at, _) in code.match_indices(prefix) {
            if code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let rest = &code[at + prefix.len()..];
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let path = path.trim_end_matches(':');
            let join = |tail: &str| {
                [base.as_str(), tail]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join("::")
            };
            found.push(join(path));
            if let Some(group) = rest[path.len()..].strip_prefix("::{") {
                for item in group.split('}').next().unwrap_or("").split(',') {
                    let item = item.trim().split([' ', ':']).next().unwrap_or("");
                    if !item.is_empty() {
                        found.push(join(&format!("{path}::{item}")));
                    }
                }
            }
        }
    }
    found
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)
            .expect("readable src")
            .map(|e| e.expect("entry").path())
        {
            if entry.is_dir() && !entry.ends_with("bin") {
                dirs.push(entry);
            } else if entry.extension().is_some_and(|e| e == "rs")
                && !entry.ends_with("lib.rs")
                && !entry.ends_with("main.rs")
            {
                files.push(entry);
            }
        }
    }
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut edges = BTreeMap::new();
    for file in &files {
        let module = module_of(&src, file);
        let text = std::fs::read_to_string(file).expect("readable");
        let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        let code: String = text
            .lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        let targets = referenced(&module, &code)
            .into_iter()
            .filter_map(|path| {
                let mut parts: Vec<&str> = path.split("::").collect();
                while !parts.is_empty() {
                    let candidate = parts.join("::");
                    if modules.contains(&candidate) {
                        return Some(candidate);
                    }
                    parts.pop();
                }
                None
            })
            .filter(|target| *target != module && !module.starts_with(&format!("{target}::")))
            .collect();
        edges.insert(module, targets);
    }
    edges
}

/// A path that leaves `from` and comes back to it, if there is one.
fn cycle_through(edges: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
    let mut stack = vec![vec![from.to_owned()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().expect("non-empty");
        for next in edges.get(last).into_iter().flatten() {
            if next == from {
                return Some([path.clone(), vec![from.to_owned()]].concat());
            }
            if seen.insert(next.clone()) {
                stack.push([path.clone(), vec![next.clone()]].concat());
            }
        }
    }
    None
}

#[test]
fn no_module_imports_itself_through_others() {
    let edges = graph();
    assert!(edges.len() > 30, "the app's modules were found: {:?}", edges.keys());
    assert!(
        edges["state"].contains("chat::hub"),
        "imports are read: {:?}",
        edges["state"]
    );
    let cycles: Vec<String> = edges
        .keys()
        .filter_map(|m| cycle_through(&edges, m))
        .map(|c| c.join(" → "))
        .collect();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn a_cycle_is_found_and_shown() {
    let edges: BTreeMap<String, BTreeSet<String>> =
        [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"]), ("d", vec!["a"])]
            .into_iter()
            .map(|(m, to)| (m.to_owned(), to.into_iter().map(str::to_owned).collect()))
            .collect();
    assert_eq!(
        cycle_through(&edges, "a").map(|c| c.join(" → ")).as_deref(),
        Some("a → b → c → a")
    );
    assert_eq!(cycle_through(&edges, "d"), None);
}
