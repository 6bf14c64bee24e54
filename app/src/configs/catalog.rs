//! The config keys an org has. A fixed catalog keeps values checkable and the
//! `app_config_version{key}` metric's cardinality bounded.

use serde_json::{Value, json};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use super::quotas;
use crate::domain::ConfigKey;

/// The canned chat actions: the only things a chat carries.
pub const CHAT_ACTIONS: [&str; 7] = [
    "thumbs_up",
    "thumbs_down",
    "ready",
    "blocked",
    "review",
    "deployed",
    "tests_green",
];

/// Every key, with its default and a description of what it accepts.
pub const KEYS: [(&str, &str); 7] = [
    (
        "chat.max_sessions",
        "an integer from 1 to 3: active chat sessions per user and project",
    ),
    (
        "chat.rate_limit_per_minute",
        "an integer from 1 to 600: chat actions a user may send per minute",
    ),
    (
        "chat.actions",
        "a non-empty array of distinct canned actions (thumbs_up, thumbs_down, ready, blocked, review, deployed, tests_green)",
    ),
    (
        "ui.banner",
        "a string of at most 200 characters shown on the org's pages",
    ),
    (
        "features",
        "an object whose values are booleans (feature flags), at most 32 of them",
    ),
    (
        "chat.poll_templates",
        "an array of at most 20 poll templates {\"id\": a lowercase slug, \"question\": 1-200 characters, \"choices\": 2-6 distinct lowercase slugs}",
    ),
    (
        quotas::KEY,
        "an object {\"projects\": 1-500, \"guests\": 1-10000, \"invites\": 1-1000, \"polls_per_project\": 1-500} (set by the platform admin only)",
    ),
];

/// Keys only the platform admin may change: limits a tenant must not raise for itself.
pub fn platform_only(key: &ConfigKey) -> bool {
    key.as_str() == quotas::KEY
}

/// The catalog's key names, in catalog order.
pub fn names() -> impl Iterator<Item = &'static str> {
    KEYS.iter().map(|(key, _)| *key)
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

/// The configs a new org starts with (the saga's "defaults applied" step).
pub fn defaults() -> Vec<(&'static str, Value)> {
    vec![
        ("chat.max_sessions", json!(3)),
        ("chat.rate_limit_per_minute", json!(60)),
        ("chat.actions", json!(CHAT_ACTIONS)),
        ("ui.banner", json!("")),
        ("features", json!({})),
        (
            "chat.poll_templates",
            json!([
                {"id": "ship-it", "question": "Ship it today?", "choices": ["yes", "no", "later"]},
                {"id": "sprint", "question": "How did the sprint go?", "choices": ["great", "ok", "rough"]},
            ]),
        ),
        (quotas::KEY, quotas::defaults()),
    ]
}

/// A lowercase slug: the shape of poll template ids and choices.
fn slug(s: &str) -> bool {
    (1..=40).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn poll_template(template: &Value) -> bool {
    let Some(fields) = template.as_object() else {
        return false;
    };
    let all = fields.get("choices").and_then(Value::as_array);
    let choices: Vec<&str> = all.into_iter().flatten().filter_map(Value::as_str).collect();
    let distinct = choices.iter().enumerate().all(|(i, c)| !choices[..i].contains(c));
    fields.len() == 3
        && fields.get("id").and_then(Value::as_str).is_some_and(slug)
        && fields
            .get("question")
            .and_then(Value::as_str)
            .is_some_and(|q| (1..=200).contains(&q.chars().count()))
        && (2..=6).contains(&choices.len())
        && all.is_some_and(|a| a.len() == choices.len())
        && choices.iter().all(|c| slug(c))
        && distinct
}

/// What `key` accepts, or why it is not a key of the catalog (with the keys that are).
pub fn accepts(key: &ConfigKey) -> Result<&'static str, String> {
    KEYS.iter()
        .find(|(k, _)| *k == key.as_str())
        .map(|(_, accepts)| *accepts)
        .ok_or_else(|| {
            let known: Vec<&str> = names().collect();
            format!(
                "unknown config key {:?}; known keys: {}",
                key.as_str(),
                known.join(", ")
            )
        })
}

/// Why a value does not fit its key, with what would.
pub fn check(key: &ConfigKey, value: &Value) -> Result<(), String> {
    let wanted = accepts(key)?;
    let ok = match key.as_str() {
        "chat.max_sessions" => value.as_i64().is_some_and(|n| (1..=3).contains(&n)),
        "chat.rate_limit_per_minute" => value.as_i64().is_some_and(|n| (1..=600).contains(&n)),
        "chat.actions" => value.as_array().is_some_and(|items| {
            let mut seen = Vec::new();
            !items.is_empty()
                && items.iter().all(|item| {
                    item.as_str().is_some_and(|a| {
                        CHAT_ACTIONS.contains(&a) && !seen.contains(&a) && {
                            seen.push(a);
                            true
                        }
                    })
                })
        }),
        "ui.banner" => value.as_str().is_some_and(|s| s.chars().count() <= 200),
        "features" => value
            .as_object()
            .is_some_and(|m| m.len() <= 32 && m.values().all(Value::is_boolean)),
        "chat.poll_templates" => value
            .as_array()
            .is_some_and(|all| all.len() <= 20 && all.iter().all(poll_template)),
        quotas::KEY => quotas::valid(value),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{key} must be {wanted}; got {value}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> ConfigKey {
        ConfigKey::try_from(k.to_owned()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn every_default_is_accepted_by_its_own_rule() {
        for (k, v) in defaults() {
            assert_eq!(check(&key(k), &v), Ok(()), "{k}");
        }
        assert_eq!(defaults().len(), KEYS.len());
    }

    #[test]
    fn values_outside_a_rule_are_refused_with_the_rule() {
        assert_eq!(
            check(&key("chat.max_sessions"), &json!(4)),
            Err(
                "chat.max_sessions must be an integer from 1 to 3: active chat sessions per user and project; got 4"
                    .to_owned()
            )
        );
        assert!(check(&key("chat.actions"), &json!(["ready", "ready"])).is_err());
        assert!(check(&key("chat.actions"), &json!(["shout"])).is_err());
        assert!(check(&key("features"), &json!({"a": 1})).is_err());
        assert!(check(&key("nope"), &json!(1)).is_err_and(|e| e.starts_with("unknown config key")));
    }

    #[test]
    fn quotas_need_every_field_within_its_ceiling_and_the_description_says_each() {
        let quotas = key(quotas::KEY);
        let mut value = quotas::defaults();
        assert_eq!(check(&quotas, &value), Ok(()));
        let (_, described) = KEYS
            .iter()
            .find(|(k, _)| *k == quotas::KEY)
            .copied()
            .unwrap_or_default();
        for quota in quotas::Quota::ALL {
            assert!(
                described.contains(&format!("\"{}\": 1-{}", quota.field(), quota.ceiling())),
                "{described}"
            );
            value[quota.field()] = json!(quota.ceiling() + 1);
            assert!(check(&quotas, &value).is_err(), "{} above its ceiling", quota.field());
            value[quota.field()] = json!(0);
            assert!(check(&quotas, &value).is_err(), "{} at 0", quota.field());
            value[quota.field()] = json!(quota.ceiling());
        }
        assert_eq!(check(&quotas, &value), Ok(()));
        assert!(check(&quotas, &json!({"projects": 5})).is_err(), "a field missing");
        assert!(platform_only(&quotas) && !platform_only(&key("ui.banner")));
    }
}
