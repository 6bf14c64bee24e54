//! Golden files: every file rendered from every example, one reviewable file each under
//! `tests/golden/<example>/`. Regenerate after an intended change with
//! `UPDATE_GOLDEN=1 cargo test -p platform-cli --test it pure::golden` and review the diff.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use platform_cli::{manifest, render};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn examples() -> Vec<PathBuf> {
    let mut list: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .expect("examples/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    list.sort();
    assert!(list.len() >= 4, "one example per provider at least");
    list
}

#[test]
fn every_rendered_file_matches_its_golden_file() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    for example in examples() {
        let name = example.file_stem().expect("file name").to_string_lossy().into_owned();
        let loaded = manifest::load(&example).expect("example is valid");
        let tree = render::render(&loaded, &[]).expect("example renders");
        let golden_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(&name);
        if update {
            let _ = std::fs::remove_dir_all(&golden_dir);
        }
        let mut expected: BTreeSet<String> = BTreeSet::new();
        for (path, contents) in &tree.files {
            expected.insert(path.clone());
            let golden = golden_dir.join(path);
            if update {
                std::fs::create_dir_all(golden.parent().expect("parent")).expect("create golden dir");
                std::fs::write(&golden, contents).expect("write golden");
                continue;
            }
            match std::fs::read(&golden) {
                Ok(g) if g == *contents => {}
                Ok(_) => mismatches.push(format!("{name}: {path} differs from its golden file")),
                Err(_) => mismatches.push(format!("{name}: {path} has no golden file")),
            }
        }
        // A golden file the renderer no longer produces is a stale expectation.
        for entry in walkdir::WalkDir::new(&golden_dir)
            .into_iter()
            .flatten()
            .filter(|e| e.file_type().is_file())
        {
            let rel = entry
                .path()
                .strip_prefix(&golden_dir)
                .expect("inside")
                .to_string_lossy()
                .replace('\\', "/");
            if !expected.contains(&rel) {
                mismatches.push(format!("{name}: golden file {rel} is no longer rendered"));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{}\n\nIf the change is intended: UPDATE_GOLDEN=1 cargo test -p platform-cli --test it pure::golden, then review the diff.",
        mismatches.join("\n")
    );
}

#[test]
fn rendering_is_byte_for_byte_deterministic() {
    for example in examples() {
        let loaded = manifest::load(&example).expect("valid");
        let a = render::render(&loaded, &[]).expect("renders");
        let b = render::render(&loaded, &[]).expect("renders");
        assert_eq!(a.files, b.files, "{}", example.display());
    }
}

#[test]
fn every_rendered_file_starts_with_the_generated_header() {
    for example in examples() {
        let loaded = manifest::load(&example).expect("valid");
        for (path, contents) in render::render(&loaded, &[]).expect("renders").files {
            assert!(
                contents.starts_with(render::HEADER_PREFIX.as_bytes()),
                "{path} lacks the header"
            );
        }
    }
}

#[test]
fn no_secret_value_is_rendered() {
    // Secrets are referenced (Secret names, `${{ secrets.X }}`), never written.
    let forbidden = ["BEGIN PRIVATE KEY", "secretAccessKey: \"", "client_secret"];
    for example in examples() {
        let loaded = manifest::load(&example).expect("valid");
        for (path, contents) in render::render(&loaded, &[]).expect("renders").files {
            let text = String::from_utf8(contents).expect("utf-8");
            for f in forbidden {
                assert!(!text.contains(f), "{path} contains {f:?}");
            }
            for line in text.lines().filter(|l| l.trim_start().starts_with("password:")) {
                let value = line.trim_start().trim_start_matches("password:").trim();
                // A stored secret by name, or a token an earlier step minted through OIDC.
                assert!(
                    value.starts_with("${{ secrets.") || value.starts_with("${{ steps."),
                    "{path}: {line}"
                );
            }
        }
    }
}

#[test]
fn the_repository_tree_is_rendered_from_platform_yaml() {
    // The committed GitOps state must be what platform.yaml renders (CI also runs `render --check`).
    let loaded = manifest::load(&repo().join("platform.yaml")).expect("platform.yaml is valid");
    let tree = render::render(&loaded, &[]).expect("renders");
    let drift = render::output::check(&tree, &repo()).expect("readable");
    let paths: Vec<&str> = drift.iter().map(platform_cli::render::output::Drift::path).collect();
    assert!(
        paths.is_empty(),
        "out of date: {paths:?}; run `cargo run -p platform-cli -- render` and commit"
    );
}
