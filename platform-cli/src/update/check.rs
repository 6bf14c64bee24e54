//! The rendered values of a component against the chart release they would be given to, the
//! way the test command checks the vendored charts (`scripts/check-upstream-charts`), without a
//! Helm binary: every key the chart would ignore in silence (neither its `values.yaml`
//! declares it nor a template reads it), every value whose kind the chart's default does not
//! have, the merged values against `values.schema.json`, and images from the `docker.io/bitnami`
//! repositories that are gone. Keys under a dependency's name are checked against the
//! dependency, `global` against none.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use super::chart::Chart;

/// What the new release would do with one key of the rendered values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key, dotted (`server.ingress.hosts`).
    pub key: String,
    pub why: String,
}

/// Every problem of `values` (the rendered values file) with `chart`.
pub fn check(chart: &Chart, values: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    keys(chart, values, "", &mut problems);
    let merged = merge(&chart.values, values);
    if let Some(schema) = &chart.schema {
        match jsonschema::validator_for(schema) {
            Ok(validator) => {
                for error in validator.iter_errors(&merged) {
                    let pointer = error.instance_path().to_string();
                    problems.push(Problem {
                        key: dotted(&pointer),
                        why: format!("values.schema.json refuses it: {error}"),
                    });
                }
            }
            Err(e) => problems.push(Problem {
                key: "(values.schema.json)".into(),
                why: format!("the chart's schema does not compile: {e}"),
            }),
        }
    }
    bitnami(&merged, "", &mut problems);
    problems
}

/// What the chart's templates read: each `.Values` path, and the ones read whole (written out
/// with `toYaml` or `tpl`, walked with `range`, opened with `with`, handed to a helper with
/// `include`, or copied with `omit`, `pick`, `deepCopy` or `merge`), whose keys are the
/// template's business. Lenient on purpose: a key a template may read is never refused.
struct Reads {
    paths: BTreeSet<String>,
    whole: BTreeSet<String>,
}

static ACTION: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?s)\{\{-?(.*?)-?\}\}").expect("a valid pattern"));
static DOTTED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)").expect("a valid pattern"));
static INDEXED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"index\s+\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)*)((?:\s+"[^"]+")+)"#).expect("a valid pattern")
});
static WHOLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(toYaml|toJson|toPrettyJson|toRawJson|tpl|range|with|omit|pick|deepCopy|merge|mergeOverwrite|include)\b",
    )
    .expect("a valid pattern")
});

fn reads(chart: &Chart) -> Reads {
    let mut reads = Reads {
        paths: BTreeSet::new(),
        whole: BTreeSet::new(),
    };
    // Templates, and the template strings values.yaml holds (rendered with `tpl`).
    let mut texts: Vec<&str> = chart.templates.iter().map(|(_, t)| t.as_str()).collect();
    strings(&chart.values, &mut texts);
    for text in texts {
        for action in ACTION.captures_iter(text) {
            let action = &action[1];
            let whole = WHOLE.is_match(action);
            let mut found = Vec::new();
            for path in DOTTED.captures_iter(action) {
                found.push(path[1].trim_start_matches('.').to_string());
            }
            for index in INDEXED.captures_iter(action) {
                let base = index[1].trim_start_matches('.').to_string();
                let keys: Vec<&str> = index[2].split('"').filter(|k| !k.trim().is_empty()).collect();
                let tail = keys.join(".");
                found.push(if base.is_empty() {
                    tail
                } else {
                    format!("{base}.{tail}")
                });
            }
            for path in found {
                if whole {
                    reads.whole.insert(path.clone());
                }
                reads.paths.insert(path);
            }
        }
    }
    reads
}

/// Every string in `value` that holds a template action.
fn strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) if s.contains("{{") => out.push(s),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        _ => {}
    }
}

impl Reads {
    /// Whether a template reads `path`, something under it, or a map above it whole.
    fn covers(&self, path: &str) -> bool {
        self.paths.contains(path)
            || self.paths.iter().any(|p| p.starts_with(&format!("{path}.")))
            || self.whole.iter().any(|w| path.starts_with(&format!("{w}.")))
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "a map",
        Value::Array(_) => "a list",
        Value::String(_) => "a string",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::Null => "null",
    }
}

/// Unknown keys and kind clashes of `values` (at `prefix`) against `chart`'s defaults.
fn keys(chart: &Chart, values: &Value, prefix: &str, problems: &mut Vec<Problem>) {
    let reads = reads(chart);
    walk(chart, &reads, &chart.values, values, prefix, "", problems);
}

fn walk(
    chart: &Chart,
    reads: &Reads,
    defaults: &Value,
    values: &Value,
    prefix: &str,
    path: &str,
    problems: &mut Vec<Problem>,
) {
    let Value::Object(map) = values else { return };
    for (key, value) in map {
        let here = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        let shown = if prefix.is_empty() {
            here.clone()
        } else {
            format!("{prefix}.{here}")
        };
        if path.is_empty() && key == "global" {
            continue;
        }
        if chart.conditions.contains(&here) {
            continue;
        }
        if path.is_empty()
            && let Some(dependency) = chart.dependencies.get(key)
        {
            // The keys that switch it on (Chart.yaml `condition`) and the ones the parent
            // declares or reads itself are the parent's; the rest are the dependency's.
            let mut own = value.clone();
            if let Value::Object(map) = &mut own {
                map.retain(|k, _| {
                    let theirs = format!("{key}.{k}");
                    !chart.conditions.contains(&theirs)
                        && defaults.get(key).and_then(|d| d.get(k)).is_none()
                        && !reads.paths.contains(&theirs)
                });
            }
            keys(dependency, &own, &shown, problems);
            continue;
        }
        match defaults.get(key) {
            // Declared with no default, or as an empty placeholder (`{}`, `[]`): the template
            // decides what it takes.
            Some(Value::Null) => {}
            Some(Value::Object(declared)) if declared.is_empty() => {}
            Some(Value::Array(declared)) if declared.is_empty() => {}
            Some(default)
                if !value.is_null() && kind(default) != kind(value) && !(default.is_number() && value.is_number()) =>
            {
                // A list or a string where a map is declared, or the reverse: the template
                // reads it as what it declared.
                if default.is_object() || value.is_object() || default.is_array() || value.is_array() {
                    problems.push(Problem {
                        key: shown,
                        why: format!("{} here, but the chart declares {}", kind(value), kind(default)),
                    });
                }
            }
            Some(default @ Value::Object(_)) => walk(chart, reads, default, value, prefix, &here, problems),
            Some(_) => {}
            None if reads.covers(&here) => {}
            None => problems.push(Problem {
                key: shown,
                why: "neither the chart's values.yaml declares it nor a template reads it: Helm ignores it".into(),
            }),
        }
    }
}

/// Helm's merge of user values over defaults: maps key by key, `null` deletes a default, lists
/// and scalars replace.
pub fn merge(defaults: &Value, values: &Value) -> Value {
    match (defaults, values) {
        (Value::Object(d), Value::Object(v)) => {
            let mut out: Map<String, Value> = d.clone();
            for (key, value) in v {
                if value.is_null() {
                    out.remove(key);
                } else {
                    let merged = match d.get(key) {
                        Some(default) => merge(default, value),
                        None => value.clone(),
                    };
                    out.insert(key.clone(), merged);
                }
            }
            Value::Object(out)
        }
        (_, value) => value.clone(),
    }
}

/// Images from `docker.io/bitnami` (and `bitnamilegacy`), which Bitnami stopped publishing
/// there in September 2025: an image that no longer pulls.
fn bitnami(values: &Value, path: &str, problems: &mut Vec<Problem>) {
    match values {
        Value::Object(map) => {
            let registry = map.get("registry").and_then(Value::as_str).unwrap_or("docker.io");
            if let Some(repository) = map.get("repository").and_then(Value::as_str) {
                let full = if repository.contains('/') && repository.split('/').next().is_some_and(|h| h.contains('.'))
                {
                    repository.to_string()
                } else {
                    format!("{registry}/{repository}")
                };
                if full.starts_with("docker.io/bitnami/") || full.starts_with("docker.io/bitnamilegacy/") {
                    problems.push(Problem {
                        key: if path.is_empty() {
                            "repository".into()
                        } else {
                            format!("{path}.repository")
                        },
                        why: format!("the image {full} is from docker.io/bitnami, which no longer publishes it"),
                    });
                }
            }
            for (key, value) in map {
                let here = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                bitnami(value, &here, problems);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                bitnami(item, &format!("{path}[{i}]"), problems);
            }
        }
        _ => {}
    }
}

/// `/server/ingress/0` → `server.ingress[0]`.
fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        if segment.bytes().all(|b| b.is_ascii_digit()) && !segment.is_empty() {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment.replace("~1", "/").replace("~0", "~"));
        }
    }
    if out.is_empty() { "(the values)".into() } else { out }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn chart(values: Value, templates: &[&str]) -> Chart {
        Chart {
            name: "demo".into(),
            version: "1.0.0".into(),
            values,
            templates: templates
                .iter()
                .map(|t| ("templates/t.yaml".to_string(), (*t).to_string()))
                .collect(),
            ..Chart::default()
        }
    }

    #[test]
    fn a_renamed_key_is_named_and_keys_a_template_reads_are_not() {
        let c = chart(
            json!({ "dexServer": { "enabled": true }, "configs": { "cm": {} }, "extra": { "a": 1 } }),
            &[
                "{{ if .Values.dexServer.enabled }}",
                "{{- toYaml .Values.extra | nindent 2 }}",
                "{{ .Values.undeclared.x }}",
            ],
        );
        let problems = check(
            &c,
            &json!({ "dex": { "enabled": false }, "configs": { "cm": { "url": "x" } }, "extra": { "b": 2 }, "undeclared": { "x": 1 } }),
        );
        assert_eq!(
            problems,
            vec![Problem {
                key: "dex".into(),
                why: "neither the chart's values.yaml declares it nor a template reads it: Helm ignores it".into()
            }]
        );
    }

    #[test]
    fn kinds_schema_and_bitnami_images_are_refused() {
        let mut c = chart(
            json!({ "server": { "replicas": 1 }, "image": { "registry": "ghcr.io", "repository": "acme/x" } }),
            &[],
        );
        c.schema = Some(
            json!({ "type": "object", "properties": { "server": { "type": "object", "properties": { "replicas": { "type": "integer", "minimum": 1 } } } } }),
        );
        let problems = check(
            &c,
            &json!({ "server": "big", "image": { "registry": "docker.io", "repository": "bitnami/kubectl" } }),
        );
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["server", "server", "image.repository"], "{problems:#?}");
        assert!(problems[0].why.contains("a string here, but the chart declares a map"));
        assert!(problems[1].why.starts_with("values.schema.json refuses it"));
        assert!(problems[2].why.contains("docker.io/bitnami/kubectl"));
    }

    #[test]
    fn null_deletes_a_default_and_lists_replace() {
        assert_eq!(
            merge(
                &json!({ "a": 1, "b": [1, 2], "c": { "d": 1 } }),
                &json!({ "a": null, "b": [3], "c": { "e": 2 } })
            ),
            json!({ "b": [3], "c": { "d": 1, "e": 2 } })
        );
    }
}
