//! Shape checks: unknown keys, missing fields, wrong types and enum values, all at once.
//!
//! serde stops at the first error; validating the parsed document against the JSON Schema
//! generated from the model (the same one `platform schema` prints) reports every one.

use std::sync::LazyLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use super::diagnostic::{Code, Diagnostic};
use super::source::{Position, Source, SpanIndex, escape};
use crate::model::suggest::closest;

/// The manifest's JSON Schema, generated from the Rust types.
pub fn schema() -> &'static Value {
    static SCHEMA: LazyLock<Value> = LazyLock::new(|| {
        let mut schema = schemars::schema_for!(crate::model::Manifest).to_value();
        if let Some(object) = schema.as_object_mut() {
            object.insert(
                "$id".into(),
                Value::String("https://platform.dev/schemas/platform.schema.json".into()),
            );
        }
        schema
    });
    &SCHEMA
}

fn validator() -> &'static Validator {
    static VALIDATOR: LazyLock<Validator> = LazyLock::new(|| {
        // The schema is generated from our own types; failing to compile it is a bug, caught by tests.
        #[allow(clippy::expect_used)]
        jsonschema::validator_for(schema()).expect("the generated manifest schema compiles")
    });
    &VALIDATOR
}

/// Every shape error in `document`. Bounds and patterns the schema carries for editors (the
/// same ones `rules` enforces) are left to `rules`, which says why and how to fix them; a number
/// no `u32` holds stays a shape error.
pub fn check(document: &Value, source: &Source, spans: &SpanIndex) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for error in validator().iter_errors(document) {
        if is_bound_for_rules(&error) {
            continue;
        }
        describe(&error, document, source, spans, &mut out);
    }
    out
}

fn is_bound_for_rules(error: &ValidationError<'_>) -> bool {
    let representable = error
        .instance()
        .as_f64()
        .is_some_and(|n| (0.0..=f64::from(u32::MAX)).contains(&n));
    match error.kind() {
        // Patterns, and the reserved environment names (`not`).
        ValidationErrorKind::Pattern { .. } | ValidationErrorKind::Not { .. } => true,
        ValidationErrorKind::Minimum { .. } | ValidationErrorKind::Maximum { .. } => representable,
        _ => false,
    }
}

fn describe(
    error: &ValidationError<'_>,
    document: &Value,
    source: &Source,
    spans: &SpanIndex,
    out: &mut Vec<Diagnostic>,
) {
    let pointer = error.instance_path().as_str().to_string();
    let found = document.pointer(&pointer);
    let at = |p: &str| spans.nearest(p).label();
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let allowed = allowed_keys(&pointer);
            for key in unexpected {
                let child = format!("{pointer}/{}", escape(key));
                let position = spans.get(&child).and_then(|s| s.key).unwrap_or_else(|| at(&child));
                let hint = match closest(key, allowed.iter().map(String::as_str)) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => "remove it, or check the indentation: it may belong to another mapping".into(),
                };
                out.push(Diagnostic::at(Code::UnknownField, source, position, &child).build(
                    format!("unknown field `{key}`"),
                    format!("one of: {}", allowed.join(", ")),
                    hint,
                ));
            }
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let child = format!("{pointer}/{}", escape(name));
            out.push(Diagnostic::at(Code::MissingField, source, at(&pointer), &child).build(
                format!("missing field `{name}`"),
                describe_field(&child),
                format!("add `{name}:` here"),
            ));
        }
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => article(&t.to_string()),
                TypeKind::Multiple(set) => set
                    .iter()
                    .map(|t| article(&t.to_string()))
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            out.push(Diagnostic::at(Code::WrongType, source, at(&pointer), &pointer).build(
                format!("expected {expected}, found {}", describe_value(found)),
                expected,
                "check the value's type; quote it to make it a string",
            ));
        }
        ValidationErrorKind::Enum { options } => {
            let options: Vec<String> = options
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            out.push(enum_error(&options, found, source, at(&pointer), &pointer));
        }
        ValidationErrorKind::OneOfNotValid { context } if constants(context).is_some() => {
            // Documented enum variants become `oneOf [{const}, …]`: report them as an enum.
            let options = constants(context).unwrap_or_default();
            out.push(enum_error(&options, found, source, at(&pointer), &pointer));
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            // `Option<T>` is `anyOf [T, null]`: explain the branch the value was meant for.
            let branch = context
                .iter()
                .filter(|errors| !errors.iter().all(is_null_type_error))
                .min_by_key(|errors| errors.len());
            match branch {
                Some(errors) => errors.iter().for_each(|e| describe(e, document, source, spans, out)),
                None => out.push(generic(error, source, at(&pointer), &pointer)),
            }
        }
        _ => out.push(generic(error, source, at(&pointer), &pointer)),
    }
}

fn enum_error(
    options: &[String],
    found: Option<&Value>,
    source: &Source,
    position: Position,
    pointer: &str,
) -> Diagnostic {
    let given = found.and_then(Value::as_str).unwrap_or_default();
    let hint = match closest(given, options.iter().map(String::as_str)) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!("use one of: {}", options.join(", ")),
    };
    Diagnostic::at(Code::InvalidValue, source, position, pointer).build(
        format!("unsupported value {}", describe_value(found)),
        format!("one of: {}", options.join(", ")),
        hint,
    )
}

/// The allowed constants when every `oneOf` branch failed only on its `const`.
fn constants(context: &[Vec<ValidationError<'static>>]) -> Option<Vec<String>> {
    context
        .iter()
        .map(|errors| match errors.as_slice() {
            [single] => match single.kind() {
                ValidationErrorKind::Constant { expected_value } => expected_value.as_str().map(str::to_string),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn generic(error: &ValidationError<'_>, source: &Source, position: Position, pointer: &str) -> Diagnostic {
    Diagnostic::at(Code::InvalidValue, source, position, pointer).build(
        error.to_string(),
        "a value the schema allows",
        "run `platform schema` to see what this field accepts",
    )
}

fn is_null_type_error(error: &ValidationError<'_>) -> bool {
    matches!(error.kind(), ValidationErrorKind::Type { kind: TypeKind::Single(t) } if t.to_string() == "null")
}

fn article(type_name: &str) -> String {
    match type_name {
        "object" => "a mapping".into(),
        "array" => "a list".into(),
        "integer" => "a whole number".into(),
        "number" => "a number".into(),
        "boolean" => "true or false".into(),
        "null" => "nothing (null)".into(),
        other => format!("a {other}"),
    }
}

fn describe_value(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "nothing".into(),
        Some(Value::Bool(b)) => format!("`{b}`"),
        Some(Value::Number(n)) => format!("`{n}`"),
        Some(Value::String(s)) => format!("\"{s}\""),
        Some(Value::Array(_)) => "a list".into(),
        Some(Value::Object(_)) => "a mapping".into(),
    }
}

/// The schema node describing the value at `pointer` (following `$ref`, lists and `anyOf`).
fn schema_at(pointer: &str) -> Option<&'static Value> {
    let root = schema();
    let mut node = deref(root, root)?;
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        let next = if segment.bytes().all(|b| b.is_ascii_digit()) && node.get("items").is_some() {
            node.get("items")?
        } else {
            node.get("properties")?.get(&segment)?
        };
        node = deref(root, next)?;
    }
    Some(node)
}

fn deref<'a>(root: &'a Value, mut node: &'a Value) -> Option<&'a Value> {
    loop {
        if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            node = root.pointer(reference.trim_start_matches('#'))?;
        } else if let Some(branches) = node.get("anyOf").and_then(Value::as_array) {
            node = branches
                .iter()
                .find(|b| b.get("type").and_then(Value::as_str) != Some("null"))?;
        } else {
            return Some(node);
        }
    }
}

fn allowed_keys(pointer: &str) -> Vec<String> {
    schema_at(pointer)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

fn describe_field(pointer: &str) -> String {
    schema_at(pointer)
        .and_then(|s| s.get("description"))
        .and_then(Value::as_str)
        .map_or_else(|| "a value".to_string(), |d| lower_first(d.trim_end_matches('.')))
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or_else(String::new, |first| first.to_lowercase().chain(chars).collect())
}
