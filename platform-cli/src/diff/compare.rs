//! Two environments compared object by object, each difference with its cause.
//!
//! The cause is found by rendering, not by guessing: starting from the first environment, the
//! manifest fields that differ are set to the second environment's values one at a time, and
//! the leaves each step changes are that field's doing. A difference between the committed
//! files that no step produces, or where a committed file is not what the manifest renders,
//! is unexplained: a hand edit, a stale tree, or a bug.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::manifest::Manifest;
use crate::model::{ComponentPins, Environment, Pin};
use crate::render::{EnvironmentRenderer, RenderError};

use super::objects::{ObjectKey, Objects};

/// The leaf path that stands for an object's presence.
pub const PRESENCE: &str = "(object)";

/// One side of a comparison: an environment as the manifest says it, and its files as they are.
#[derive(Debug, Clone)]
pub struct Side<'a> {
    /// The label reports use (`dev`, `prod (live)` ...).
    pub label: String,
    pub manifest: &'a Manifest,
    pub env: &'a Environment,
    /// The files compared (committed, or live), environment-relative.
    pub objects: Objects,
}

/// A manifest field that differs between the two environments (pins as in effect).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
    /// An image or chart version, which `platform promote` carries forward.
    pub pin: bool,
}

/// Why a difference exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// A manifest field differs between the environments, and this is what it renders to.
    ManifestField,
    /// A pin (image, chart version) not promoted yet.
    Pin,
    /// A rendering this version of platform replaced, which one side still holds
    /// ([`super::migration`]): rendering that side again makes it.
    Migration,
    /// Nothing in the manifest accounts for it.
    Unexplained,
}

impl Class {
    pub fn describe(self) -> &'static str {
        match self {
            Class::ManifestField => "explained by a manifest field",
            Class::Pin => "a pin not yet promoted",
            Class::Migration => "a migration one side has not made",
            Class::Unexplained => "unexplained",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub object: ObjectKey,
    /// Leaf path, or [`PRESENCE`] for an object only one side has.
    pub path: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub class: Class,
    /// The fields (by name) that produce it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub from: String,
    pub to: String,
    pub fields: Vec<FieldChange>,
    pub differences: Vec<Difference>,
}

impl Comparison {
    pub fn count(&self, class: Class) -> usize {
        self.differences.iter().filter(|d| d.class == class).count()
    }

    pub fn all_explained(&self) -> bool {
        self.count(Class::Unexplained) == 0
    }
}

/// Compares `a` with `b`, explaining each difference by rendering with `renderer`.
pub fn compare(renderer: &EnvironmentRenderer, a: &Side<'_>, b: &Side<'_>) -> Result<Comparison, RenderError> {
    let rendered_a = render(renderer, a.manifest, a.env)?;
    let rendered_b = render(renderer, b.manifest, b.env)?;
    let fields = field_changes(a.manifest, a.env, b.manifest, b.env);

    // Walk from a to b one field at a time; what each step changes is that field's doing.
    let mut produced_by: BTreeMap<(ObjectKey, String), Vec<String>> = BTreeMap::new();
    let mut current = env_value(a.manifest, a.env);
    let mut before = rendered_a.clone();
    let mut pending: Vec<String> = Vec::new();
    for change in &fields {
        set(&mut current, &change.field, change.to.as_deref());
        pending.push(change.field.clone());
        // An in-between value that is no environment waits for the next field.
        let Ok(env) = serde_json::from_value::<Environment>(current.clone()) else {
            continue;
        };
        let after = render(renderer, a.manifest, &env)?;
        for leaf in changed_leaves(&before, &after) {
            produced_by.entry(leaf).or_default().extend(pending.iter().cloned());
        }
        pending.clear();
        before = after;
    }

    let pins: BTreeSet<&str> = fields.iter().filter(|f| f.pin).map(|f| f.field.as_str()).collect();
    let differences = leaf_differences(&a.objects, &b.objects)
        .into_iter()
        .map(|(object, path, from, to)| {
            let as_rendered = leaf(&rendered_a, &object, &path) == from && leaf(&rendered_b, &object, &path) == to;
            let fields = produced_by
                .get(&(object.clone(), path.clone()))
                .filter(|_| as_rendered)
                .cloned()
                .unwrap_or_default();
            let class = if fields.is_empty() {
                Class::Unexplained
            } else if fields.iter().all(|f| pins.contains(f.as_str())) {
                Class::Pin
            } else {
                Class::ManifestField
            };
            Difference {
                object,
                path,
                from,
                to,
                class,
                fields,
            }
        })
        .collect::<Vec<_>>();
    let differences = explain_migrations(differences, &a.objects, &b.objects);
    Ok(Comparison {
        from: a.label.clone(),
        to: b.label.clone(),
        fields,
        differences,
    })
}

/// What the manifest leaves unexplained in a component a pending migration changed is that
/// migration's doing.
fn explain_migrations(mut differences: Vec<Difference>, a: &Objects, b: &Objects) -> Vec<Difference> {
    for m in super::migration::between(a, b) {
        for d in differences
            .iter_mut()
            .filter(|d| d.class == Class::Unexplained && m.components.contains(&d.object.component.as_str()))
        {
            d.class = Class::Migration;
            d.fields = vec![m.name.to_string()];
        }
    }
    differences
}

/// The objects of `env` as the manifest renders it, environment-relative.
pub fn render(renderer: &EnvironmentRenderer, manifest: &Manifest, env: &Environment) -> Result<Objects, RenderError> {
    let files = renderer.render(manifest, env)?;
    let relative: Vec<(String, &[u8])> = files
        .iter()
        .filter_map(|(path, bytes)| Some((super::tree::relative(path, &env.name)?, bytes.as_slice())))
        .collect();
    Ok(Objects::from_files(relative.iter().map(|(p, b)| (p.as_str(), *b))))
}

/// The environment as a JSON value with its pins in effect written out, so a pin inherited
/// from the top level and one set on the environment compare alike.
fn env_value(manifest: &Manifest, env: &Environment) -> Value {
    let pins = crate::manifest::pins::of(manifest, env);
    let mut env = env.clone();
    env.app.image = Some(pins.app_image);
    env.app.chart_version = Some(pins.app_chart_version);
    env.components = ComponentPins(
        pins.components
            .into_iter()
            .map(|(c, version)| (c, Pin { chart_version: version }))
            .collect(),
    );
    serde_json::to_value(env).unwrap_or(Value::Null)
}

/// Fields are objects' leaves; a list is one field (its items mean nothing alone).
fn env_fields(value: &Value) -> Vec<(String, String)> {
    fn walk(path: &str, value: &Value, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    walk(
                        &if path.is_empty() {
                            k.clone()
                        } else {
                            format!("{path}.{k}")
                        },
                        v,
                        out,
                    );
                }
            }
            Value::Null => {}
            leaf => out.push((path.to_string(), leaf.to_string())),
        }
    }
    let mut out = Vec::new();
    walk("", value, &mut out);
    out
}

fn field_changes(ma: &Manifest, a: &Environment, mb: &Manifest, b: &Environment) -> Vec<FieldChange> {
    let fa = env_fields(&env_value(ma, a));
    let fb: BTreeMap<String, String> = env_fields(&env_value(mb, b)).into_iter().collect();
    let fa_map: BTreeMap<&str, &str> = fa.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    // In the manifest's order: a's fields, then those only b has.
    let order = fa
        .iter()
        .map(|(k, _)| k.clone())
        .chain(fb.keys().filter(|k| !fa_map.contains_key(k.as_str())).cloned());
    order
        .filter_map(|field| {
            let from = fa_map.get(field.as_str()).map(|v| (*v).to_string());
            let to = fb.get(&field).cloned();
            (from != to).then(|| FieldChange {
                pin: field == "app.image" || field == "app.chartVersion" || field.starts_with("components."),
                field,
                from,
                to,
            })
        })
        .collect()
}

/// Sets (or, with `None`, removes) the field at dotted `path`.
fn set(value: &mut Value, path: &str, to: Option<&str>) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let Some(last) = parts.pop() else { return };
    let mut node = value;
    for part in parts {
        if !node[part].is_object() {
            node[part] = Value::Object(serde_json::Map::new());
        }
        node = &mut node[part];
    }
    let Some(map) = node.as_object_mut() else { return };
    match to {
        Some(text) => {
            map.insert(
                last.to_string(),
                serde_json::from_str(text).unwrap_or(Value::String(text.into())),
            );
        }
        None => {
            map.remove(last);
        }
    }
}

fn leaf(objects: &Objects, key: &ObjectKey, path: &str) -> Option<String> {
    let leaves = objects.0.get(key)?;
    if path == PRESENCE {
        Some("present".into())
    } else {
        leaves.get(path).cloned()
    }
}

/// Every leaf that differs between `a` and `b`, an object only one side has counted once.
pub fn leaf_differences(a: &Objects, b: &Objects) -> Vec<(ObjectKey, String, Option<String>, Option<String>)> {
    let mut out = Vec::new();
    let keys: BTreeSet<&ObjectKey> = a.0.keys().chain(b.0.keys()).collect();
    for key in keys {
        match (a.0.get(key), b.0.get(key)) {
            (Some(la), Some(lb)) => {
                let paths: BTreeSet<&String> = la.keys().chain(lb.keys()).collect();
                for path in paths {
                    let (va, vb) = (la.get(path), lb.get(path));
                    if va != vb {
                        out.push((key.clone(), path.clone(), va.cloned(), vb.cloned()));
                    }
                }
            }
            (va, vb) => out.push((
                key.clone(),
                PRESENCE.to_string(),
                va.map(|_| "present".to_string()),
                vb.map(|_| "present".to_string()),
            )),
        }
    }
    out
}

fn changed_leaves(a: &Objects, b: &Objects) -> Vec<(ObjectKey, String)> {
    leaf_differences(a, b).into_iter().map(|(k, p, _, _)| (k, p)).collect()
}
