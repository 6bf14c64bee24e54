//! The GitOps repository through the `git` command line: the user's own configuration
//! (credentials, signing, hooks) applies, as it would to their own pushes.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("git {args} failed: {stderr}")]
#[diagnostic(code(promote::git), help("{help}"))]
pub struct GitError {
    pub args: String,
    pub stderr: String,
    pub help: String,
}

/// Runs git in `repo`; stdout on success.
pub fn git(repo: &Path, args: &[&str]) -> Result<String, GitError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .map_err(|e| GitError {
            args: args.join(" "),
            stderr: e.to_string(),
            help: "install git and make sure it is on PATH".into(),
        })?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string());
    }
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    let help = if stderr.contains("No such remote") || stderr.contains("does not appear to be a git repository") {
        "add the GitOps repository as the remote `origin` (git remote add origin URL)"
    } else if stderr.contains("protected branch") || stderr.contains("GH006") {
        "the branch is protected; promotion pushes promote/<env> and opens a pull request instead of pushing to it"
    } else if stderr.contains("rejected") || stderr.contains("stale info") {
        "the remote branch changed since it was fetched; fetch and run promote again"
    } else if stderr.contains("Authentication failed") || stderr.contains("could not read Username") {
        "git could not authenticate to the remote; configure a credential helper or a token"
    } else {
        "check the repository state with `git status` and try again"
    };
    Err(GitError {
        args: args.join(" "),
        stderr,
        help: help.into(),
    })
}

/// The repository's top-level folder.
pub fn toplevel(dir: &Path) -> Result<PathBuf, GitError> {
    git(dir, &["rev-parse", "--show-toplevel"]).map(PathBuf::from)
}

/// A file's content at a revision (rollback reads the manifest as it was).
pub fn show(repo: &Path, revision: &str, path: &str) -> Result<String, GitError> {
    git(repo, &["show", &format!("{revision}:{path}")])
}

/// A temporary work tree for `branch` (created at `base`), so the user's checkout is never
/// touched; removed on drop.
#[derive(Debug)]
pub struct Worktree {
    repo: PathBuf,
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Worktree {
    pub fn create(repo: &Path, branch: &str, base: &str) -> Result<Self, GitError> {
        let dir = tempfile::tempdir().map_err(|e| GitError {
            args: "worktree add".into(),
            stderr: e.to_string(),
            help: "check that the temporary folder is writable".into(),
        })?;
        let path = dir.path().join("tree");
        git(
            repo,
            &[
                "worktree",
                "add",
                "--quiet",
                "-B",
                branch,
                &path.to_string_lossy(),
                base,
            ],
        )?;
        Ok(Self {
            repo: repo.to_path_buf(),
            path,
            _dir: dir,
        })
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        let _ = git(
            &self.repo,
            &["worktree", "remove", "--force", &self.path.to_string_lossy()],
        );
    }
}
