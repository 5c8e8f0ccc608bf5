//! Replies on Mastodon: `POST /api/v1/statuses` with `in_reply_to_id` on
//! the brand's own server. The `Idempotency-Key` makes the server post a
//! retried request once (it keeps keys for an hour).

use serde::Deserialize;
use serde_json::json;

use super::{Answer, BearerApi, ReplyHttp, classify};
use crate::config::Secret;
use crate::domain::{Mention, Platform};
use crate::ports::{PostedReply, PublishError, Published};

pub struct MastodonReplies {
    api: BearerApi,
}

#[derive(Deserialize)]
struct Status {
    id: String,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
struct Found {
    statuses: Vec<Status>,
}

/// Mastodon's error document: `{error, error_description?}`.
#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: String,
}

impl MastodonReplies {
    pub fn new(http: ReplyHttp, base_url: String, token: Secret) -> Self {
        Self {
            api: BearerApi::new(http, base_url, token),
        }
    }

    pub async fn reply(
        &self,
        to: &Mention,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Published, PublishError> {
        let in_reply_to_id = self.local_id(to).await?;
        // A reply reaches its author through a mention of them.
        let handle = format!("@{}", to.author.handle.trim_start_matches('@'));
        let status = if text.contains(&handle) {
            text.to_owned()
        } else {
            format!("{handle} {text}")
        };
        let request = self
            .api
            .post_json(
                "api/v1/statuses",
                &json!({
                    "status": status,
                    "in_reply_to_id": in_reply_to_id,
                    "visibility": "public",
                }),
            )
            .header("Idempotency-Key", idempotency_key);
        let answer = self.api.send(Platform::Mastodon, request).await?;
        if !answer.is_success() {
            return Err(refusal(&answer));
        }
        let posted: Status = answer.json(Platform::Mastodon)?;
        Ok(Published::Posted(PostedReply {
            platform_id: Some(posted.uri.unwrap_or(posted.id)),
            url: posted.url,
        }))
    }

    /// The post's id on the brand's server: read from its URI when it was
    /// written there, else asked of the server's search, which fetches a
    /// remote post it has not seen yet.
    async fn local_id(&self, to: &Mention) -> Result<String, PublishError> {
        let native = to.id.as_str().strip_prefix("mastodon:").unwrap_or_default();
        let base_url = self.api.base_url();
        let own_host = base_url
            .split("://")
            .nth(1)
            .unwrap_or(base_url)
            .trim_end_matches('/');
        if let Some(id) = native
            .strip_prefix(own_host)
            .and_then(|path| path.rsplit_once("/statuses/"))
            .map(|(_, id)| id)
            .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        {
            return Ok(id.to_owned());
        }
        let uri = format!("https://{native}");
        let request = self.api.get(
            "api/v2/search",
            &[
                ("q", uri.as_str()),
                ("type", "statuses"),
                ("resolve", "true"),
                ("limit", "1"),
            ],
        );
        let answer = self.api.send(Platform::Mastodon, request).await?;
        if !answer.is_success() {
            return Err(refusal(&answer));
        }
        let found: Found = answer.json(Platform::Mastodon)?;
        found
            .statuses
            .into_iter()
            .next()
            .map(|status| status.id)
            .ok_or_else(|| PublishError::Refused {
                platform: Platform::Mastodon,
                status: answer.status,
                detail: "the server cannot find the post".into(),
            })
    }
}

fn refusal(answer: &Answer) -> PublishError {
    let body: ErrorBody = serde_json::from_slice(&answer.body).unwrap_or_default();
    let detail = if body.error.is_empty() {
        answer.snippet()
    } else {
        body.error
    };
    classify(Platform::Mastodon, answer, detail)
}
