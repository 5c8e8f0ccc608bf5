//! A platform's search, as the poller reads it: one page at a time, newest
//! first, from where the last run got to.

use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::domain::{Mention, Platform, Watch};

/// Why a page could not be read. The message is safe to log and to text.
#[derive(Debug, Error)]
pub enum FetchError {
    /// The platform asked us to wait; nothing is wrong with the source.
    #[error("rate limited until {until}")]
    RateLimited { until: DateTime<Utc> },
    #[error("HTTP {status}: {detail}")]
    Status { status: u16, detail: String },
    #[error("request timed out")]
    Timeout,
    #[error("network error: {0}")]
    Network(String),
    #[error("unreadable response: {0}")]
    Payload(String),
    #[error("not configured: {0}")]
    NotConfigured(&'static str),
}

/// What a source is asked for: the watch, where the last run got to
/// (`cursor`), and the page to read (`None`: the newest).
pub struct PageRequest<'a> {
    pub watch: &'a Watch,
    pub cursor: Option<&'a str>,
    pub page: Option<&'a str>,
    /// Read nothing older than this (first runs and time-based cursors).
    pub horizon: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub timeout: StdDuration,
}

/// One page of search results.
#[derive(Debug, Default)]
pub struct Page {
    pub mentions: Vec<Mention>,
    /// Posts on the page that could not be read.
    pub rejected: usize,
    /// The token for the next, older page; `None` when this was the last.
    pub next: Option<String>,
    /// The newest position on the page; from the first page it becomes the
    /// cursor once every page is stored.
    pub newest: Option<String>,
    /// The platform said no more requests before this time.
    pub exhausted_until: Option<DateTime<Utc>>,
}

/// A platform's search, as the poller uses it.
#[async_trait]
pub trait SearchSource: Send + Sync {
    fn platform(&self) -> Platform;
    async fn fetch(&self, request: &PageRequest<'_>) -> Result<Page, FetchError>;
}
