//! "Did you mean …?" for keys and enum values.

/// The candidate closest to `given`, if it is close enough to be a likely typo.
pub fn closest<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let given_lower = given.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&given_lower, &c.to_ascii_lowercase()), c))
        .filter(|(distance, c)| *distance <= (c.len().max(given.len()) / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggests_near_misses_only() {
        let keys = ["promotedFrom", "production", "cluster"];
        assert_eq!(closest("promotedFrm", keys), Some("promotedFrom"));
        assert_eq!(closest("Cluster", keys), Some("cluster"));
        assert_eq!(closest("replicaCount", keys), None);
    }
}
