//! The config keys an org has: one [`Key`] each, with what it accepts (said and checked), the
//! value a new org starts with, and a typed reader. A fixed catalog keeps values checkable and
//! the `app_config_version{key}` metric's cardinality bounded.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

pub use super::key::{Key, Spec};
use super::quotas::QUOTAS;
use crate::domain::{Action, ConfigKey};
use crate::limits::SESSION_CAP;

pub static MAX_SESSIONS: Key<i64> = Key {
    name: "chat.max_sessions",
    accepts: "an integer from 1 to 3: active chat sessions per user and project",
    platform_only: false,
    default: || SESSION_CAP,
    within: |n| (1..=SESSION_CAP).contains(n),
};

pub static RATE_LIMIT_PER_MINUTE: Key<u32> = Key {
    name: "chat.rate_limit_per_minute",
    accepts: "an integer from 1 to 600: chat actions a user may send per minute",
    platform_only: false,
    default: || 60,
    within: |n| (1..=600).contains(n),
};

pub static ACTIONS: Key<Vec<Action>> = Key {
    name: "chat.actions",
    accepts: "a non-empty array of distinct canned actions (thumbs_up, thumbs_down, ready, blocked, review, deployed, tests_green)",
    platform_only: false,
    default: || Action::ALL.to_vec(),
    within: |actions| !actions.is_empty() && actions.iter().enumerate().all(|(i, a)| !actions[..i].contains(a)),
};

pub static BANNER: Key<String> = Key {
    name: "ui.banner",
    accepts: "a string of at most 200 characters shown on the org's pages",
    platform_only: false,
    default: String::new,
    within: |banner| banner.chars().count() <= 200,
};

pub static FEATURES: Key<BTreeMap<String, bool>> = Key {
    name: "features",
    accepts: "an object whose values are booleans (feature flags), at most 32 of them",
    platform_only: false,
    default: BTreeMap::new,
    within: |flags| flags.len() <= 32,
};

/// A poll an org's members can open: a question and its choices.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollTemplate {
    pub id: String,
    pub question: String,
    pub choices: Vec<String>,
}

impl PollTemplate {
    fn well_formed(&self) -> bool {
        let choices = &self.choices;
        slug(&self.id)
            && (1..=200).contains(&self.question.chars().count())
            && (2..=6).contains(&choices.len())
            && choices.iter().all(|c| slug(c))
            && choices.iter().enumerate().all(|(i, c)| !choices[..i].contains(c))
    }
}

/// A lowercase slug: the shape of poll template ids and choices.
fn slug(s: &str) -> bool {
    (1..=40).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

pub static POLL_TEMPLATES: Key<Vec<PollTemplate>> = Key {
    name: "chat.poll_templates",
    accepts: "an array of at most 20 poll templates {\"id\": a lowercase slug, \"question\": 1-200 characters, \"choices\": 2-6 distinct lowercase slugs}",
    platform_only: false,
    default: || {
        let template = |id: &str, question: &str, choices: [&str; 3]| PollTemplate {
            id: id.to_owned(),
            question: question.to_owned(),
            choices: choices.map(str::to_owned).to_vec(),
        };
        vec![
            template("ship-it", "Ship it today?", ["yes", "no", "later"]),
            template("sprint", "How did the sprint go?", ["great", "ok", "rough"]),
        ]
    },
    within: |templates| templates.len() <= 20 && templates.iter().all(PollTemplate::well_formed),
};

/// Every key, in catalog order.
pub static KEYS: [&dyn Spec; 7] = [
    &MAX_SESSIONS,
    &RATE_LIMIT_PER_MINUTE,
    &ACTIONS,
    &BANNER,
    &FEATURES,
    &POLL_TEMPLATES,
    &QUOTAS,
];

/// The catalog's key names, in catalog order.
pub fn names() -> impl Iterator<Item = &'static str> {
    KEYS.iter().map(|spec| spec.name())
}

/// The key named `name`, if the catalog has one.
pub fn find(name: &str) -> Option<&'static dyn Spec> {
    KEYS.iter().copied().find(|spec| spec.name() == name)
}

/// The key `key` names, or why it is not one (with the keys that are).
pub fn spec(key: &ConfigKey) -> Result<&'static dyn Spec, String> {
    find(key.as_str()).ok_or_else(|| {
        format!(
            "unknown config key {:?}; known keys: {}",
            key.as_str(),
            names().collect::<Vec<_>>().join(", ")
        )
    })
}

/// The `{key}` of the config endpoints in the OpenAPI document: the catalog's keys as a string
/// enum, so that clients see which keys exist without a failed request.
#[derive(Debug)]
pub struct KeyName;

impl utoipa::PartialSchema for KeyName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(names()))
            .description(Some("a key of the config catalog"))
            .into()
    }
}

impl utoipa::ToSchema for KeyName {}

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::configs::quotas::Quota;
    use crate::configs::store::{ConfigEntry, ConfigStore};

    fn check(key: &str, value: &Value) -> Result<(), String> {
        spec(&ConfigKey::try_from(key.to_owned())?)?.check(value)
    }

    #[test]
    fn every_default_is_accepted_by_its_own_rule() {
        for spec in KEYS {
            assert_eq!(spec.check(&spec.default_value()), Ok(()), "{}", spec.name());
            assert_ne!(spec.default_value(), Value::Null, "{}", spec.name());
        }
        let names: std::collections::BTreeSet<&str> = names().collect();
        assert_eq!(names.len(), KEYS.len(), "one spec per key");
    }

    #[test]
    fn values_outside_a_rule_are_refused_with_the_rule() {
        assert_eq!(
            check("chat.max_sessions", &json!(4)),
            Err(
                "chat.max_sessions must be an integer from 1 to 3: active chat sessions per user and project; got 4"
                    .to_owned()
            )
        );
        assert!(check("chat.rate_limit_per_minute", &json!(0)).is_err());
        assert!(check("chat.actions", &json!(["ready", "ready"])).is_err());
        assert!(check("chat.actions", &json!(["shout"])).is_err());
        assert!(check("chat.actions", &json!([])).is_err());
        for action in Action::ALL {
            assert!(
                ACTIONS.accepts.contains(action.as_str()),
                "{} names {action:?}",
                ACTIONS.name
            );
        }
        assert!(check("ui.banner", &json!("x".repeat(201))).is_err());
        assert!(check("features", &json!({"a": 1})).is_err());
        let template = |choices: Value| json!([{"id": "p", "question": "q?", "choices": choices}]);
        assert_eq!(check("chat.poll_templates", &template(json!(["a", "b"]))), Ok(()));
        assert!(check("chat.poll_templates", &template(json!(["a", "a"]))).is_err());
        assert!(check("chat.poll_templates", &template(json!(["a", "B"]))).is_err());
        assert!(
            check(
                "chat.poll_templates",
                &json!([{"id": "p", "question": "q", "choices": ["a", "b"], "x": 1}])
            )
            .is_err()
        );
        assert!(check("nope", &json!(1)).is_err_and(|e| e.starts_with("unknown config key")));
    }

    #[test]
    fn quotas_need_every_field_within_its_ceiling_and_the_description_says_each() {
        let mut value = QUOTAS.default_value();
        assert_eq!(QUOTAS.check(&value), Ok(()));
        for quota in Quota::ALL {
            assert!(
                QUOTAS
                    .accepts
                    .contains(&format!("\"{}\": 1-{}", quota.field(), quota.ceiling())),
                "{}",
                QUOTAS.accepts
            );
            value[quota.field()] = json!(quota.ceiling() + 1);
            assert!(QUOTAS.check(&value).is_err(), "{} above its ceiling", quota.field());
            value[quota.field()] = json!(0);
            assert!(QUOTAS.check(&value).is_err(), "{} at 0", quota.field());
            value[quota.field()] = json!(quota.ceiling());
        }
        assert_eq!(QUOTAS.check(&value), Ok(()));
        assert!(QUOTAS.check(&json!({"projects": 5})).is_err(), "a field missing");
        assert!(QUOTAS.platform_only && KEYS.iter().filter(|k| k.platform_only()).count() == 1);
    }

    #[test]
    fn a_reader_serves_the_stored_value_and_the_default_without_one() {
        let store = ConfigStore::default();
        let org = Uuid::nil();
        assert_eq!(MAX_SESSIONS.get(&store, org), 3);
        assert_eq!(ACTIONS.get(&store, org), Action::ALL.to_vec());
        assert_eq!(POLL_TEMPLATES.get(&store, org).len(), 2);
        let entry = |value: Value, version: i64| ConfigEntry {
            value,
            version,
            updated_by: "test".to_owned(),
            updated_at: time::OffsetDateTime::UNIX_EPOCH,
        };
        store.apply(org, MAX_SESSIONS.name, entry(json!(2), 1));
        store.apply(org, ACTIONS.name, entry(json!(["ready"]), 1));
        assert_eq!(MAX_SESSIONS.get(&store, org), 2);
        assert_eq!(ACTIONS.get(&store, org), vec![Action::Ready]);
        // A value the catalog no longer accepts (written by an older release) reads as the default.
        store.apply(org, MAX_SESSIONS.name, entry(json!(9), 2));
        assert_eq!(MAX_SESSIONS.get(&store, org), 3);
    }
}
