//! A comparison as people read it: plain text for a terminal, Markdown for a pull request
//! (bounded in size, large components summarised), JSON for scripts. Secret values never
//! appear: they were digests from the start, and are shown as "(secret value)".

use std::collections::BTreeMap;
use std::fmt::Write;

use super::compare::{Class, Comparison, Difference, PRESENCE};
use super::live::Drift;
use super::objects::{ObjectKey, shown};

/// A value, shortened for a line of a report.
fn value(v: Option<&String>) -> String {
    let Some(v) = v else { return "(absent)".into() };
    let v = shown(v);
    if v.chars().count() > 80 {
        format!("{}…", v.chars().take(79).collect::<String>())
    } else {
        v.to_string()
    }
}

/// Both values of a difference, shortened; two long values that share a start are shown from
/// a little before where they part.
fn pair(from: Option<&String>, to: Option<&String>) -> (String, String) {
    if let (Some(a), Some(b)) = (from.map(|v| shown(v)), to.map(|v| shown(v)))
        && (a.chars().count() > 80 || b.chars().count() > 80)
    {
        let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
        if common > 20 {
            let skip = common - 20;
            let tail = |s: &str| format!("…{}", s.chars().skip(skip).collect::<String>());
            return (value(Some(&tail(a))), value(Some(&tail(b))));
        }
    }
    (value(from), value(to))
}

fn cause(d: &Difference) -> String {
    match d.class {
        Class::Unexplained => "unexplained".into(),
        Class::Pin => format!("pin {}", d.fields.join(", ")),
        Class::ManifestField => d.fields.join(", "),
        Class::Migration => format!("migration: {}", d.fields.join(", ")),
    }
}

/// Differences by component, then object, in order.
fn grouped(c: &Comparison) -> BTreeMap<&str, BTreeMap<&ObjectKey, Vec<&Difference>>> {
    let mut groups: BTreeMap<&str, BTreeMap<&ObjectKey, Vec<&Difference>>> = BTreeMap::new();
    for d in &c.differences {
        groups
            .entry(d.object.component.as_str())
            .or_default()
            .entry(&d.object)
            .or_default()
            .push(d);
    }
    groups
}

/// How many differences there are, and one line per class with how many it accounts for (a
/// migration's only when there is one).
pub fn summary(c: &Comparison) -> (String, Vec<String>) {
    let n = c.differences.len();
    (
        format!(
            "{n} difference{} between {} and {}",
            if n == 1 { "" } else { "s" },
            c.from,
            c.to
        ),
        [
            Some(format!(
                "{} explained by manifest fields",
                c.count(Class::ManifestField)
            )),
            Some(format!("{} pins not yet promoted", c.count(Class::Pin))),
            (c.count(Class::Migration) > 0)
                .then(|| format!("{} from a migration one side has not made", c.count(Class::Migration))),
            Some(format!("{} unexplained", c.count(Class::Unexplained))),
        ]
        .into_iter()
        .flatten()
        .collect(),
    )
}

fn presence_line(d: &Difference, c: &Comparison) -> String {
    if d.to.is_some() {
        format!("only in {}", c.to)
    } else {
        format!("only in {}", c.from)
    }
}

pub fn text(c: &Comparison) -> String {
    let mut out = String::new();
    let (fields, pins): (Vec<_>, Vec<_>) = c.fields.iter().partition(|f| !f.pin);
    for (title, list) in [("manifest fields that differ", fields), ("pins not yet promoted", pins)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{title}:");
        for f in list {
            let _ = writeln!(
                out,
                "  {}: {} → {}",
                f.field,
                value(f.from.as_ref()),
                value(f.to.as_ref())
            );
        }
    }
    for (component, objects) in grouped(c) {
        let _ = writeln!(out, "\n{component}");
        for (object, diffs) in objects {
            let _ = writeln!(out, "  {object}");
            for d in diffs {
                if d.path == PRESENCE {
                    let _ = writeln!(out, "    {}  [{}]", presence_line(d, c), cause(d));
                } else {
                    let (from, to) = pair(d.from.as_ref(), d.to.as_ref());
                    let _ = writeln!(out, "    {}: {from} → {to}  [{}]", d.path, cause(d));
                }
            }
        }
    }
    let (total, classes) = summary(c);
    let _ = writeln!(out, "\n{total}:");
    for line in classes {
        let _ = writeln!(out, "  {line}");
    }
    out
}

/// A value as JSON reports carry it: secrets shown as "(secret value)".
fn shown_value(v: &Option<String>) -> Option<String> {
    v.as_deref().map(|v| shown(v).to_string())
}

pub fn json(c: &Comparison) -> String {
    let differences: Vec<serde_json::Value> = c
        .differences
        .iter()
        .map(|d| {
            serde_json::json!({
                "object": d.object,
                "path": d.path,
                "from": shown_value(&d.from),
                "to": shown_value(&d.to),
                "class": d.class,
                "fields": d.fields,
            })
        })
        .collect();
    let report = serde_json::json!({
        "from": c.from,
        "to": c.to,
        "summary": {
            "manifestField": c.count(Class::ManifestField),
            "pin": c.count(Class::Pin),
            "migration": c.count(Class::Migration),
            "unexplained": c.count(Class::Unexplained),
        },
        "fields": c.fields,
        "differences": differences,
    });
    serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
}

/// Markdown cell text: no line breaks or pipes.
fn cell(s: &str) -> String {
    format!("`{}`", s.replace('|', "\\|").replace('`', "'").replace('\n', " "))
}

fn component_section(c: &Comparison, component: &str, objects: &BTreeMap<&ObjectKey, Vec<&Difference>>) -> String {
    let n: usize = objects.values().map(Vec::len).sum();
    let mut out = format!(
        "<details><summary><b>{component}</b>: {n} difference{} in {} object{}</summary>\n\n| object | field | {} | {} | cause |\n| --- | --- | --- | --- | --- |\n",
        if n == 1 { "" } else { "s" },
        objects.len(),
        if objects.len() == 1 { "" } else { "s" },
        c.from,
        c.to,
    );
    for (object, diffs) in objects {
        for d in diffs {
            let (from, to) = pair(d.from.as_ref(), d.to.as_ref());
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&object.to_string()),
                cell(&d.path),
                cell(&from),
                cell(&to),
                cell(&cause(d)),
            );
        }
    }
    out.push_str("\n</details>\n");
    out
}

fn component_summary(component: &str, objects: &BTreeMap<&ObjectKey, Vec<&Difference>>, full: &str) -> String {
    let n: usize = objects.values().map(Vec::len).sum();
    let unexplained = objects
        .values()
        .flatten()
        .filter(|d| d.class == Class::Unexplained)
        .count();
    format!(
        "- **{component}**: {n} differences in {} objects ({unexplained} unexplained); listed in full in {full}\n",
        objects.len()
    )
}

/// The comparison as Markdown of at most `limit` characters: components are summarised in one
/// line each, largest first, until it fits; `full` names where the whole report is.
pub fn markdown(c: &Comparison, limit: usize, full: &str) -> String {
    let (total, classes) = summary(c);
    let mut head = format!("**{total}**\n\n");
    for line in classes {
        let _ = writeln!(head, "- {line}");
    }
    head.push('\n');
    if !c.fields.is_empty() {
        head.push_str("| field | ");
        let _ = writeln!(head, "{} | {} | kind |\n| --- | --- | --- | --- |", c.from, c.to);
        for f in &c.fields {
            let _ = writeln!(
                head,
                "| {} | {} | {} | {} |",
                cell(&f.field),
                cell(&value(f.from.as_ref())),
                cell(&value(f.to.as_ref())),
                if f.pin { "pin" } else { "manifest" }
            );
        }
        head.push('\n');
    }
    let groups = grouped(c);
    let mut sections: Vec<(&str, String, String)> = groups
        .iter()
        .map(|(component, objects)| {
            (
                *component,
                component_section(c, component, objects),
                component_summary(component, objects, full),
            )
        })
        .collect();
    let mut summarised: Vec<bool> = vec![false; sections.len()];
    let size = |summarised: &[bool], sections: &[(&str, String, String)]| {
        head.chars().count()
            + sections
                .iter()
                .zip(summarised)
                .map(|((_, full, short), s)| {
                    if *s {
                        short.chars().count()
                    } else {
                        full.chars().count()
                    }
                })
                .sum::<usize>()
    };
    let mut by_size: Vec<usize> = (0..sections.len()).collect();
    by_size.sort_by_key(|i| std::cmp::Reverse(sections[*i].1.len()));
    for i in by_size {
        if size(&summarised, &sections) <= limit {
            break;
        }
        summarised[i] = true;
    }
    let mut out = head;
    for ((_, full, short), s) in sections.iter_mut().zip(&summarised) {
        out.push_str(if *s { short } else { full });
    }
    if out.chars().count() > limit {
        // Even one line per component is too long: keep what fits, whole lines.
        let note = format!("\n… more components than fit here; see {full}\n");
        let mut cut: String = out.chars().take(limit.saturating_sub(note.chars().count())).collect();
        if let Some(i) = cut.rfind('\n') {
            cut.truncate(i + 1);
        }
        out = cut + &note;
    }
    out
}

/// Drift of `env`'s committed objects from the cluster, one line per drifted field.
pub fn live_text(env: &str, compared: usize, drifts: &[Drift]) -> String {
    let mut out = String::new();
    let mut last: Option<&ObjectKey> = None;
    for d in drifts {
        if last != Some(&d.object) {
            let _ = writeln!(out, "{}", d.object);
            last = Some(&d.object);
        }
        if d.path == PRESENCE {
            let _ = writeln!(out, "    not in the cluster");
        } else {
            let _ = writeln!(
                out,
                "    {}: committed {}, live {}",
                d.path,
                value(d.committed.as_ref()),
                value(d.live.as_ref())
            );
        }
    }
    let objects: std::collections::BTreeSet<&ObjectKey> = drifts.iter().map(|d| &d.object).collect();
    let _ = writeln!(
        out,
        "{}{} of {compared} committed objects of {env} drifted from the cluster ({} field{})",
        if drifts.is_empty() { "" } else { "\n" },
        objects.len(),
        drifts.len(),
        if drifts.len() == 1 { "" } else { "s" },
    );
    out
}

pub fn live_json(env: &str, compared: usize, drifts: &[Drift]) -> String {
    let drifts: Vec<serde_json::Value> = drifts
        .iter()
        .map(|d| {
            serde_json::json!({
                "object": d.object,
                "path": d.path,
                "committed": shown_value(&d.committed),
                "live": shown_value(&d.live),
            })
        })
        .collect();
    let report = serde_json::json!({ "environment": env, "compared": compared, "drift": drifts });
    serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::compare::FieldChange;

    fn comparison(objects: usize, components: usize) -> Comparison {
        let differences = (0..objects)
            .flat_map(|i| {
                let object = ObjectKey {
                    component: format!("component-{:04}", i % components),
                    file: format!("argocd/manifests/x/{i}.yaml"),
                    kind: Some("ConfigMap".into()),
                    namespace: Some("platform".into()),
                    name: Some(format!("object-{i}")),
                };
                (0..3).map(move |j| Difference {
                    object: object.clone(),
                    path: format!("data.key-{j}"),
                    from: Some(format!("\"{}\"", "a".repeat(60))),
                    to: Some(format!("\"{}\"", "b".repeat(60))),
                    class: if j == 2 { Class::Unexplained } else { Class::Pin },
                    fields: if j == 2 { vec![] } else { vec!["app.image".into()] },
                })
            })
            .collect();
        Comparison {
            from: "staging".into(),
            to: "prod".into(),
            fields: vec![FieldChange {
                field: "app.image".into(),
                from: Some("\"a\"".into()),
                to: Some("\"b\"".into()),
                pin: true,
            }],
            differences,
        }
    }

    #[test]
    fn a_thousand_changed_objects_fit_a_pull_request_body_with_components_summarised() {
        let c = comparison(1000, 20);
        let full = markdown(&c, usize::MAX, "the report");
        assert!(
            full.chars().count() > 65_536,
            "the full report is larger than the limit"
        );
        let bounded = markdown(&c, 65_536, "`promotions/prod.md`");
        assert!(bounded.chars().count() <= 65_536, "{}", bounded.chars().count());
        assert!(bounded.starts_with(
            "**3000 differences between staging and prod**\n\n- 0 explained by manifest fields\n- 2000 pins not yet promoted\n- 1000 unexplained\n"
        ));
        assert!(bounded.contains("- **component-0000**: 150 differences in 50 objects (50 unexplained); listed in full in `promotions/prod.md`"));
        // What fits is kept whole: some components still list every difference.
        assert!(bounded.contains("<details><summary><b>component-"), "{bounded}");
    }

    #[test]
    fn too_many_components_for_even_one_line_each_are_cut_at_a_line_with_a_note() {
        let c = comparison(5000, 5000);
        let bounded = markdown(&c, 65_536, "the report");
        assert!(bounded.chars().count() <= 65_536);
        assert!(bounded.ends_with("\n… more components than fit here; see the report\n"));
    }

    #[test]
    fn secret_values_never_appear_in_any_report() {
        let mut c = comparison(1, 1);
        c.differences[0].from = Some(format!("{}{}", crate::diff::objects::SECRET_MARK, "0".repeat(64)));
        for report in [text(&c), json(&c), markdown(&c, 65_536, "x")] {
            assert!(report.contains("(secret value)"), "{report}");
            assert!(!report.contains(crate::diff::objects::SECRET_MARK), "{report}");
        }
    }
}
