//! A post that mentions a watched brand, in a shape no platform owns.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a post was published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    X,
    Bluesky,
    Mastodon,
    Reddit,
    Facebook,
    Instagram,
}

impl Platform {
    /// The prefix of a mention id, also used in storage keys.
    pub fn key(self) -> &'static str {
        match self {
            Platform::X => "x",
            Platform::Bluesky => "bluesky",
            Platform::Mastodon => "mastodon",
            Platform::Reddit => "reddit",
            Platform::Facebook => "facebook",
            Platform::Instagram => "instagram",
        }
    }

    /// A few letters that fit an SMS header.
    pub fn sms_label(self) -> &'static str {
        match self {
            Platform::X => "X",
            Platform::Bluesky => "BSKY",
            Platform::Mastodon => "MASTO",
            Platform::Reddit => "REDDIT",
            Platform::Facebook => "FB",
            Platform::Instagram => "IG",
        }
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
        let known = [
            Platform::X,
            Platform::Bluesky,
            Platform::Mastodon,
            Platform::Reddit,
            Platform::Facebook,
            Platform::Instagram,
        ];
        (known.iter().any(|p| p.key() == platform) && !native.is_empty())
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
