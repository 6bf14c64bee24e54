//! Opening (or updating) the promotion pull request on GitHub or GitHub Enterprise.

use octocrab::Octocrab;
use octocrab::params::State;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum GitHubError {
    #[error("GITHUB_TOKEN is not set")]
    #[diagnostic(
        code(promote::github_token),
        help("export GITHUB_TOKEN with a token that may push and open pull requests")
    )]
    NoToken,
    #[error("cannot tell the GitHub repository from {0}")]
    #[diagnostic(
        code(promote::github_repo),
        help("gitops.repoURL must look like https://HOST/OWNER/REPO(.git)")
    )]
    NotGitHub(String),
    #[error("GitHub refused the request ({status}): {message}")]
    #[diagnostic(code(promote::github_api), help("{help}"))]
    Api { status: u16, message: String, help: String },
    #[error("cannot reach the GitHub API at {url}: {reason}")]
    #[diagnostic(
        code(promote::github_unreachable),
        help("check --github-api-url (GitHub Enterprise: https://HOST/api/v3) and the network")
    )]
    Unreachable { url: String, reason: String },
}

/// `https://github.com/acme/platform.git` → (`acme`, `platform`).
pub fn owner_repo(repo_url: &str) -> Result<(String, String), GitHubError> {
    let url = url::Url::parse(repo_url).map_err(|_| GitHubError::NotGitHub(repo_url.into()))?;
    let mut parts = url
        .path_segments()
        .ok_or_else(|| GitHubError::NotGitHub(repo_url.into()))?;
    match (parts.next(), parts.next()) {
        (Some(owner), Some(repo)) if !owner.is_empty() && !repo.is_empty() => {
            Ok((owner.into(), repo.trim_end_matches(".git").into()))
        }
        _ => Err(GitHubError::NotGitHub(repo_url.into())),
    }
}

/// What happened on GitHub.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PullRequest {
    pub number: u64,
    pub url: String,
    /// True when an open promotion PR for this environment was updated rather than created.
    pub updated: bool,
}

/// Creates the PR from `head` into `base`, or updates the one already open for `head`.
#[allow(clippy::too_many_arguments)]
pub async fn upsert(
    api_url: &str,
    token: &str,
    owner: &str,
    repo: &str,
    head: &str,
    base: &str,
    title: &str,
    body: &str,
) -> Result<PullRequest, GitHubError> {
    let client = Octocrab::builder()
        .base_uri(api_url)
        .map_err(|e| unreachable(api_url, &e))?
        .personal_token(token.to_string())
        .build()
        .map_err(|e| unreachable(api_url, &e))?;
    let pulls = client.pulls(owner, repo);
    let open = pulls
        .list()
        .state(State::Open)
        .head(format!("{owner}:{head}"))
        .base(base)
        .send()
        .await
        .map_err(|e| api_error(api_url, e))?;
    let pr = match open.items.into_iter().next() {
        Some(existing) => {
            let updated = pulls
                .update(existing.number)
                .title(title)
                .body(body)
                .send()
                .await
                .map_err(|e| api_error(api_url, e))?;
            (updated, true)
        }
        None => (
            pulls
                .create(title, head, base)
                .body(body)
                .send()
                .await
                .map_err(|e| api_error(api_url, e))?,
            false,
        ),
    };
    Ok(PullRequest {
        number: pr.0.number,
        url: pr.0.html_url.map(|u| u.to_string()).unwrap_or_default(),
        updated: pr.1,
    })
}

fn unreachable(url: &str, e: &dyn std::fmt::Display) -> GitHubError {
    GitHubError::Unreachable {
        url: url.into(),
        reason: e.to_string(),
    }
}

fn api_error(url: &str, e: octocrab::Error) -> GitHubError {
    match e {
        octocrab::Error::GitHub { source, .. } => {
            let status = source.status_code.as_u16();
            let help = match status {
                401 => "the token was refused: check GITHUB_TOKEN (expired or revoked?)",
                403 => "the token may not do this: it needs contents:write and pull-requests:write",
                404 => "the repository was not found, or the token cannot see it",
                409 | 422 => {
                    "GitHub could not apply the change: is the branch pushed, and is there a conflict with the base?"
                }
                _ => "retry later; GitHub may be unavailable",
            };
            GitHubError::Api {
                status,
                message: source.message,
                help: help.into(),
            }
        }
        other => unreachable(url, &other),
    }
}

#[cfg(test)]
mod tests {
    use super::owner_repo;

    #[test]
    fn repository_urls_name_owner_and_repo() {
        assert_eq!(
            owner_repo("https://github.com/acme/platform.git").ok(),
            Some(("acme".into(), "platform".into()))
        );
        assert_eq!(
            owner_repo("https://ghe.example.com/ops/gitops").ok(),
            Some(("ops".into(), "gitops".into()))
        );
        assert!(owner_repo("https://github.com/acme").is_err());
    }
}
