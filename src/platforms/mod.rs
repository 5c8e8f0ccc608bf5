//! Each platform's payloads, parsed at the edge into [`Mention`]s.

pub mod bluesky;
pub mod html;
pub mod mastodon;
pub mod meta;
pub mod reddit;
pub mod x;
pub mod x_search;
pub mod x_v2;

use thiserror::Error;

use crate::domain::Mention;

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
