//! Promotion: carry one environment's pinned versions into the next, as a reviewable change.
//!
//! `pins` computes what the source environment runs and what would change in the target;
//! `edit` writes those pins into `platform.yaml` as a targeted text edit (comments and layout
//! kept) and proves the result by loading it again.

pub mod edit;
pub mod flow;
pub mod gates;
pub mod git;
pub mod github;
pub mod pins;
pub mod summary;

use crate::manifest::Manifest;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PromoteError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    UnknownEnvironment(#[from] crate::model::UnknownEnvironment),
    #[error("\"{to}\" is promoted from {}, not from \"{from}\"", .expected.as_deref().map_or("no environment".to_string(), |e| format!("\"{e}\"")))]
    #[diagnostic(
        code(promote::chain),
        help("promotions follow the manifest's chain (promotedFrom); promote each step in turn")
    )]
    NotInChain {
        from: String,
        to: String,
        expected: Option<String>,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Manifest(Box<crate::manifest::LoadError>),
    #[error("nothing to promote from: pass --from ENV, or --revision REV to roll back")]
    #[diagnostic(code(promote::no_source), help("e.g. platform promote --from staging --to prod"))]
    NoSource,
    #[error("refusing to promote {} into {}:{}", .0.from, .0.to, .0.refusal_text())]
    #[diagnostic(
        code(promote::gates),
        help(
            "nothing was pushed. Fix the source or wait, then promote again; a person who accepts the risk passes --override-gate NAME --reason TEXT, which the pull request records"
        )
    )]
    GatesRefused(Box<gates::Report>),
    #[error("refusing to promote: {0}")]
    #[diagnostic(
        code(promote::unverified),
        help("the target would deploy an image the manifest's signing identity has not signed; nothing was pushed")
    )]
    Verification(Box<crate::supply_chain::VerifyError>),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Git(#[from] git::GitError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    GitHub(Box<github::GitHubError>),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Render(Box<crate::render::RenderError>),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Output(Box<crate::render::output::OutputError>),
    #[error("the manifest {} is not inside the Git repository {} (it resolves outside it)", .manifest.display(), .repository.display())]
    #[diagnostic(
        code(promote::outside_repository),
        help(
            "promote commits the manifest in its repository: pass the manifest's path inside the repository, not a link to a file elsewhere"
        )
    )]
    OutsideRepository {
        manifest: std::path::PathBuf,
        repository: std::path::PathBuf,
    },
    #[error("cannot write {} in the promotion's work tree: {source}", .path.display())]
    #[diagnostic(
        code(promote::write),
        help(
            "check the free space and permissions of the repository's .git folder (the work tree lives there); nothing was pushed"
        )
    )]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Tree(Box<crate::diff::tree::TreeError>),
    #[error("the edited manifest does not carry the pins as intended: {0}")]
    #[diagnostic(
        code(promote::edit),
        help("this is a bug in platform's manifest editing; the manifest was not written")
    )]
    EditFailed(String),
}

/// The promotion chain allows `from` → `to` only where `to.promotedFrom == from`.
pub fn check_chain(manifest: &Manifest, from: &str, to: &str) -> Result<(), PromoteError> {
    manifest.environment(from)?;
    let target = manifest.environment(to)?;
    if target.promoted_from.as_deref() != Some(from) {
        return Err(PromoteError::NotInChain {
            from: from.into(),
            to: to.into(),
            expected: target.promoted_from.clone(),
        });
    }
    Ok(())
}
