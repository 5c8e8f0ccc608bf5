//! Replies on X: `POST /2/tweets` with `reply.in_reply_to_tweet_id`, as the
//! brand's account (a user-context token; app-only tokens cannot post).

use serde::Deserialize;
use serde_json::json;

use super::{Answer, BearerApi, ReplyHttp, classify};
use crate::config::Secret;
use crate::domain::{Mention, Platform};
use crate::ports::{PostedReply, PublishError, Published};

/// X refuses a post identical to a recent one with this detail (403).
const DUPLICATE_DETAIL: &str = "duplicate content";

pub struct XReplies {
    api: BearerApi,
}

#[derive(Deserialize)]
struct Created {
    data: CreatedPost,
}

#[derive(Deserialize)]
struct CreatedPost {
    id: String,
}

/// X's error document: `{title, detail, type, status}`.
#[derive(Deserialize, Default)]
struct Problem {
    #[serde(default)]
    title: String,
    #[serde(default)]
    detail: String,
}

impl XReplies {
    pub fn new(http: ReplyHttp, base_url: String, token: Secret) -> Self {
        Self {
            api: BearerApi::new(http, base_url, token),
        }
    }

    pub async fn reply(&self, to: &Mention, text: &str) -> Result<Published, PublishError> {
        let tweet_id = native_id(to)?;
        let body = json!({"text": text, "reply": {"in_reply_to_tweet_id": tweet_id}});
        let request = self.api.post_json("2/tweets", &body);
        let answer = self.api.send(Platform::X, request).await?;
        if answer.is_success() {
            let created: Created = answer.json(Platform::X)?;
            return Ok(Published::Posted(PostedReply {
                url: Some(format!("https://x.com/i/web/status/{}", created.data.id)),
                platform_id: Some(created.data.id),
            }));
        }
        refusal(&answer)
    }
}

/// What a non-2xx answer means; a duplicate is the reply already there.
fn refusal(answer: &Answer) -> Result<Published, PublishError> {
    let problem: Problem = serde_json::from_slice(&answer.body).unwrap_or_default();
    if answer.status == 403 && problem.detail.contains(DUPLICATE_DETAIL) {
        return Ok(Published::AlreadyThere);
    }
    let detail = if problem.detail.is_empty() {
        problem.title
    } else {
        problem.detail
    };
    Err(classify(Platform::X, answer, detail))
}

fn native_id(to: &Mention) -> Result<&str, PublishError> {
    to.id
        .as_str()
        .strip_prefix("x:")
        .filter(|id| id.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| PublishError::Refused {
            platform: Platform::X,
            status: 0,
            detail: format!("{} is not an X post id", to.id),
        })
}
