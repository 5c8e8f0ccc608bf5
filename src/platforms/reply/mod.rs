//! Posting the brand's public replies: one client per platform behind
//! [`PublicReplies`], chosen by the post's own platform. Rate limits and
//! server errors are tried once more; a refused token never is.

pub mod bluesky;
pub mod mastodon;
pub mod meta;
pub mod x;

use std::time::Duration;

use async_trait::async_trait;
use tracing::{info, warn};

use super::http::{HttpSetupError, platform_client};
use crate::config::{self, Secret};
use crate::domain::{Mention, Platform};
use crate::ports::{PublicReplies, PublishError, Published};

/// The longest a `Retry-After` is honoured before the one retry; beyond
/// it the attempt fails and staff hear why.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(3);

/// Sent with every reply request, so operators can see who is calling.
const USER_AGENT: &str = concat!(
    "earshot/",
    env!("CARGO_PKG_VERSION"),
    " (posts a brand's approved replies)"
);

/// A platform's answer, as the clients read it.
pub(crate) struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    /// Seconds the platform asked us to wait, if it said.
    pub retry_after: Option<u64>,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn json<T: serde::de::DeserializeOwned>(
        &self,
        platform: Platform,
    ) -> Result<T, PublishError> {
        serde_json::from_slice(&self.body).map_err(|err| PublishError::Unavailable {
            platform,
            detail: format!("unreadable answer: {err}"),
        })
    }

    /// The start of the body, for an error message.
    pub fn snippet(&self) -> String {
        String::from_utf8_lossy(&self.body)
            .chars()
            .take(200)
            .collect()
    }
}

/// The HTTP client every reply client shares (rustls, timeouts).
#[derive(Clone)]
pub struct ReplyHttp {
    client: reqwest::Client,
}

impl ReplyHttp {
    pub fn new() -> Result<Self, HttpSetupError> {
        Ok(Self {
            client: platform_client(USER_AGENT)?,
        })
    }

    pub(crate) fn post(&self, url: &str) -> reqwest::RequestBuilder {
        self.client.post(url).header("accept", "application/json")
    }

    pub(crate) fn post_json(&self, url: &str, body: &serde_json::Value) -> reqwest::RequestBuilder {
        self.post(url)
            .header("content-type", "application/json")
            .body(body.to_string())
    }

    pub(crate) fn post_form(&self, url: &str, fields: &[(&str, &str)]) -> reqwest::RequestBuilder {
        self.post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode(fields))
    }

    pub(crate) fn get(&self, url: &str, query: &[(&str, &str)]) -> reqwest::RequestBuilder {
        self.client
            .get(format!("{url}?{}", encode(query)))
            .header("accept", "application/json")
    }

    /// Sends the request; no answer at all is [`PublishError::Unavailable`].
    pub(crate) async fn send(
        &self,
        platform: Platform,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer, PublishError> {
        let response = request
            .send()
            .await
            .map_err(|err| PublishError::Unavailable {
                platform,
                detail: if err.is_timeout() {
                    "no answer in time".into()
                } else {
                    "cannot connect".into()
                },
            })?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let body = response
            .bytes()
            .await
            .map_err(|_| PublishError::Unavailable {
                platform,
                detail: "the answer was cut off".into(),
            })?;
        Ok(Answer {
            status,
            body: body.to_vec(),
            retry_after,
        })
    }
}

/// The usual reading of a status no platform-specific rule claimed:
/// 401/403 the token, 429 the rate limit, 5xx unavailable, other 4xx a
/// refusal.
pub(crate) fn classify(platform: Platform, answer: &Answer, detail: String) -> PublishError {
    match answer.status {
        401 | 403 => PublishError::Token {
            platform,
            status: answer.status,
            detail,
        },
        429 => PublishError::RateLimited {
            platform,
            retry_after: answer.retry_after,
        },
        status if status >= 500 => PublishError::Unavailable {
            platform,
            detail: format!("HTTP {status}"),
        },
        status => PublishError::Refused {
            platform,
            status,
            detail,
        },
    }
}

/// One platform's API called with a bearer token (X, Mastodon, Meta's
/// Graph): each request goes to a path under `base_url`, authorized.
pub(crate) struct BearerApi {
    http: ReplyHttp,
    base_url: String,
    token: Secret,
}

impl BearerApi {
    pub(crate) fn new(http: ReplyHttp, base_url: String, token: Secret) -> Self {
        Self {
            http,
            base_url,
            token,
        }
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    pub(crate) fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::RequestBuilder {
        self.authorized(self.http.post_json(&join(&self.base_url, path), body))
    }

    pub(crate) fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::RequestBuilder {
        self.authorized(self.http.post_form(&join(&self.base_url, path), fields))
    }

    pub(crate) fn get(&self, path: &str, query: &[(&str, &str)]) -> reqwest::RequestBuilder {
        self.authorized(self.http.get(&join(&self.base_url, path), query))
    }

    pub(crate) async fn send(
        &self,
        platform: Platform,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer, PublishError> {
        self.http.send(platform, request).await
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.bearer_auth(self.token.expose_str())
    }
}

fn encode(fields: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

pub(crate) fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// Where each platform's API lives, from configuration (the public
/// services by default).
#[derive(Debug, Clone)]
pub struct ReplyEndpoints {
    pub x: String,
    pub bluesky_pds: String,
    pub mastodon: String,
    pub meta_graph: String,
}

impl ReplyEndpoints {
    pub fn from_env() -> Self {
        Self {
            x: config::X_API.url(),
            bluesky_pds: config::BLUESKY_PDS.url(),
            mastodon: config::MASTODON_API.url(),
            meta_graph: config::META_GRAPH_API.url(),
        }
    }
}

/// The credentials for replying; a platform without them answers
/// [`PublishError::NotConfigured`].
#[derive(Debug, Default, Clone)]
pub struct ReplyCredentials {
    /// An OAuth 2.0 user-context access token with `tweet.write`.
    pub x_token: Option<Secret>,
    /// The brand's handle (or DID) and an app password.
    pub bluesky: Option<(String, Secret)>,
    /// A token with `write:statuses` on the Mastodon server.
    pub mastodon_token: Option<Secret>,
    /// A Page access token (also answers on the linked Instagram account).
    pub meta_token: Option<Secret>,
}

impl ReplyCredentials {
    /// From the environment only, for local use.
    pub fn from_env() -> Self {
        let secret = |name| config::optional(name).map(Secret::new);
        Self {
            x_token: secret(config::X_REPLY_TOKEN_VAR),
            bluesky: config::optional(config::BLUESKY_REPLY_HANDLE_VAR)
                .zip(secret(config::BLUESKY_APP_PASSWORD_VAR)),
            mastodon_token: secret(config::MASTODON_REPLY_TOKEN_VAR),
            meta_token: secret(config::META_REPLY_TOKEN_VAR),
        }
    }
}

/// Every platform's reply client, chosen by the post's platform.
pub struct PlatformReplies {
    x: Option<x::XReplies>,
    bluesky: Option<bluesky::BlueskyReplies>,
    mastodon: Option<mastodon::MastodonReplies>,
    meta: Option<meta::MetaReplies>,
}

impl PlatformReplies {
    pub fn new(http: ReplyHttp, endpoints: ReplyEndpoints, credentials: ReplyCredentials) -> Self {
        Self {
            x: credentials
                .x_token
                .map(|token| x::XReplies::new(http.clone(), endpoints.x, token)),
            bluesky: credentials.bluesky.map(|(handle, password)| {
                bluesky::BlueskyReplies::new(http.clone(), endpoints.bluesky_pds, handle, password)
            }),
            mastodon: credentials.mastodon_token.map(|token| {
                mastodon::MastodonReplies::new(http.clone(), endpoints.mastodon, token)
            }),
            meta: credentials
                .meta_token
                .map(|token| meta::MetaReplies::new(http, endpoints.meta_graph, token)),
        }
    }

    async fn attempt(
        &self,
        to: &Mention,
        text: &str,
        key: &str,
    ) -> Result<Published, PublishError> {
        let missing = || PublishError::NotConfigured(to.platform);
        match to.platform {
            Platform::X => self.x.as_ref().ok_or_else(missing)?.reply(to, text).await,
            Platform::Bluesky => {
                self.bluesky
                    .as_ref()
                    .ok_or_else(missing)?
                    .reply(to, text)
                    .await
            }
            Platform::Mastodon => {
                self.mastodon
                    .as_ref()
                    .ok_or_else(missing)?
                    .reply(to, text, key)
                    .await
            }
            Platform::Facebook | Platform::Instagram => {
                self.meta
                    .as_ref()
                    .ok_or_else(missing)?
                    .reply(to, text)
                    .await
            }
            Platform::Reddit => Err(PublishError::NotSupported(Platform::Reddit)),
        }
    }
}

#[async_trait]
impl PublicReplies for PlatformReplies {
    #[tracing::instrument(skip_all, fields(mention = %to.id, platform = %to.platform))]
    async fn reply(
        &self,
        to: &Mention,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Published, PublishError> {
        match self.attempt(to, text, idempotency_key).await {
            Err(err) if err.is_retryable() => {
                warn!(error = %err, "reply not posted; trying once more");
                if let PublishError::RateLimited {
                    retry_after: Some(seconds),
                    ..
                } = err
                {
                    tokio::time::sleep(MAX_RETRY_WAIT.min(Duration::from_secs(seconds))).await;
                }
                let second = self.attempt(to, text, idempotency_key).await;
                if second.is_ok() {
                    info!("reply posted on the second attempt");
                }
                second
            }
            first => first,
        }
    }
}
