//! Where an environment's files are: its folder under each per-environment parent
//! (`argocd/<env>/`, `helm/values/<env>/` ...), read from disk or taken from a render.

use std::path::{Path, PathBuf};

use crate::render::plan::ENV_PARENTS;

use super::objects::Objects;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum TreeError {
    #[error("no rendered files of environment {env} under {}", .root.display())]
    #[diagnostic(
        code(diff::no_tree),
        help("render it first (`platform render`, or `platform render --out DIR` and pass --dir DIR), then compare")
    )]
    Missing { env: String, root: PathBuf },
    #[error("cannot read {}: {source}", .path.display())]
    #[diagnostic(code(diff::io), help("check the folder's permissions"))]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// `path` (a repository path) relative to environment `env`'s folders, if it is in one:
/// `argocd/dev/apps/app.yaml` → `argocd/apps/app.yaml`.
pub fn relative(path: &str, env: &str) -> Option<String> {
    ENV_PARENTS.iter().find_map(|parent| {
        let rest = path
            .strip_prefix(parent)?
            .strip_prefix('/')?
            .strip_prefix(env)?
            .strip_prefix('/')?;
        Some(format!("{parent}/{rest}"))
    })
}

/// The objects of environment `env` as committed under `root`.
pub fn committed(root: &Path, env: &str) -> Result<Objects, TreeError> {
    let mut files = Vec::new();
    for parent in ENV_PARENTS {
        let dir = root.join(parent).join(env);
        if !dir.is_dir() {
            continue;
        }
        for entry in walkdir::WalkDir::new(&dir).sort_by_file_name() {
            let entry = entry.map_err(|e| TreeError::Read {
                path: dir.clone(),
                source: e.into(),
            })?;
            if !entry.file_type().is_file() {
                continue;
            }
            let bytes = std::fs::read(entry.path()).map_err(|source| TreeError::Read {
                path: entry.path().to_path_buf(),
                source,
            })?;
            let rest = entry.path().strip_prefix(&dir).unwrap_or(entry.path());
            files.push((format!("{parent}/{}", rest.to_string_lossy().replace('\\', "/")), bytes));
        }
    }
    if files.is_empty() {
        return Err(TreeError::Missing {
            env: env.into(),
            root: root.to_path_buf(),
        });
    }
    Ok(Objects::from_files(
        files.iter().map(|(p, b)| (p.as_str(), b.as_slice())),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_lose_their_environment_folder() {
        assert_eq!(
            relative("argocd/dev/apps/app.yaml", "dev").as_deref(),
            Some("argocd/apps/app.yaml")
        );
        assert_eq!(
            relative("terraform/envs/prod/main.tf", "prod").as_deref(),
            Some("terraform/envs/main.tf")
        );
        assert_eq!(relative("argocd/devel/x.yaml", "dev"), None);
        assert_eq!(relative(".github/workflows/app.yaml", "dev"), None);
    }
}
