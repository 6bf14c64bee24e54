//! Renderings a version of platform replaced. A tree rendered before still holds their objects
//! until it is rendered again; compared with a tree rendered since, what differs in the
//! components the change touched is that migration, not drift.

use super::objects::Objects;

/// One replaced rendering.
#[derive(Debug)]
pub struct Migration {
    /// What changed, and the doc that tells an operator what it means.
    pub name: &'static str,
    /// Kinds only a tree rendered before the migration holds.
    pub superseded: &'static [&'static str],
    /// The components whose objects the migration changed.
    pub components: &'static [&'static str],
}

/// Every migration, oldest first.
pub const MIGRATIONS: &[Migration] = &[Migration {
    name: "Kyverno's ClusterPolicies replaced by its policies.kyverno.io types (docs/policies.md)",
    superseded: &["ClusterPolicy"],
    // The policies themselves, Kyverno's values (exceptions turned on) and the AppProject that
    // admits the new kinds.
    components: &["policies", "kyverno", "argocd"],
}];

/// The migrations one side has made and the other not: exactly one holds a superseded kind.
pub fn between(a: &Objects, b: &Objects) -> Vec<&'static Migration> {
    let holds = |objects: &Objects, m: &Migration| {
        objects
            .0
            .keys()
            .any(|k| k.kind.as_deref().is_some_and(|kind| m.superseded.contains(&kind)))
    };
    MIGRATIONS.iter().filter(|m| holds(a, m) != holds(b, m)).collect()
}
