//! The files `platform init` writes besides the rendered tree, as embedded Tera templates:
//! strict (an undefined variable is an error), no HTML escaping.

use std::collections::HashMap;

use serde::Serialize;
use tera::{Tera, Value};

const TEMPLATES: [(&str, &str); 3] = [
    ("platform.yaml", include_str!("templates/platform.yaml.tera")),
    ("README.md", include_str!("templates/README.md.tera")),
    ("gitignore", include_str!("templates/gitignore.tera")),
];

pub fn render(name: &str, view: &impl Serialize) -> Result<String, tera::Error> {
    let mut tera = Tera::default();
    tera.add_raw_templates(TEMPLATES)?;
    tera.autoescape_on(vec![]);
    tera.register_filter("yaml", yaml);
    tera.register_filter("comment", comment);
    tera.render(name, &tera::Context::from_serialize(view)?)
}

/// A string as a YAML scalar a person would write: plain where YAML reads it back as the same
/// string (yaml_serde quotes `yes`, `1.30` and the like), double-quoted with escapes where it
/// holds a line break (YAML's parsers also break lines at U+2028 and U+2029) or a character
/// YAML does not allow unescaped.
fn yaml(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let Value::String(s) = value else {
        return Ok(Value::String(value.to_string()));
    };
    if s.chars().any(|c| c.is_control() || needs_escape(c)) {
        // JSON's string syntax is YAML's double-quoted one, but for what JSON leaves raw.
        return Ok(Value::String(escaped(&serde_json::to_string(s)?, needs_escape)));
    }
    let text = yaml_serde::to_string(s).map_err(|e| tera::Error::msg(e.to_string()))?;
    Ok(Value::String(text.trim_end_matches('\n').to_string()))
}

/// A string inside a YAML comment: a line break would end the comment, so it and every other
/// character YAML would not read there is written as its escape (`\u2028`).
fn comment(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Ok(Value::String(escaped(&text, |c| c.is_control() || needs_escape(c))))
}

/// `text` with each character `escape` picks written as its `\uXXXX` escape (all such are in
/// the Basic Multilingual Plane).
fn escaped(text: &str, escape: impl Fn(char) -> bool) -> String {
    text.chars().fold(String::new(), |mut out, c| {
        if escape(c) {
            out.push_str(&format!("\\u{:04X}", u32::from(c)));
        } else {
            out.push(c);
        }
        out
    })
}

/// What YAML reads as a line break though JSON does not escape it, or may not appear unescaped
/// in a YAML document (outside YAML's printable set): DEL, the C1 controls, U+FFFE and U+FFFF.
fn needs_escape(c: char) -> bool {
    matches!(
        c,
        '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{fffe}' | '\u{ffff}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_holds_no_line_break() {
        let out = comment(&Value::String("a\nb\u{2028}c\u{85}d".into()), &HashMap::new()).expect("filter");
        assert_eq!(out, Value::String("a\\u000Ab\\u2028c\\u0085d".into()));
    }

    fn quoted(s: &str) -> String {
        match yaml(&Value::String(s.into()), &HashMap::new()).expect("filter") {
            Value::String(out) => out,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn plain_where_yaml_reads_it_back_unchanged_quoted_elsewhere() {
        assert_eq!(quoted("shop"), "shop");
        assert_eq!(
            quoted("https://github.com/acme/gitops.git"),
            "https://github.com/acme/gitops.git"
        );
        for s in [
            "yes",
            "1.30",
            "null",
            "on",
            "a: b",
            "#x",
            "a\nb",
            "- x",
            "'q'",
            "a\u{2028}b'",
            "p\u{2029}q",
            "\u{85}x",
            "d\u{7f}",
            "\u{fffe}",
        ] {
            let out = quoted(s);
            let back: String = yaml_serde::from_str(&format!("k: {out}"))
                .map(|m: std::collections::BTreeMap<String, String>| m["k"].clone())
                .unwrap_or_else(|e| panic!("{s:?} as {out:?}: {e}"));
            assert_eq!(back, s, "{s:?} written as {out:?}");
            assert!(!out.contains('\n'), "{s:?} written over lines: {out:?}");
        }
    }
}
