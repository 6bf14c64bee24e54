//! Each chart's supported range (`Component::supported`) is held to the releases vendored in
//! `../shared/upstream`, the ones the upstream checks (`scripts/check-upstream-charts`) run the
//! rendered values against: every vendored release of a chart lies in its range, and the range
//! starts at the lowest of them, so no version below what was checked counts as supported.

use std::path::Path;

use platform_cli::model::components::{Component, Source};

#[test]
fn every_vendored_release_is_supported_and_the_range_starts_at_the_lowest() {
    let upstream = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/upstream");
    for component in Component::pinnable() {
        let name = component.spec().name;
        let range = component.supported().expect("a pinnable component has a range");
        let Source::Chart { chart, .. } = component.spec().source else {
            panic!("{name} is pinnable without a chart");
        };
        let folder = upstream.join(chart);
        let mut vendored: Vec<semver::Version> = std::fs::read_dir(&folder)
            .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
            .map(|entry| entry.expect("an entry").file_name().to_string_lossy().into_owned())
            .map(|v| semver::Version::parse(v.trim_start_matches('v')).expect("a vendored release is semver"))
            .collect();
        vendored.sort();
        assert!(!vendored.is_empty(), "{name}: nothing vendored");
        for version in &vendored {
            assert!(range.matches(version), "{name}: vendored {version} is outside {range}");
        }
        let lowest = &vendored[0];
        let floor = range.comparators.first().expect("a lower bound");
        assert_eq!(
            (floor.op, floor.major, floor.minor, floor.patch),
            (
                semver::Op::GreaterEq,
                lowest.major,
                Some(lowest.minor),
                Some(lowest.patch)
            ),
            "{name}: {range} must start at {lowest}, the lowest release the upstream checks run on"
        );
    }
}
