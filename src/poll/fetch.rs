//! The HTTP side of polling: one reqwest client (rustls, timeouts, an
//! honest User-Agent) and the errors a platform request can end in.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use thiserror::Error;

/// Sent with every platform request, so operators can see who is calling.
pub const USER_AGENT: &str = concat!(
    "earshot/",
    env!("CARGO_PKG_VERSION"),
    " (brand-mention monitor; polls public search APIs once a minute)"
);

/// The longest any one request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

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

/// A response as the platform modules read it.
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A shared HTTP client for every platform.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
}

impl Http {
    pub fn new() -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|err| FetchError::Network(err.to_string()))?;
        Ok(Self { client })
    }

    /// GETs `url`, giving up after `timeout`. Non-2xx answers come back as
    /// responses for the platform to read (rate-limit headers live there).
    pub async fn get(
        &self,
        url: &str,
        bearer: Option<&str>,
        timeout: Duration,
    ) -> Result<Response, FetchError> {
        let mut request = self
            .client
            .get(url)
            .header("accept", "application/json")
            .timeout(timeout.min(REQUEST_TIMEOUT));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(classify)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(classify)?.to_vec();
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

fn classify(err: reqwest::Error) -> FetchError {
    if err.is_timeout() {
        FetchError::Timeout
    } else {
        // Without the URL: query strings may carry search terms or tokens.
        FetchError::Network(err.without_url().to_string())
    }
}

/// A short, safe description of an error body: the first line, trimmed.
pub fn status_error(response: &Response) -> FetchError {
    let text = String::from_utf8_lossy(&response.body);
    let detail: String = text
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(160)
        .collect();
    FetchError::Status {
        status: response.status,
        detail,
    }
}

/// Builds `base` + `path` + an encoded query string.
pub fn url(base: &str, path: &str, params: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().filter(|(_, v)| !v.is_empty()))
        .finish();
    let base = base.trim_end_matches('/');
    if query.is_empty() {
        format!("{base}{path}")
    } else {
        format!("{base}{path}?{query}")
    }
}
