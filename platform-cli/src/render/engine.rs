//! The Tera engine: embedded templates, strict (an undefined variable is an error), no
//! HTML escaping, and filters that quote values correctly for each target language.

use std::collections::HashMap;
use std::sync::OnceLock;

use tera::{Tera, Value};

use super::RenderError;
use super::embedded::TEMPLATES;

/// The engine, built once per process: parsing every embedded template is most of a render's
/// work, and a process that renders many times (`diff`, the tests) would otherwise repeat it.
pub fn engine() -> Result<&'static Tera, RenderError> {
    static ENGINE: OnceLock<Tera> = OnceLock::new();
    if let Some(tera) = ENGINE.get() {
        return Ok(tera);
    }
    let tera = build()?;
    Ok(ENGINE.get_or_init(|| tera))
}

fn build() -> Result<Tera, RenderError> {
    let mut tera = Tera::default();
    let mut sources = Vec::new();
    collect(&TEMPLATES, &mut sources)?;
    tera.add_raw_templates(sources).map_err(RenderError::template)?;
    tera.autoescape_on(vec![]);
    tera.register_filter("hcl", hcl);
    tera.register_filter("yaml", yaml);
    tera.register_function("terraform_provider", terraform_provider);
    Ok(tera)
}

fn collect(dir: &'static include_dir::Dir<'static>, out: &mut Vec<(String, &'static str)>) -> Result<(), RenderError> {
    for file in dir.files() {
        let name = file.path().display().to_string();
        let text = file.contents_utf8().ok_or_else(|| RenderError::NotUtf8(name.clone()))?;
        out.push((name, text));
    }
    for sub in dir.dirs() {
        collect(sub, out)?;
    }
    Ok(())
}

/// A value as an HCL literal: strings quoted, with `${` and `%{` escaped so no interpolation
/// sneaks in from the manifest.
fn hcl(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let text = match value {
        Value::String(s) => serde_json::to_string(s)?.replace("${", "$${").replace("%{", "%%{"),
        Value::Null => "null".into(),
        other => other.to_string(),
    };
    Ok(Value::String(text))
}

/// A value as a YAML scalar: a JSON-quoted string (valid YAML, never re-typed as a number,
/// boolean or null).
fn yaml(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    Ok(Value::String(match value {
        Value::String(s) => serde_json::to_string(s)?,
        other => other.to_string(),
    }))
}

/// `terraform_provider(name="aws")`: the provider's registry address and version constraint
/// from [`crate::model::terraform::PROVIDERS`], so every root pins it alike.
fn terraform_provider(args: &HashMap<String, Value>) -> tera::Result<Value> {
    let name = args
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| tera::Error::msg("terraform_provider takes name=\"<provider>\""))?;
    let pin = crate::model::terraform::provider(name).ok_or_else(|| {
        tera::Error::msg(format!(
            "no pin for the Terraform provider {name:?} in model::terraform"
        ))
    })?;
    Ok(serde_json::json!({ "source": pin.source, "version": pin.version }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hcl_filter_escapes_interpolation() {
        let out = hcl(&Value::String("a ${b} %{c} \"d\"".into()), &HashMap::new()).expect("filter");
        assert_eq!(out, Value::String(r#""a $${b} %%{c} \"d\"""#.into()));
    }

    #[test]
    fn yaml_filter_quotes_strings_that_look_like_other_types() {
        for s in ["yes", "1.30", "null", "on"] {
            let out = yaml(&Value::String(s.into()), &HashMap::new()).expect("filter");
            assert_eq!(out, Value::String(format!("\"{s}\"")));
        }
    }

    #[test]
    fn undefined_variables_are_errors_in_the_engine_every_render_uses() {
        let mut tera = build().expect("the embedded templates load");
        tera.add_raw_template("t", "{{ missing | yaml }}")
            .expect("template parses");
        let error = tera.render("t", &tera::Context::new()).expect_err("strict");
        assert!(format!("{error:?}").contains("missing"), "{error:?}");
        // And the embedded templates themselves: none renders from an empty context.
        let names: Vec<String> = tera.get_template_names().map(str::to_owned).collect();
        for name in names
            .iter()
            .filter(|n| !n.starts_with('_') && !n.contains("/_") && *n != "t")
        {
            assert!(
                tera.render(name, &tera::Context::new()).is_err(),
                "{name} renders without the values it is given"
            );
        }
    }
}
