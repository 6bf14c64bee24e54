//! Which Kubernetes minor versions each provider supports, and until when: the one table behind
//! the default version, `platform validate`'s refusal and the table in docs/components.md.
//!
//! A version past its end date is refused: the cloud no longer creates clusters on it (or
//! upgrades them by force), and no security fix reaches it. A version absent from a provider's
//! rows is refused too: either the provider never offered it or it is newer than this table;
//! update the table (and `CHECKED`) from the provider's calendar, never guess a date.

use time::Date;
use time::macros::date;

use super::Provider;

/// The version new manifests get: the newest minor every provider below supports.
pub const DEFAULT_VERSION: &str = "1.35";

/// The day every calendar below was last read from its source.
pub const CHECKED: Date = date!(2026 - 11 - 30);

/// One provider's calendar, as published on `source` and read on [`CHECKED`].
#[derive(Debug)]
pub struct Calendar {
    pub provider: Provider,
    /// Whose support it is, for messages ("eks", "upstream Kubernetes").
    pub name: &'static str,
    /// What "supported" means here, for the message and the docs.
    pub window: &'static str,
    pub source: &'static str,
    pub releases: &'static [Release],
}

/// A minor version and the last day it is supported.
#[derive(Debug, PartialEq, Eq)]
pub struct Release {
    pub minor: u32,
    pub ends: Date,
}

const fn release(minor: u32, ends: Date) -> Release {
    Release { minor, ends }
}

/// Every provider's calendar, in provider order.
pub const CALENDARS: [Calendar; 4] = [
    Calendar {
        provider: Provider::Eks,
        name: "eks",
        window: "end of extended support (standard support is 14 months from release, then 12 months extended at extra cost)",
        source: "https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html",
        releases: &[
            release(30, date!(2026 - 07 - 23)),
            release(31, date!(2026 - 11 - 26)),
            release(32, date!(2027 - 03 - 23)),
            release(33, date!(2027 - 07 - 29)),
            release(34, date!(2027 - 12 - 02)),
            release(35, date!(2028 - 03 - 27)),
        ],
    },
    Calendar {
        provider: Provider::Aks,
        name: "aks",
        window: "end of life on the Free and Standard tiers (the rendered cluster's tier; LTS needs Premium)",
        source: "https://learn.microsoft.com/azure/aks/supported-kubernetes-versions",
        releases: &[release(34, date!(2026 - 11 - 30)), release(35, date!(2027 - 03 - 31))],
    },
    Calendar {
        provider: Provider::Gke,
        name: "gke",
        window: "end of maintenance support (14 months from availability in the Regular channel)",
        source: "https://cloud.google.com/kubernetes-engine/docs/release-schedule",
        releases: &[
            release(33, date!(2026 - 08 - 03)),
            release(34, date!(2026 - 10 - 01)),
            release(35, date!(2027 - 04 - 11)),
        ],
    },
    Calendar {
        provider: Provider::Existing,
        name: "upstream Kubernetes",
        window: "end of upstream patch releases",
        source: "https://kubernetes.io/releases/",
        releases: &[
            release(33, date!(2026 - 06 - 28)),
            release(34, date!(2026 - 10 - 27)),
            release(35, date!(2027 - 02 - 28)),
        ],
    },
];

/// The calendar of a provider.
pub fn calendar(provider: Provider) -> &'static Calendar {
    match provider {
        Provider::Eks => &CALENDARS[0],
        Provider::Aks => &CALENDARS[1],
        Provider::Gke => &CALENDARS[2],
        Provider::Existing => &CALENDARS[3],
    }
}

/// Why a version cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub enum Unsupported {
    /// Not a `1.MINOR` version at all.
    Malformed,
    /// Not in the provider's calendar: never offered, or newer than this table.
    Unknown { supported: Vec<String> },
    /// Its support ended.
    Ended { ended: Date, supported: Vec<String> },
}

/// Checks `version` (`"1.35"`) against the provider's calendar on `today`.
pub fn check(provider: Provider, version: &str, today: Date) -> Result<&'static Release, Unsupported> {
    let minor = version
        .strip_prefix("1.")
        .filter(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|m| m.parse::<u32>().ok())
        .ok_or(Unsupported::Malformed)?;
    let calendar = calendar(provider);
    let supported = || {
        calendar
            .releases
            .iter()
            .filter(|r| r.ends >= today)
            .map(|r| format!("\"1.{}\" (until {})", r.minor, r.ends))
            .collect::<Vec<_>>()
    };
    match calendar.releases.iter().find(|r| r.minor == minor) {
        None => Err(Unsupported::Unknown { supported: supported() }),
        Some(r) if r.ends < today => Err(Unsupported::Ended {
            ended: r.ends,
            supported: supported(),
        }),
        Some(r) => Ok(r),
    }
}

/// Today's date (UTC), or `PLATFORM_TODAY` (YYYY-MM-DD) so a CI run or a test can pin the day
/// the support windows are judged on.
pub fn today() -> Date {
    std::env::var("PLATFORM_TODAY")
        .ok()
        .and_then(|d| Date::parse(&d, time::macros::format_description!("[year]-[month]-[day]")).ok())
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().date())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_version_is_supported_everywhere_on_the_day_the_table_was_checked() {
        for c in &CALENDARS {
            assert!(check(c.provider, DEFAULT_VERSION, CHECKED).is_ok(), "{:?}", c.provider);
        }
    }

    #[test]
    fn a_version_past_its_end_is_refused_with_the_date() {
        let day_after = date!(2026 - 12 - 01);
        assert_eq!(
            check(Provider::Aks, "1.34", day_after),
            Err(Unsupported::Ended {
                ended: date!(2026 - 11 - 30),
                supported: vec!["\"1.35\" (until 2027-03-31)".into()],
            })
        );
        assert!(check(Provider::Aks, "1.34", date!(2026 - 11 - 30)).is_ok());
    }

    #[test]
    fn unknown_and_malformed_versions_are_refused() {
        let today = date!(2026 - 11 - 30);
        assert!(matches!(
            check(Provider::Eks, "1.31", today),
            Err(Unsupported::Ended { ended, .. }) if ended == date!(2026 - 11 - 26)
        ));
        assert!(matches!(
            check(Provider::Gke, "1.32", today),
            Err(Unsupported::Unknown { .. })
        ));
        assert!(matches!(
            check(Provider::Eks, "1.3", today),
            Err(Unsupported::Unknown { .. })
        ));
        assert_eq!(check(Provider::Eks, "2.0", today), Err(Unsupported::Malformed));
        assert_eq!(check(Provider::Eks, "1.", today), Err(Unsupported::Malformed));
    }

    #[test]
    fn docs_components_md_holds_the_support_calendar() {
        let docs = include_str!("../../../docs/components.md");
        let start = docs.find("<!-- kubernetes-support:start -->\n").map(|i| i + 34);
        let end = docs.find("<!-- kubernetes-support:end -->");
        let (Some(start), Some(end)) = (start, end) else {
            panic!("docs/components.md lost its kubernetes-support markers");
        };
        let mut table = String::from(
            "| provider | version | supported until | window | source |\n| --- | --- | --- | --- | --- |\n",
        );
        for c in &CALENDARS {
            let window = c.window.split(" (").next().unwrap_or(c.window);
            for r in c.releases {
                let provider = c.provider.key();
                table += &format!(
                    "| {provider} | 1.{} | {} | {window} | {} |\n",
                    r.minor, r.ends, c.source
                );
            }
        }
        assert_eq!(
            &docs[start..end],
            table,
            "regenerate the table in docs/components.md from CALENDARS"
        );
    }

    #[test]
    fn every_calendar_is_in_release_order() {
        for c in &CALENDARS {
            assert_eq!(calendar(c.provider).provider, c.provider);
            assert!(
                c.releases
                    .windows(2)
                    .all(|w| w[0].minor < w[1].minor && w[0].ends <= w[1].ends)
            );
        }
    }
}
