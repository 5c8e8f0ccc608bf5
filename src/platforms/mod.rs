//! Each platform's payloads, parsed at the edge into [`Mention`]s.

pub mod bluesky;
pub mod html;
pub mod mastodon;
pub mod meta;
pub mod reddit;
pub mod reply;
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

impl PayloadError {
    fn from_json(err: serde_json::Error) -> Self {
        PayloadError::Json(err.to_string())
    }
}
