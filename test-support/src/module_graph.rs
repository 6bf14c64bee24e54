//! A crate's modules read bottom-up: no module reaches itself through what it imports. A cycle
//! ties every module on it together (none can be read, tested or moved alone).
//!
//! The graph is read from the source: each `crate::…` and `super::…` path outside comments and
//! unit-test modules names the deepest module it reaches. A module may name its own ancestors
//! (a child reads its parent's items); every other edge counts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module → the modules it imports.
pub type Graph = BTreeMap<String, BTreeSet<String>>;

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

/// The `.rs` files of the library under `src` (binaries' `main.rs` and `bin/` left out: nothing
/// imports them).
fn library_files(src: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
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
    files
}

/// The import graph of the crate whose sources are in `src`.
pub fn graph(src: &Path) -> Graph {
    let files = library_files(src);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(src, f)).collect();
    let mut edges = BTreeMap::new();
    for file in &files {
        let module = module_of(src, file);
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
pub fn cycle_through(edges: &Graph, from: &str) -> Option<Vec<String>> {
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

/// Every cycle of `edges`, one per module on one, as `a → b → a`.
pub fn cycles(edges: &Graph) -> Vec<String> {
    edges
        .keys()
        .filter_map(|m| cycle_through(edges, m))
        .map(|c| c.join(" → "))
        .collect()
}

/// The `src` folder of each member of the workspace whose root is `root` (its `Cargo.toml`'s
/// `members`), so a new crate is checked without anyone adding it here.
pub fn workspace_sources(root: &Path) -> Vec<(String, PathBuf)> {
    let text = std::fs::read_to_string(root.join("Cargo.toml")).expect("the workspace's Cargo.toml");
    let manifest: toml::Table = text.parse().expect("the workspace's Cargo.toml is TOML");
    manifest["workspace"]["members"]
        .as_array()
        .expect("a members list")
        .iter()
        .filter_map(toml::Value::as_str)
        .map(|m| (m.to_string(), root.join(m).join("src")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cycle_is_found_and_shown() {
        let edges: Graph = [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"]), ("d", vec!["a"])]
            .into_iter()
            .map(|(m, to)| (m.to_owned(), to.into_iter().map(str::to_owned).collect()))
            .collect();
        assert_eq!(
            cycle_through(&edges, "a").map(|c| c.join(" → ")).as_deref(),
            Some("a → b → c → a")
        );
        assert_eq!(cycle_through(&edges, "d"), None);
        assert_eq!(cycles(&edges).len(), 3, "a, b and c are each on it");
    }

    #[test]
    fn imports_through_groups_and_super_are_read() {
        let found = referenced(
            "chat::hub",
            "use crate::state::{AppState, limits::Max};\nuse super::topic::Topic;",
        );
        assert_eq!(
            found,
            ["state", "state::AppState", "state::limits", "chat::topic::Topic"]
        );
    }
}
