//! Validated values. Each parses once at the edge (serde `try_from`), so a bad value is a 422
//! that names the field and the rule, and the database's CHECKs are never the first line.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! text_newtype {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, String> {
                let check: fn(&str) -> Result<(), String> = $check;
                check(&value).map(|()| Self(value))
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_newtype!(
    /// An org's slug: a DNS label (it names the org's namespace `org-<slug>`), 1-40 characters.
    Slug,
    |s| {
        let ok = (1..=40).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && !s.ends_with('-')
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(())
        } else {
            Err(format!(
                "slug {s:?} is not valid: use 1-40 lowercase letters, digits and '-', starting with a letter \
                 and not ending with '-' (it becomes the namespace org-<slug>)"
            ))
        }
    }
);

/// [`Name`]'s rule as a regular expression both ECMA-262 and Python read: the control
/// characters (`Cc`), Unicode `White_Space` (what `char::is_whitespace` tests) and the
/// [`invisible`] characters, spelled out.
pub const NAME_PATTERN: &str = r"^[^\u0000-\u001F\u007F-\u009F\u061C\u200B\u200E\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u061C\u200B\u200E\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF][^\u0000-\u001F\u007F-\u009F\u061C\u200B\u200E\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*$";
/// [`Reason`]'s rule: not blank, and no control characters but tab, line feed and carriage return.
pub const REASON_PATTERN: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";
/// Any other text a request carries ([`crate::error::JsonBody`]'s rule): no control characters
/// but tab, line feed and carriage return.
pub const TEXT_PATTERN: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// Characters a name may not hold although they are not controls: the bidirectional embeddings,
/// overrides, isolates and marks (which can make `acme\u{202E}lapyap` display as `acmepaypal`)
/// and the zero-width space, word joiner and BOM. The zero-width (non-)joiners stay: scripts such
/// as Persian and emoji sequences need them.
pub fn invisible(c: char) -> bool {
    matches!(c as u32, 0x061C | 0x200B | 0x200E | 0x200F | 0x202A..=0x202E | 0x2060 | 0x2066..=0x2069 | 0xFEFF)
}

/// The control characters text may hold: the ones that lay out lines.
pub fn refused_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

text_newtype!(
    /// A display name (org or project): 1-200 characters, no control characters, not blank.
/// The OpenAPI document says the same with [`NAME_PATTERN`] (a test keeps them equal).
    Name,
    |s| {
        let len = s.chars().count();
        if !(1..=200).contains(&len) || !s.chars().any(|c| !c.is_whitespace() && !c.is_control()) {
            Err(format!("name must have 1-200 characters and not be blank (got {len})"))
        } else if s.chars().any(char::is_control) {
            Err("name must not contain control characters".to_owned())
        } else if let Some(c) = s.chars().find(|c| invisible(*c)) {
            Err(format!(
                "name must not contain U+{:04X}: bidirectional controls and zero-width characters make a name \
                 read differently from what it is",
                c as u32
            ))
        } else {
            Ok(())
        }
    }
);

text_newtype!(
    /// A config key: lowercase, dotted, e.g. `chat.max_sessions`.
    ConfigKey,
    |s| {
        let ok = (1..=128).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
        if ok {
            Ok(())
        } else {
            Err(format!(
                "config key {s:?} is not valid: use 1-128 characters of a-z, 0-9, '.', '_' and '-', starting \
                 with a letter (e.g. chat.max_sessions)"
            ))
        }
    }
);

text_newtype!(
    /// Why a config changed, kept in its history: 1-500 characters.
    Reason,
    |s| {
        let len = s.chars().count();
        if !(1..=500).contains(&len) || !s.chars().any(|c| !c.is_whitespace()) {
            Err(format!("reason must have 1-500 characters and not be blank (got {len})"))
        } else if s.chars().any(refused_control) {
            Err("reason must not contain control characters other than tab, line feed and carriage return".to_owned())
        } else {
            Ok(())
        }
    }
);

/// Deserializes an integer also when written `32.0` (JSON Schema calls that an integer too) or
/// as text (query strings); anything with a fraction is refused.
pub fn integral<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(i64),
        Float(f64),
        Text(String),
    }
    let whole = |f: f64| (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64);
    let value = match Raw::deserialize(deserializer)? {
        Raw::Int(i) => Some(i),
        Raw::Float(f) => whole(f),
        Raw::Text(t) => t
            .trim()
            .parse::<i64>()
            .ok()
            .or_else(|| t.trim().parse::<f64>().ok().and_then(whole)),
    };
    value.ok_or_else(|| serde::de::Error::custom("expected a whole number"))
}

/// [`integral`] for an optional field.
pub fn integral_opt<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    integral(deserializer).map(Some)
}

/// A canned chat action: the only thing a chat message can be. Its name is the counter it
/// moves, the word clients send, and what the assistant answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum Action {
    ThumbsUp,
    ThumbsDown,
    Ready,
    Blocked,
    Review,
    Deployed,
    TestsGreen,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Self::ThumbsUp,
        Self::ThumbsDown,
        Self::Ready,
        Self::Blocked,
        Self::Review,
        Self::Deployed,
        Self::TestsGreen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ThumbsUp => "thumbs_up",
            Self::ThumbsDown => "thumbs_down",
            Self::Ready => "ready",
            Self::Blocked => "blocked",
            Self::Review => "review",
            Self::Deployed => "deployed",
            Self::TestsGreen => "tests_green",
        }
    }

    /// Every action's name, for messages that list them.
    pub fn names() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

impl TryFrom<String> for Action {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == name)
            .ok_or_else(|| format!("unknown action {name:?}; the actions are {}", Self::names()))
    }
}

impl From<Action> for &'static str {
    fn from(action: Action) -> Self {
        action.as_str()
    }
}

/// A user's role in its org.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrgRole {
    /// Mints invites, creates projects, manages members and configs.
    Admin,
    /// Reads the org's projects and configs; works in the projects it belongs to.
    Member,
}

impl OrgRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "member" => Some(Self::Member),
            _ => None,
        }
    }
}

/// A user's role in a project: `project_members.role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum ProjectRole {
    /// Manages the project's members.
    Owner,
    Member,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_dns_labels() {
        for good in ["a", "acme", "acme-2", "a1"] {
            assert!(Slug::try_from(good.to_owned()).is_ok(), "{good}");
        }
        for bad in ["", "1acme", "Acme", "acme-", "ac_me", &"a".repeat(41)] {
            assert!(Slug::try_from(bad.to_owned()).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_refuse_blank_and_control_characters() {
        assert!(Name::try_from("Acme Inc".to_owned()).is_ok());
        assert!(Name::try_from("  ".to_owned()).is_err());
        assert!(Name::try_from("a\u{0}b".to_owned()).is_err());
        assert!(Name::try_from("x".repeat(201)).is_err());
        assert!(Name::try_from("acme\u{202E}lapyap".to_owned()).is_err());
        assert!(Name::try_from("pay\u{200B}pal".to_owned()).is_err());
        assert!(
            Name::try_from("مهر\u{200C}سا".to_owned()).is_ok(),
            "ZWNJ stays for Persian"
        );
    }

    #[test]
    fn the_patterns_spell_out_the_rust_character_classes() {
        for c in (0..=0xFFFFu32).filter_map(char::from_u32) {
            let invisible = matches!(c as u32, 0x061C | 0x200B | 0x200E | 0x200F | 0x202A..=0x202E | 0x2060 | 0x2066..=0x2069 | 0xFEFF);
            assert_eq!(super::invisible(c), invisible, "U+{:04X}", c as u32);
            let blank_or_control = c.is_whitespace() || c.is_control();
            let outside_middle_class = matches!(c as u32, 0..=0x20 | 0x7F..=0xA0 | 0x1680 | 0x2000..=0x200A | 0x2028 | 0x2029 | 0x202F | 0x205F | 0x3000);
            assert_eq!(blank_or_control, outside_middle_class, "U+{:04X}", c as u32);
            let outside_text_class = matches!(c as u32, 0..=0x08 | 0x0B | 0x0C | 0x0E..=0x1F | 0x7F..=0x9F);
            assert_eq!(refused_control(c), outside_text_class, "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn the_openapi_document_states_the_same_rules() {
        let doc = serde_json::to_string(&crate::routes::openapi()).unwrap_or_default();
        let name = serde_json::to_string(NAME_PATTERN).unwrap_or_default();
        let reason = serde_json::to_string(REASON_PATTERN).unwrap_or_default();
        let text = serde_json::to_string(TEXT_PATTERN).unwrap_or_default();
        assert_eq!(doc.matches(&name).count(), 2, "CreateOrg.name and CreateProject.name");
        assert_eq!(doc.matches(&reason).count(), 1, "PutConfig.reason");
        assert_eq!(
            doc.matches(&text).count(),
            2,
            "AdminSignIn.credential and GuestSignIn.invite_code"
        );
    }

    #[test]
    fn config_keys_are_dotted_lowercase() {
        assert!(ConfigKey::try_from("chat.max_sessions".to_owned()).is_ok());
        assert!(ConfigKey::try_from("Chat".to_owned()).is_err());
        assert!(ConfigKey::try_from(".x".to_owned()).is_err());
    }
}
