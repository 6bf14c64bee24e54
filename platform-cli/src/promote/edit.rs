//! Writes pins into the target environment of `platform.yaml` as a targeted text edit: a value
//! that exists is replaced in place (keeping its quoting), a missing one is inserted beside its
//! siblings with their indentation. Comments, order and layout are untouched. The result is
//! loaded again and must resolve to exactly the intended pins, or nothing is written.

use crate::manifest::{self, LoadedManifest, SpanIndex};

use super::PromoteError;
use super::pins::{Change, Pins, effective};

/// The manifest with `changes` applied to environment `to`, loaded and verified against
/// `expected`; its `source.text` is the edited file.
pub fn apply(
    loaded: &LoadedManifest,
    to: &str,
    changes: &[Change],
    expected: &Pins,
) -> Result<LoadedManifest, PromoteError> {
    let index = loaded
        .manifest
        .environments
        .iter()
        .position(|e| e.name == to)
        .ok_or_else(|| PromoteError::EditFailed(format!("no environment {to}")))?;
    let mut text = loaded.source.text.to_string();
    for change in changes {
        let spans = SpanIndex::build(&text);
        let base = format!("/environments/{index}");
        text = set(
            &text,
            &spans,
            &base,
            &change.field.split('/').collect::<Vec<_>>(),
            &change.to,
        )?;
    }
    let edited = manifest::load_str(&loaded.source.name, &text)
        .map_err(|d| PromoteError::EditFailed(format!("the edited manifest is invalid: {d}")))?;
    let got = effective(&edited.manifest, to).ok_or_else(|| PromoteError::EditFailed(format!("{to} vanished")))?;
    if &got != expected {
        return Err(PromoteError::EditFailed(format!(
            "{to} resolves to {got:?}, expected {expected:?}"
        )));
    }
    Ok(edited)
}

/// Sets `segments` (under `base`) to `value` in `text`.
fn set(text: &str, spans: &SpanIndex, base: &str, segments: &[&str], value: &str) -> Result<String, PromoteError> {
    let full = format!("{base}/{}", segments.join("/"));
    if let Some(node) = spans.get(&full).filter(|n| n.is_scalar) {
        let at = node.value;
        let original = &text[at.offset..at.offset + at.len];
        return Ok(format!(
            "{}{}{}",
            &text[..at.offset],
            scalar(value, original),
            &text[at.offset + at.len..]
        ));
    }
    // The deepest ancestor that exists; everything below it is created.
    let mut depth = segments.len();
    let parent = loop {
        depth -= 1;
        let pointer = if depth == 0 {
            base.to_string()
        } else {
            format!("{base}/{}", segments[..depth].join("/"))
        };
        if spans.get(&pointer).is_some() {
            break pointer;
        }
        if depth == 0 {
            return Err(PromoteError::EditFailed(format!("{base} not found")));
        }
    };
    let missing = &segments[depth..];
    let node = spans
        .get(&parent)
        .ok_or_else(|| PromoteError::EditFailed(format!("{parent} not found")))?;
    if text[node.value.offset..].starts_with('{') {
        // A flow mapping: add `key: value` (nested as flow mappings) before its closing brace.
        let close = matching_brace(text, node.value.offset)
            .ok_or_else(|| PromoteError::EditFailed(format!("unterminated flow mapping at {parent}")))?;
        let mut entry = format!("{}: {}", missing[missing.len() - 1], scalar(value, ""));
        for key in missing[..missing.len() - 1].iter().rev() {
            entry = format!("{key}: {{ {entry} }}");
        }
        let before = text[..close].trim_end();
        let separator = if before.ends_with('{') { " " } else { ", " };
        return Ok(format!("{before}{separator}{entry} {}", &text[close..]));
    }
    let indent = spans
        .child_key_indent(&parent)
        .ok_or_else(|| PromoteError::EditFailed(format!("{parent} is not a mapping with entries")))?;
    let mut lines = String::new();
    for (depth, key) in missing.iter().enumerate() {
        let pad = " ".repeat(indent + 2 * depth);
        if depth + 1 == missing.len() {
            lines.push_str(&format!("\n{pad}{key}: {}", scalar(value, "")));
        } else {
            lines.push_str(&format!("\n{pad}{key}:"));
        }
    }
    let end = spans
        .end_of_subtree(&parent)
        .ok_or_else(|| PromoteError::EditFailed(format!("{parent} has no extent")))?;
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    Ok(format!("{}{lines}{}", &text[..line_end], &text[line_end..]))
}

/// The offset of the `}` closing the flow mapping that opens at `open`, skipping quoted text.
fn matching_brace(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in text[open..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '{') => depth += 1,
            (None, '}') => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `value` as a YAML scalar, quoted like `original` was, or plain when that is unambiguous.
fn scalar(value: &str, original: &str) -> String {
    if original.starts_with('\'') && !value.contains('\'') {
        return format!("'{value}'");
    }
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@:/._+-".contains(c))
        && value.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && value.parse::<f64>().is_err()
        && !["true", "false", "null", "yes", "no", "on", "off", "~"].contains(&value.to_ascii_lowercase().as_str());
    if plain && !original.starts_with('"') {
        value.to_string()
    } else {
        serde_json::to_string(value).unwrap_or_else(|_| format!("\"{value}\""))
    }
}

#[cfg(test)]
mod tests {
    use super::scalar;

    #[test]
    fn braces_match_across_nesting_and_quotes() {
        let text = "a: { b: { c: \"}\" }, d: 1 } # }";
        assert_eq!(
            super::matching_brace(text, 3),
            Some(text.rfind(" #").map_or(0, |i| i - 1))
        );
    }

    #[test]
    fn scalars_keep_their_quoting_and_stay_strings() {
        assert_eq!(scalar("0.2.0", ""), "0.2.0");
        assert_eq!(scalar("0.2.0", "\"0.1.0\""), "\"0.2.0\"");
        assert_eq!(scalar("1.30", ""), "\"1.30\"");
        assert_eq!(scalar("ghcr.io/acme/app@sha256:ab", ""), "ghcr.io/acme/app@sha256:ab");
        assert_eq!(scalar("v1.2.3", "'v1.2.2'"), "'v1.2.3'");
        assert_eq!(scalar("yes", ""), "\"yes\"");
    }
}
