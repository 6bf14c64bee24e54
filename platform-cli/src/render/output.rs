//! Writing a rendered tree to disk, or comparing it with what is there (`--check`).

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use similar::TextDiff;

use super::{HEADER_PREFIX, Tree, plan::ENV_PARENTS};

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("cannot {action} {}: {source}", path.display())]
#[diagnostic(code(render::io), help("check that the output folder exists and is writable"))]
pub struct OutputError {
    action: &'static str,
    path: PathBuf,
    #[source]
    source: io::Error,
}

fn io_err<'p>(action: &'static str, path: &'p Path) -> impl FnOnce(io::Error) -> OutputError + use<'p> {
    move |source| OutputError {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// What `render` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

/// One difference between the rendered tree and the disk.
#[derive(Debug)]
pub enum Drift {
    Changed {
        path: String,
        diff: String,
    },
    Missing {
        path: String,
        diff: String,
    },
    /// A previously rendered file that the manifest no longer produces.
    Extra {
        path: String,
    },
}

impl Drift {
    pub fn path(&self) -> &str {
        match self {
            Drift::Changed { path, .. } | Drift::Missing { path, .. } | Drift::Extra { path } => path,
        }
    }
}

/// Writes the tree under `out`, touching only files whose contents change, and removes
/// rendered files the manifest no longer produces (never a hand-written one).
pub fn write(tree: &Tree, out: &Path) -> Result<Summary, OutputError> {
    let mut summary = Summary::default();
    // Each folder is looked at once: one that had to be created holds no file to compare with.
    let mut existing_dirs: HashSet<PathBuf> = HashSet::new();
    let mut created_dirs: HashSet<PathBuf> = HashSet::new();
    for (rel, contents) in &tree.files {
        let path = out.join(rel);
        let parent = path.parent().unwrap_or(out);
        if !existing_dirs.contains(parent) && !created_dirs.contains(parent) {
            if parent.is_dir() {
                existing_dirs.insert(parent.to_path_buf());
            } else {
                fs::create_dir_all(parent).map_err(io_err("create", parent))?;
                created_dirs.insert(parent.to_path_buf());
            }
        }
        if existing_dirs.contains(parent) && fs::read(&path).is_ok_and(|existing| existing == *contents) {
            summary.unchanged += 1;
            continue;
        }
        fs::write(&path, contents).map_err(io_err("write", &path))?;
        summary.written += 1;
    }
    for rel in stale_files(tree, out) {
        let path = out.join(&rel);
        fs::remove_file(&path).map_err(io_err("remove", &path))?;
        summary.removed += 1;
    }
    Ok(summary)
}

/// Every file that differs from the rendered tree, with a unified diff; writes nothing.
pub fn check(tree: &Tree, out: &Path) -> Result<Vec<Drift>, OutputError> {
    let mut drift = Vec::new();
    for (rel, contents) in &tree.files {
        let path = out.join(rel);
        let want = String::from_utf8_lossy(contents);
        match fs::read(&path) {
            Ok(have) if have == *contents => {}
            Ok(have) => {
                let have = String::from_utf8_lossy(&have);
                drift.push(Drift::Changed {
                    path: rel.clone(),
                    diff: unified(&have, &want, rel, rel),
                });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => drift.push(Drift::Missing {
                path: rel.clone(),
                diff: unified("", &want, "/dev/null", rel),
            }),
            Err(e) => return Err(io_err("read", &path)(e)),
        }
    }
    for rel in stale_files(tree, out) {
        drift.push(Drift::Extra { path: rel });
    }
    drift.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(drift)
}

fn unified(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{old_name}"), &format!("b/{new_name}"))
        .to_string()
}

/// Rendered files on disk (recognised by the header) that the tree does not contain.
fn stale_files(tree: &Tree, out: &Path) -> Vec<String> {
    let mut roots: Vec<PathBuf> = tree.owned_dirs.iter().map(|d| out.join(d)).collect();
    if let Some(envs) = &tree.all_envs {
        for parent in ENV_PARENTS {
            let dir = out.join(parent);
            let Ok(entries) = fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if entry.path().is_dir() && !envs.contains(&name) {
                    roots.push(entry.path());
                }
            }
        }
    }
    let mut stale = Vec::new();
    for root in roots {
        for entry in walkdir::WalkDir::new(&root).sort_by_file_name().into_iter().flatten() {
            if !entry.file_type().is_file() {
                continue;
            }
            let Ok(rel) = entry.path().strip_prefix(out) else {
                continue;
            };
            let rel = rel.to_string_lossy().replace('\\', "/");
            if tree.files.contains_key(&rel) || !is_rendered(entry.path()) {
                continue;
            }
            stale.push(rel);
        }
    }
    stale.sort();
    stale.dedup();
    stale
}

fn is_rendered(path: &Path) -> bool {
    fs::read(path).is_ok_and(|bytes| bytes.starts_with(HEADER_PREFIX.as_bytes()))
}
