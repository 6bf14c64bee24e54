//! Predicates on text the checks share: DNS labels and names, digests, e-mail addresses, GCP
//! project ids.

pub(super) fn is_sha256_digest(d: &str) -> bool {
    d.strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

pub fn is_dns_label(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.as_bytes()[0].is_ascii_lowercase()
        && !s.ends_with('-')
}

pub(super) fn to_dns_label(s: &str) -> String {
    let lowered: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '-' })
        .collect();
    lowered.trim_matches('-').chars().take(63).collect()
}

pub(super) fn is_domain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(|l| !l.starts_with('-') && is_hostname_label(l))
}

pub(super) fn is_hostname_label(l: &str) -> bool {
    (1..=63).contains(&l.len())
        && l.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !l.ends_with('-')
}

pub(super) fn is_gcp_project(s: &str) -> bool {
    (6..=30).contains(&s.len()) && is_dns_label(s)
}

pub(super) fn is_email(s: &str) -> bool {
    s.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !local.contains(char::is_whitespace) && is_domain(domain) && domain.contains('.')
    })
}
