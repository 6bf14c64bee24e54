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
    tera.render(name, &tera::Context::from_serialize(view)?)
}

/// A string as a YAML scalar a person would write: plain where YAML reads it back as the same
/// string (yaml_serde quotes `yes`, `1.30` and the like), double-quoted where it spans lines.
fn yaml(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let Value::String(s) = value else {
        return Ok(Value::String(value.to_string()));
    };
    if s.chars().any(char::is_control) {
        return Ok(Value::String(serde_json::to_string(s)?));
    }
    let text = yaml_serde::to_string(s).map_err(|e| tera::Error::msg(e.to_string()))?;
    Ok(Value::String(text.trim_end_matches('\n').to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for s in ["yes", "1.30", "null", "on", "a: b", "#x", "a\nb", "- x", "'q'"] {
            let out = quoted(s);
            let back: String = yaml_serde::from_str(&format!("k: {out}"))
                .map(|m: std::collections::BTreeMap<String, String>| m["k"].clone())
                .unwrap_or_else(|e| panic!("{s:?} as {out:?}: {e}"));
            assert_eq!(back, s, "{s:?} written as {out:?}");
            assert!(!out.contains('\n'), "{s:?} written over lines: {out:?}");
        }
    }
}
