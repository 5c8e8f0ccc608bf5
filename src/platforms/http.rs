//! Platform HTTP: one reqwest client (rustls, timeouts, an honest
//! User-Agent) and how a platform's answer becomes a page or a [`FetchError`].

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use reqwest::header::HeaderMap;

pub use crate::https::HttpSetupError;
pub use crate::ports::search::FetchError;
use crate::ports::{Page, PageRequest};

/// Sent with every platform request, so operators can see who is calling.
pub const USER_AGENT: &str = concat!(
    "earshot/",
    env!("CARGO_PKG_VERSION"),
    " (brand-mention monitor; polls public search APIs once a minute)"
);

/// How long to wait after a 429 that names no reset time.
pub const DEFAULT_BACKOFF: chrono::Duration = chrono::Duration::seconds(60);

/// The longest any one request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

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

impl From<HttpSetupError> for FetchError {
    fn from(err: HttpSetupError) -> Self {
        FetchError::Network(err.to_string())
    }
}

/// A platform API client sending `user_agent`, with Earshot's connect and
/// request timeouts, on the shared TLS set-up.
pub(crate) fn platform_client(user_agent: &str) -> Result<reqwest::Client, HttpSetupError> {
    Ok(crate::https::client_builder()?
        .user_agent(user_agent)
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build()?)
}

impl Http {
    pub fn new() -> Result<Self, HttpSetupError> {
        Ok(Self {
            client: platform_client(USER_AGENT)?,
        })
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

    /// GETs one page of a search and reads it as [`read_page`] does, with
    /// the platform's own rate-limit headers.
    pub async fn search_page(
        &self,
        url: &str,
        bearer: Option<&str>,
        request: &PageRequest<'_>,
        quota: &Quota,
        parse: impl FnOnce(&Response) -> Result<Page, FetchError>,
    ) -> Result<Page, FetchError> {
        let response = self.get(url, bearer, request.timeout).await?;
        let reset = (quota.reset)(&response, request.now);
        read_page(&response, reset, request.now, quota.remaining_header, parse)
    }
}

/// How a platform's answers tell the rate limit.
pub struct Quota {
    /// The header counting the requests left in the window.
    pub remaining_header: &'static str,
    /// When the window resets, read from an answer received at `now`.
    pub reset: fn(&Response, DateTime<Utc>) -> Option<DateTime<Utc>>,
}

fn classify(err: reqwest::Error) -> FetchError {
    if err.is_timeout() {
        FetchError::Timeout
    } else {
        // Without the URL: query strings may carry search terms or tokens.
        FetchError::Network(err.without_url().to_string())
    }
}

/// A 2xx answer passes; a 429 waits until the platform's `reset` (or a
/// default back-off when it gives none); anything else is an error.
pub fn check_status(
    response: &Response,
    reset: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), FetchError> {
    if response.status == 429 {
        return Err(FetchError::RateLimited {
            until: reset.unwrap_or(now + DEFAULT_BACKOFF),
        });
    }
    if !(200..300).contains(&response.status) {
        return Err(status_error(response));
    }
    Ok(())
}

/// A rate-limit reset header holding a Unix time in seconds.
pub fn epoch_header(response: &Response, name: &str) -> Option<DateTime<Utc>> {
    let epoch = response.header(name)?.trim().parse().ok()?;
    Utc.timestamp_opt(epoch, 0).single()
}

/// Reads a search answer: a rate limit or an error status fails, else the
/// body is parsed, and a page that spent the quota is marked exhausted
/// until `reset`.
pub fn read_page(
    response: &Response,
    reset: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    remaining_header: &str,
    parse: impl FnOnce(&Response) -> Result<Page, FetchError>,
) -> Result<Page, FetchError> {
    check_status(response, reset, now)?;
    let mut page = parse(response)?;
    if quota_spent(response, remaining_header) {
        page.exhausted_until = reset;
    }
    Ok(page)
}

/// A platform's JSON body as `T`; one that does not read is a payload error.
pub fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, FetchError> {
    serde_json::from_slice(body).map_err(|err| FetchError::Payload(err.to_string()))
}

/// Whether the remaining-requests header says the quota is spent. Reddit
/// sends a float (`0.0`); cached answers may send no header at all.
pub fn quota_spent(response: &Response, remaining_header: &str) -> bool {
    response
        .header(remaining_header)
        .and_then(|r| r.trim().parse::<f64>().ok())
        .is_some_and(|remaining| remaining < 1.0)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&'static str, &'static str)]) -> Response {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, value.parse().unwrap());
        }
        Response {
            status,
            headers: map,
            body: br#"{"error":"slow down"}"#.to_vec(),
        }
    }

    #[test]
    fn the_quota_is_spent_at_zero_whatever_the_number_format() {
        assert!(quota_spent(
            &response(200, &[("x-ratelimit-remaining", "0.0")]),
            "x-ratelimit-remaining"
        ));
        assert!(quota_spent(
            &response(200, &[("x-rate-limit-remaining", " 0 ")]),
            "x-rate-limit-remaining"
        ));
        assert!(!quota_spent(
            &response(200, &[("x-ratelimit-remaining", "597.0")]),
            "x-ratelimit-remaining"
        ));
        assert!(
            !quota_spent(&response(200, &[]), "x-ratelimit-remaining"),
            "cached: no header"
        );
    }

    #[test]
    fn a_429_waits_for_the_reset_or_the_default_back_off() {
        let now: DateTime<Utc> = "2026-11-24T10:00:00Z".parse().unwrap();
        let reset: DateTime<Utc> = "2026-11-24T10:05:00Z".parse().unwrap();
        let limited = check_status(&response(429, &[]), Some(reset), now);
        assert!(matches!(limited, Err(FetchError::RateLimited { until }) if until == reset));
        let limited = check_status(&response(429, &[]), None, now);
        assert!(
            matches!(limited, Err(FetchError::RateLimited { until }) if until == now + DEFAULT_BACKOFF)
        );
        let failed = check_status(&response(503, &[]), None, now);
        assert!(matches!(
            failed,
            Err(FetchError::Status { status: 503, .. })
        ));
        assert!(check_status(&response(204, &[]), None, now).is_ok());
    }
}
