//! The README and docs/ cannot drift silently: every repository path they name exists (in this
//! repository, in the tree some example renders, or git-ignored as made at run time), no heading
//! repeats within a file, and no paragraph stops mid-sentence.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// README.md and every docs/*.md, with their text.
fn documents() -> Vec<(String, String)> {
    let mut paths = vec![repo().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo().join("docs"))
        .expect("docs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    paths.extend(docs);
    paths
        .into_iter()
        .map(|p| {
            let name = p.strip_prefix(repo()).unwrap_or(&p).display().to_string();
            (name, std::fs::read_to_string(&p).expect("readable"))
        })
        .collect()
}

/// The lines outside fenced code blocks, with their line numbers.
fn prose(text: &str) -> Vec<(usize, &str)> {
    let mut fenced = false;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push((i + 1, line));
        }
    }
    out
}

/// Inline code spans and link targets: where the docs name paths.
fn named(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, span) in line.split('`').enumerate() {
        if i % 2 == 1 {
            out.push(span.to_string());
        }
    }
    let mut rest = line;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find(')') {
            out.push(rest[..end].to_string());
        }
    }
    out
}

/// A token that names a path of this repository: no placeholders or globs, not a URL, and
/// under one of the repository's top-level folders (`docs/x.md`, `scripts/test`, ...).
fn repository_path(token: &str) -> Option<String> {
    let token = token.split('#').next()?.trim_end_matches('/');
    if token.is_empty()
        || token.contains("://")
        || token.contains(|c: char| c.is_whitespace() || "<>*{}$[]|,;=\"'".contains(c))
        || !token.contains('/')
    {
        return None;
    }
    let first = token.split('/').next()?;
    let top = repo().join(first);
    (!first.is_empty() && first != ".." && first != "." && top.is_dir()).then(|| token.to_string())
}

/// Every file some example (or platform.yaml) renders, in the repository layout: the docs name
/// rendered paths that only some manifests make (`terraform/ci/` for a cloud registry).
fn rendered_paths() -> Vec<String> {
    let mut manifests: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .expect("examples/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    manifests.push(repo().join("platform.yaml"));
    let mut paths = Vec::new();
    for manifest in manifests {
        let loaded = platform_cli::manifest::load(&manifest).expect("valid manifest");
        let tree = platform_cli::render::render(&loaded, &[]).expect("renders");
        paths.extend(tree.files.into_keys());
    }
    paths
}

/// What is made at run time, never committed: what this repository's `.gitignore` ignores
/// (build output, the tests' screenshots under `target/`) and what the one `platform init`
/// writes ignores (Terraform's and cosign's files).
fn ignored_at_run_time() -> ignore::gitignore::Gitignore {
    let mut builder = ignore::gitignore::GitignoreBuilder::new(repo());
    for file in [
        repo().join(".gitignore"),
        repo().join("platform-cli/src/init/templates/gitignore.tera"),
    ] {
        if let Some(error) = builder.add(&file) {
            panic!("{}: {error}", file.display());
        }
    }
    builder.build().expect("gitignore patterns")
}

#[test]
fn every_repository_path_the_docs_name_exists() {
    let rendered = rendered_paths();
    let ignored = ignored_at_run_time();
    let mut missing = Vec::new();
    for (doc, text) in documents() {
        // Links in docs/ are relative to docs/; code spans name paths from the repository root.
        let base = Path::new(&doc).parent().unwrap_or(Path::new("")).to_path_buf();
        for (line_no, line) in prose(&text) {
            for token in named(line) {
                let Some(path) = repository_path(&token) else { continue };
                // Made at run time: accepted whether or not this checkout has run anything yet.
                if ignored
                    .matched_path_or_any_parents(repo().join(&path), false)
                    .is_ignore()
                {
                    continue;
                }
                let exists = repo().join(&path).exists()
                    || repo().join(&base).join(&path).exists()
                    || rendered
                        .iter()
                        .any(|f| f == &path || f.starts_with(&format!("{path}/")));
                if !exists {
                    missing.push(format!("{doc}:{line_no}: {path}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "paths named but not in the repository:\n{}",
        missing.join("\n")
    );
}

#[test]
fn no_heading_repeats_within_a_document() {
    let mut repeated = Vec::new();
    for (doc, text) in documents() {
        let mut seen = std::collections::BTreeSet::new();
        for (line_no, line) in prose(&text) {
            if line.starts_with('#') && !seen.insert(line.trim().to_string()) {
                repeated.push(format!("{doc}:{line_no}: {line}"));
            }
        }
    }
    assert!(repeated.is_empty(), "repeated headings:\n{}", repeated.join("\n"));
}

#[test]
fn no_paragraph_stops_mid_sentence() {
    let mut cut = Vec::new();
    for (doc, text) in documents() {
        let lines = prose(&text);
        for (i, (line_no, line)) in lines.iter().enumerate() {
            let next = lines.get(i + 1).map(|(_, l)| l.trim()).unwrap_or("");
            let trimmed = line.trim();
            // The last line of a paragraph of running text (not a heading, table, list item,
            // quote, HTML or image line).
            let running = !trimmed.is_empty()
                && !trimmed.starts_with(['#', '|', '-', '*', '>', '<', '!'])
                && !trimmed.chars().next().is_some_and(|c| c.is_ascii_digit());
            let in_list = lines[..i]
                .iter()
                .rev()
                .take_while(|(_, l)| !l.trim().is_empty())
                .any(|(_, l)| {
                    l.trim_start().starts_with(['-', '*'])
                        || l.trim_start().chars().next().is_some_and(|c| c.is_ascii_digit())
                });
            if running && !in_list && next.is_empty() && !trimmed.ends_with(['.', ':', '!', '?', ')', '`']) {
                cut.push(format!("{doc}:{line_no}: {trimmed}"));
            }
        }
    }
    assert!(cut.is_empty(), "paragraphs that stop mid-sentence:\n{}", cut.join("\n"));
}
