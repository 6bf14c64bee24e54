//! The promotion chain and its gates (`promotedFrom`, `promotion`).

use super::Checker;
use crate::model::suggest::closest;
use crate::model::{Manifest, Promotion};
use std::collections::HashMap;

pub(super) fn check_promotion_gates(c: &mut Checker<'_>, p: &str, env: &crate::model::Environment) {
    let gates = &env.promotion;
    let p = format!("{p}/promotion");
    if env.promoted_from.is_none() && *gates != Promotion::default() {
        c.invalid(
            &p,
            format!(
                "gates of promotions into \"{}\", which nothing is promoted into",
                env.name
            ),
            "promotion only under an environment with promotedFrom",
            "set promotedFrom to the environment before this one, or remove `promotion`",
        );
    }
    let soak = gates.soak.as_deref().map(|text| (text, Promotion::parse_soak(text)));
    if let Some((text, None)) = soak {
        c.invalid(
            &format!("{p}/soak"),
            format!("\"{text}\" is not a soak time"),
            "a whole number and one unit: m, h, d or w, e.g. 24h",
            "write it as Prometheus does; 0m turns the soak gate off",
        );
    }
    if let Some(rate) = gates.max_burn_rate {
        if !(rate.is_finite() && rate > 0.0) {
            c.invalid(
                &format!("{p}/maxBurnRate"),
                format!("{rate} is not a usable burn-rate ceiling"),
                "a number above 0; 1 spends the error budget exactly as fast as it accrues",
                "e.g. 1 in production, 2 before it",
            );
        } else if matches!(soak, Some((_, Some(d))) if d.is_zero()) {
            c.invalid(
                &format!("{p}/maxBurnRate"),
                "a burn-rate ceiling with the soak gate off",
                "a soak above 0m: the burn rate is measured over the soak window",
                "set `soak`, e.g. 24h, or remove maxBurnRate",
            );
        }
    }
    if let Some(alerts) = &gates.blocking_alerts {
        for (i, name) in alerts.names.iter().enumerate() {
            let valid = name
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid {
                c.invalid(
                    &format!("{p}/blockingAlerts/names/{i}"),
                    format!("\"{name}\" is not an alert name"),
                    "a Prometheus alert name: letters, digits and '_', not starting with a digit",
                    "copy the `alert:` name of the rule, e.g. AppAvailabilityBudgetBurnFast",
                );
            }
        }
        for (i, severity) in alerts.severities.iter().enumerate() {
            if severity.is_empty()
                || !severity
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                c.invalid(
                    &format!("{p}/blockingAlerts/severities/{i}"),
                    format!("\"{severity}\" is not a severity"),
                    "a `severity` label value: letters, digits, '_' and '-'",
                    "e.g. critical",
                );
            }
        }
    }
    if let Some(url) = &gates.prometheus_url {
        c.https_url(&format!("{p}/prometheusUrl"), url, "the source's Prometheus query API");
    }
}

pub(super) fn check_promotion_chain(c: &mut Checker<'_>, m: &Manifest) {
    let names: Vec<&str> = m.environments.iter().map(|e| e.name.as_str()).collect();
    let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    for (i, env) in m.environments.iter().enumerate() {
        let Some(from) = &env.promoted_from else { continue };
        let pointer = format!("/environments/{i}/promotedFrom");
        if from == &env.name {
            c.invalid(
                &pointer,
                format!("\"{from}\" is promoted from itself"),
                "another environment",
                "point it at the environment before it",
            );
            continue;
        }
        if !index.contains_key(from.as_str()) {
            let hint = match closest(from, names.iter().copied()) {
                Some(best) => format!("did you mean \"{best}\"?"),
                None => format!("known environments: {}", names.join(", ")),
            };
            c.invalid(
                &pointer,
                format!("no environment named \"{from}\""),
                "the name of another environment",
                hint,
            );
            continue;
        }
        // Walk the chain upstream; coming back here is a cycle.
        let mut seen = vec![env.name.as_str()];
        let mut current = from.as_str();
        while let Some(&j) = index.get(current) {
            if seen.contains(&current) {
                if current == env.name {
                    seen.push(current);
                    c.invalid(
                        &pointer,
                        format!("promotion cycle: {}", seen.join(" ← ")),
                        "a chain that starts at an environment with no promotedFrom",
                        "remove promotedFrom from the first environment of the chain",
                    );
                }
                break;
            }
            seen.push(current);
            match &m.environments[j].promoted_from {
                Some(next) => current = next,
                None => break,
            }
        }
    }
}
