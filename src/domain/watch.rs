//! Watches: the brands Earshot listens for, where, and which accounts are
//! the brand's own.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::Platform;
use super::reply_template::ReplyTemplate;
use super::triage::TriageSettings;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum WatchError {
    #[error("brand name must be 1 to 64 characters without `#`")]
    BadBrand,
    #[error("the search query must not be empty")]
    EmptyQuery,
    #[error("`{0}` is not a platform Earshot polls ({polled})", polled = Platform::polled_keys())]
    NotPolled(String),
    #[error("`{0}` is not an account: write <platform>:<id>, e.g. x:2244994945")]
    BadAccount(String),
}

/// One of the brand's own accounts: its posts are the brand's voice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub platform: Platform,
    /// The platform's id or handle for the account (X user id, Bluesky DID
    /// or handle, Mastodon acct, Reddit username, Facebook Page or
    /// Instagram account id).
    pub id: String,
}

impl Account {
    pub fn parse(raw: &str) -> Result<Self, WatchError> {
        let bad = || WatchError::BadAccount(raw.to_owned());
        let (platform, id) = raw.split_once(':').ok_or_else(bad)?;
        let platform = Platform::parse(platform).ok_or_else(bad)?;
        let id = id.trim().trim_start_matches('@');
        if id.is_empty() {
            return Err(bad());
        }
        Ok(Self {
            platform,
            id: id.to_owned(),
        })
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.platform, self.id)
    }
}

/// A brand Earshot listens for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Watch {
    pub brand: String,
    /// The search terms, passed to each platform's search as written.
    pub query: String,
    /// Where the brand is polled.
    pub platforms: Vec<Platform>,
    pub accounts: Vec<Account>,
    pub created_at: DateTime<Utc>,
    /// The brand's own triage settings (urgent terms, VIP authors, reach
    /// and P1 thresholds); the defaults without them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage: Option<TriageSettings>,
    /// The public holding replies the team approved, by number.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reply_templates: Vec<ReplyTemplate>,
}

impl Watch {
    pub fn new(
        brand: &str,
        query: &str,
        platforms: Vec<Platform>,
        accounts: Vec<Account>,
        created_at: DateTime<Utc>,
    ) -> Result<Self, WatchError> {
        let brand = brand.trim();
        if brand.is_empty() || brand.chars().count() > 64 || brand.contains('#') {
            return Err(WatchError::BadBrand);
        }
        if query.trim().is_empty() {
            return Err(WatchError::EmptyQuery);
        }
        if let Some(p) = platforms.iter().find(|p| !p.is_polled()) {
            return Err(WatchError::NotPolled(p.key().to_owned()));
        }
        let mut unique = Vec::new();
        for platform in platforms {
            if !unique.contains(&platform) {
                unique.push(platform);
            }
        }
        Ok(Self {
            brand: brand.to_owned(),
            query: query.trim().to_owned(),
            platforms: unique,
            accounts,
            created_at,
            triage: None,
            reply_templates: Vec::new(),
        })
    }

    /// Whether an author is one of the brand's own accounts, by id or
    /// handle (case-insensitive).
    pub fn is_own(&self, platform: Platform, author_id: &str, handle: &str) -> bool {
        self.accounts.iter().any(|a| {
            a.platform == platform
                && (a.id.eq_ignore_ascii_case(author_id) || a.id.eq_ignore_ascii_case(handle))
        })
    }

    pub fn polls(&self, platform: Platform) -> bool {
        self.platforms.contains(&platform)
    }

    pub fn reply_template(&self, number: u32) -> Option<&ReplyTemplate> {
        self.reply_templates.iter().find(|t| t.number == number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn watches_refuse_bad_names_queries_and_platforms() {
        let now = at("2026-11-24T10:00:00Z");
        assert_eq!(
            Watch::new("a#b", "q", vec![], vec![], now).unwrap_err(),
            WatchError::BadBrand
        );
        assert_eq!(
            Watch::new("Northwind", " ", vec![], vec![], now).unwrap_err(),
            WatchError::EmptyQuery
        );
        assert_eq!(
            Watch::new("Northwind", "q", vec![Platform::Facebook], vec![], now).unwrap_err(),
            WatchError::NotPolled("facebook".into())
        );
    }

    #[test]
    fn own_accounts_match_by_id_or_handle() {
        let watch = Watch::new(
            "Northwind",
            "northwind",
            vec![Platform::X, Platform::X],
            vec![
                Account::parse("x:900").unwrap(),
                Account::parse("bluesky:@northwind.example").unwrap(),
            ],
            at("2026-11-24T10:00:00Z"),
        )
        .unwrap();
        assert_eq!(watch.platforms, vec![Platform::X]);
        assert!(watch.is_own(Platform::X, "900", "someone"));
        assert!(watch.is_own(Platform::Bluesky, "did:plc:zz", "Northwind.example"));
        assert!(!watch.is_own(Platform::Mastodon, "900", "northwind.example"));
        assert!(Account::parse("myspace:1").is_err());
        assert!(Account::parse("x:").is_err());
    }
}
