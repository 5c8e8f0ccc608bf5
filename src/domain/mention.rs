//! A post that mentions a watched brand, in a shape no platform owns.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Declares [`Platform`] from one line per platform: its key (mention ids,
/// storage keys, the CLI), a few letters for SMS headers, and whether
/// Earshot polls it by search (else it only arrives by webhook).
macro_rules! platforms {
    ($($variant:ident => $key:literal, $sms_label:literal, polled: $polled:literal;)*) => {
        /// Where a post was published.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum Platform {
            $(#[serde(rename = $key)] $variant,)*
        }

        impl Platform {
            /// Every platform, in the order declared.
            pub const ALL: &[Platform] = &[$(Platform::$variant,)*];

            /// The prefix of a mention id, also used in storage keys.
            pub fn key(self) -> &'static str {
                match self {
                    $(Platform::$variant => $key,)*
                }
            }

            /// A few letters that fit an SMS header.
            pub fn sms_label(self) -> &'static str {
                match self {
                    $(Platform::$variant => $sms_label,)*
                }
            }

            /// Whether Earshot can poll it by search.
            pub fn is_polled(self) -> bool {
                match self {
                    $(Platform::$variant => $polled,)*
                }
            }
        }
    };
}

platforms! {
    X => "x", "X", polled: true;
    Bluesky => "bluesky", "BSKY", polled: true;
    Mastodon => "mastodon", "MASTO", polled: true;
    Reddit => "reddit", "REDDIT", polled: true;
    Facebook => "facebook", "FB", polled: false;
    Instagram => "instagram", "IG", polled: false;
}

impl Platform {
    /// Reads a platform key, forgiving case and stray spaces.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim().to_ascii_lowercase();
        Self::ALL.iter().copied().find(|p| p.key() == raw)
    }

    /// The platforms Earshot can poll by search.
    pub fn polled() -> impl Iterator<Item = Platform> {
        Self::ALL.iter().copied().filter(|p| p.is_polled())
    }

    /// The polled platforms' keys, for messages: `x, bluesky, ...`.
    pub fn polled_keys() -> String {
        Self::polled()
            .map(Platform::key)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// A mention's stable identity across deliveries: `<platform>:<platform id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MentionId(String);

impl MentionId {
    pub fn new(platform: Platform, native_id: &str) -> Self {
        Self(format!("{}:{native_id}", platform.key()))
    }

    /// Accepts an id read back from storage or typed by a person.
    pub fn parse(raw: &str) -> Option<Self> {
        let (platform, native) = raw.split_once(':')?;
        (Platform::ALL.iter().any(|p| p.key() == platform) && !native.is_empty())
            .then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MentionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    /// The platform's own id for the account (a string: X ids exceed 2^53).
    pub id: String,
    /// The handle without its `@`.
    pub handle: String,
    pub display_name: Option<String>,
    /// Unknown when the platform's payload does not carry it.
    pub followers: Option<u64>,
}

/// Who wrote the post, as far as the brand is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Voice {
    /// Someone else talking to or about the brand.
    Customer,
    /// The brand's own account, usually answering someone.
    Brand,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mention {
    pub id: MentionId,
    pub platform: Platform,
    /// Link to the post on the platform.
    pub url: String,
    pub author: Author,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// The post this one answers, if any.
    pub in_reply_to: Option<MentionId>,
    /// The post this one quotes, if any.
    pub quotes: Option<MentionId>,
    /// The watched brand the post concerns.
    pub brand: String,
    pub voice: Voice,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mention_ids_keep_the_platform_prefix() {
        let id = MentionId::new(Platform::X, "1296121314218897408");
        assert_eq!(id.as_str(), "x:1296121314218897408");
        assert_eq!(MentionId::parse("x:1296121314218897408"), Some(id));
    }

    #[test]
    fn unknown_or_empty_ids_are_refused() {
        assert_eq!(MentionId::parse("myspace:1"), None);
        assert_eq!(MentionId::parse("x:"), None);
        assert_eq!(MentionId::parse("nocolon"), None);
    }
}
