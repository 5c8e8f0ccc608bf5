//! Each platform's payloads, parsed at the edge into [`Mention`]s.

pub mod bluesky;
pub mod bluesky_profiles;
pub mod html;
pub mod http;
pub mod jetstream;
pub mod mastodon;
pub mod meta;
pub mod reddit;
pub mod reply;
pub mod x;
pub mod x_search;
pub mod x_v2;

use std::sync::Arc;

use thiserror::Error;

use crate::config::{ApiBase, Secret};
use crate::domain::{Mention, Platform};
use crate::ports::SearchSource;
use http::Http;

/// One platform Earshot polls by search: where its settings come from and
/// how its search is built.
pub struct PolledPlatform {
    pub platform: Platform,
    pub api: ApiBase,
    /// The secret its search needs, if any; without it the source fails
    /// and says why instead of stopping the rest.
    pub token_var: Option<&'static str>,
    pub build: fn(Http, String, Option<Secret>) -> Arc<dyn SearchSource>,
}

/// Every platform Earshot polls. Adding one is its module and one line here
/// (and its line in [`Platform`]).
pub const POLLED: &[PolledPlatform] = &[
    x_search::SEARCH,
    bluesky::SEARCH,
    mastodon::SEARCH,
    reddit::SEARCH,
];

/// What one webhook body held.
#[derive(Debug, Default)]
pub struct Delivery {
    pub mentions: Vec<Mention>,
    /// Posts that could not be read; the rest of the delivery still counts.
    pub rejected: Vec<RejectedPost>,
    /// Valid events that carry no mention (likes, retweets, deletions...).
    pub ignored: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RejectedPost {
    /// Position of the post in the delivery.
    pub index: usize,
    pub reason: String,
}

/// A body that cannot be used at all; the message is safe to show the sender.
#[derive(Debug, Error)]
pub enum PayloadError {
    #[error("body is not valid JSON: {0}")]
    Json(String),
    #[error("unexpected payload: {0}")]
    Shape(String),
}

/// The handle stored for a post whose author the platform did not name.
pub const UNKNOWN_AUTHOR: &str = "unknown";

/// For a field a post may lack or carry in an unexpected shape: the value
/// if it reads as `T`, else `None`, so one odd field cannot cost the post.
/// A post is stored with what is known; only one without an id is refused.
pub(crate) fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
    Ok(T::deserialize(value).ok())
}

/// Like [`lenient`], for a field with a meaningful default.
pub(crate) fn or_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned + Default,
{
    Ok(lenient(deserializer)?.unwrap_or_default())
}

impl PayloadError {
    fn from_json(err: serde_json::Error) -> Self {
        PayloadError::Json(err.to_string())
    }
}

/// Northwind's watch on `platform`, whose own account is `account`.
#[cfg(test)]
pub(crate) fn northwind_watch(platform: Platform, account: &str) -> crate::domain::Watch {
    let own = crate::domain::Account::parse(account).unwrap();
    let created = "2026-11-24T00:00:00Z".parse().unwrap();
    crate::domain::Watch::new("Northwind", "northwind", vec![platform], vec![own], created).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_polled_platform_has_one_search_in_the_registry() {
        let registered: Vec<Platform> = POLLED.iter().map(|p| p.platform).collect();
        let polled: Vec<Platform> = Platform::polled().collect();
        assert_eq!(registered, polled);
    }
}
