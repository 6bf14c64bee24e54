//! The rows of `platform outdated` as a person reads them (an aligned table), as a pull request
//! or issue shows them (Markdown), or as a program reads them (JSON).

use super::{Row, Support};

/// What a cell of the support column says.
fn support(row: &Row) -> String {
    match &row.support {
        Support::Supported { until: Some(until) } => format!("supported until {until}"),
        Support::Supported { until: None } => "in the supported range".into(),
        Support::Ended { ended } => format!("UNSUPPORTED since {ended}"),
        Support::OutsideRange { range } => format!("OUTSIDE the supported range {range}"),
        Support::Unknown => "UNKNOWN to its provider's calendar".into(),
        Support::NotJudged => "-".into(),
    }
}

fn release(r: Option<&super::Release>) -> String {
    r.map_or_else(
        || "-".into(),
        |r| match &r.date {
            Some(date) => format!("{} ({date})", r.tag),
            None => r.tag.clone(),
        },
    )
}

const HEADERS: [&str; 6] = ["what", "pinned", "newest in range", "newest", "support", "used by"];

fn cells(row: &Row) -> [String; 6] {
    let newest = match (&row.error, row.behind()) {
        (Some(_), _) => "? (see below)".into(),
        (None, true) => format!("{} *", release(row.newest.as_ref())),
        (None, false) => release(row.newest.as_ref()),
    };
    let in_range = match &row.range {
        Some(range) if row.error.is_none() => format!("{} [{range}]", release(row.newest_in_range.as_ref())),
        _ => "-".into(),
    };
    [
        row.what.clone(),
        row.pinned.clone(),
        in_range,
        newest,
        support(row),
        row.used_by.join(", "),
    ]
}

/// The closing lines: how many pins are behind, past support, or unread.
fn summary(rows: &[Row]) -> Vec<String> {
    let behind = rows.iter().filter(|r| r.behind()).count();
    let past = rows.iter().filter(|r| r.support.is_past()).count();
    let mut lines = vec![format!(
        "{} pins: {behind} with a newer release (*), {past} past their support",
        rows.len()
    )];
    for row in rows.iter().filter(|r| r.error.is_some()) {
        lines.push(format!(
            "not read: {}: {}",
            row.what,
            row.error.as_deref().unwrap_or_default()
        ));
    }
    lines
}

/// An aligned table, then the summary.
pub fn text(rows: &[Row]) -> String {
    let table: Vec<[String; 6]> = rows.iter().map(cells).collect();
    let widths: Vec<usize> = (0..HEADERS.len())
        .map(|i| {
            table
                .iter()
                .map(|r| r[i].chars().count())
                .chain([HEADERS[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        padded.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(
        HEADERS
            .iter()
            .map(|h| h.to_uppercase())
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    );
    for row in &table {
        out += &line(row.iter().map(String::as_str).collect());
    }
    out.push('\n');
    for l in summary(rows) {
        out += &l;
        out.push('\n');
    }
    out
}

/// A Markdown table, then the summary.
pub fn markdown(rows: &[Row]) -> String {
    let escape = |c: &str| c.replace('|', "\\|");
    let mut out = format!("| {} |\n|{}\n", HEADERS.join(" | "), " --- |".repeat(HEADERS.len()));
    for row in rows {
        let cells: Vec<String> = cells(row).iter().map(|c| escape(c)).collect();
        out += &format!("| {} |\n", cells.join(" | "));
    }
    out.push('\n');
    for l in summary(rows) {
        out += &format!("{}\n\n", escape(&l));
    }
    out.trim_end().to_string() + "\n"
}

/// The rows as a JSON array.
pub fn json(rows: &[Row]) -> String {
    serde_json::to_string_pretty(rows).unwrap_or_else(|_| "[]".into()) + "\n"
}
