//! The GitOps repository and how people sign in to Argo CD (`gitops`).

use super::Checker;
use crate::model::Manifest;

pub(super) fn check_gitops(c: &mut Checker<'_>, m: &Manifest) {
    let url = &m.gitops.repo_url;
    if !url.starts_with("git@") {
        c.https_url("/gitops/repoURL", url, "the GitOps repository");
    }
    if m.gitops.target_revision.trim().is_empty() {
        c.invalid(
            "/gitops/targetRevision",
            "the branch is empty",
            "a branch name such as main",
            "use the branch Argo CD should track",
        );
    }
    if let Some(sso) = &m.gitops.sso {
        check_sso(c, sso);
    }
}

/// `gitops.sso`: exactly one way in, and names Argo CD's configuration can hold as they are
/// (Dex's YAML, Casbin's CSV policy).
pub(super) fn check_sso(c: &mut Checker<'_>, sso: &crate::model::Sso) {
    let p = "/gitops/sso";
    match (&sso.github, &sso.oidc) {
        (Some(_), Some(_)) | (None, None) => c.invalid(
            p,
            "`sso` needs exactly one of `github` and `oidc`",
            "`github: { organization: ... }` or `oidc: { issuer: ..., clientId: ... }`",
            "leave `sso` out on a github.com repository to sign in with GitHub as the repository's owner",
        ),
        _ => {}
    }
    let github_name = regex::Regex::new("^[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}$").ok();
    if let Some(g) = &sso.github {
        if !github_name.as_ref().is_some_and(|re| re.is_match(&g.organization)) {
            c.invalid(
                &format!("{p}/github/organization"),
                format!("\"{}\" is not a GitHub organization name", g.organization),
                "1-39 letters, digits and single hyphens, not at either end",
                "the organization's login, as in https://github.com/<organization>",
            );
        }
        if let Some(team) = &g.admin_team
            && (team.is_empty()
                || !team
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'))
        {
            c.invalid(
                &format!("{p}/github/adminTeam"),
                format!("\"{team}\" is not a team slug"),
                "the team's slug: lowercase letters, digits, '-' and '_'",
                "the last part of https://github.com/orgs/<organization>/teams/<slug>",
            );
        }
    }
    if let Some(o) = &sso.oidc {
        c.https_url(&format!("{p}/oidc/issuer"), &o.issuer, "the OpenID Connect issuer");
        if o.client_id.is_empty() || o.client_id.chars().any(|ch| ch.is_whitespace() || ch.is_control()) {
            c.invalid(
                &format!("{p}/oidc/clientId"),
                format!("\"{}\" is not a client id", o.client_id),
                "the client id the issuer registered for Argo CD, without spaces",
                "copy it from the issuer's application registration",
            );
        }
        if let Some(group) = &o.admin_group
            && (group.is_empty() || group.chars().any(|ch| ch == ',' || ch == '"' || ch.is_control()))
        {
            c.invalid(
                &format!("{p}/oidc/adminGroup"),
                format!("\"{group}\" cannot be written into Argo CD's RBAC policy"),
                "a value of the `groups` claim without commas, quotes or line breaks",
                "Argo CD's policy is CSV: use the group's id or name as the issuer sends it",
            );
        }
    }
}
