//! Replies on Facebook and Instagram through the Graph API, with a Page
//! access token: a Facebook comment answers with `POST /{id}/comments`, an
//! Instagram comment with `POST /{ig-comment-id}/replies`. Graph errors
//! carry a code that says more than the HTTP status.

use serde::Deserialize;

use super::{Answer, BearerApi, ReplyHttp, classify};
use crate::config::Secret;
use crate::domain::{Mention, Platform};
use crate::ports::{PostedReply, PublishError, Published};

/// Graph error codes: the token is invalid or expired.
const TOKEN_CODES: &[u64] = &[102, 190];
/// A permission is missing (10, 200-299): a person must grant it.
fn is_permission(code: u64) -> bool {
    code == 10 || (200..300).contains(&code)
}
/// Application, user or Page throttling.
const THROTTLE_CODES: &[u64] = &[4, 17, 32, 341, 613];
/// Temporary Graph-side failures.
const TRANSIENT_CODES: &[u64] = &[1, 2];
/// The same comment was just posted.
const DUPLICATE_CODE: u64 = 506;

pub struct MetaReplies {
    api: BearerApi,
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

#[derive(Deserialize, Default)]
struct GraphErrorBody {
    #[serde(default)]
    error: GraphError,
}

#[derive(Deserialize, Default)]
struct GraphError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: u64,
}

impl MetaReplies {
    pub fn new(http: ReplyHttp, base_url: String, token: Secret) -> Self {
        Self {
            api: BearerApi::new(http, base_url, token),
        }
    }

    pub async fn reply(&self, to: &Mention, text: &str) -> Result<Published, PublishError> {
        let platform = to.platform;
        let (prefix, edge) = match platform {
            Platform::Facebook => ("facebook:", "comments"),
            Platform::Instagram => ("instagram:", "replies"),
            other => return Err(PublishError::NotSupported(other)),
        };
        let object_id = to
            .id
            .as_str()
            .strip_prefix(prefix)
            .filter(|id| id.bytes().all(|b| b.is_ascii_digit() || b == b'_'))
            .ok_or_else(|| PublishError::Refused {
                platform,
                status: 0,
                detail: format!("{} is not a Graph object id", to.id),
            })?;
        let request = self
            .api
            .post_form(&format!("{object_id}/{edge}"), &[("message", text)]);
        let answer = self.api.send(platform, request).await?;
        if !answer.is_success() {
            return refusal(platform, &answer);
        }
        let created: Created = answer.json(platform)?;
        let url = match platform {
            Platform::Facebook => format!("https://www.facebook.com/{}", created.id),
            // Instagram gives comments no page of their own: link the post.
            _ => to.url.clone(),
        };
        Ok(Published::Posted(PostedReply {
            platform_id: Some(created.id),
            url: Some(url),
        }))
    }
}

fn refusal(platform: Platform, answer: &Answer) -> Result<Published, PublishError> {
    let GraphErrorBody { error } = serde_json::from_slice(&answer.body).unwrap_or_default();
    let code = error.code;
    let detail = if error.message.is_empty() {
        answer.snippet()
    } else {
        format!("{} (code {code})", error.message)
    };
    match code {
        DUPLICATE_CODE => Ok(Published::AlreadyThere),
        c if TOKEN_CODES.contains(&c) || is_permission(c) => Err(PublishError::Token {
            platform,
            status: answer.status,
            detail,
        }),
        c if THROTTLE_CODES.contains(&c) => Err(PublishError::RateLimited {
            platform,
            retry_after: answer.retry_after,
        }),
        c if TRANSIENT_CODES.contains(&c) => Err(PublishError::Unavailable { platform, detail }),
        _ => Err(classify(platform, answer, detail)),
    }
}
