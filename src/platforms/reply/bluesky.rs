//! Replies on Bluesky: log in with an app password
//! (`com.atproto.server.createSession`), keep the session for the life of
//! the function (logins are limited to 30 per 5 minutes), then
//! `com.atproto.repo.createRecord` with the reply's root and parent. An
//! expired access token is refreshed once; a refused refresh logs in again.

use std::sync::Mutex;

use chrono::{SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::json;
use tracing::info;

use super::{Answer, ReplyHttp, classify, join};
use crate::config::Secret;
use crate::domain::{Mention, Platform};
use crate::ports::{PostedReply, PublishError, Published};

const POST_COLLECTION: &str = "app.bsky.feed.post";

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Session {
    access_jwt: String,
    refresh_jwt: String,
    did: String,
}

/// XRPC's error document: `{error, message}`.
#[derive(Deserialize, Default)]
struct XrpcError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
struct StrongRef {
    uri: String,
    cid: String,
}

#[derive(Deserialize)]
struct Posts {
    posts: Vec<PostView>,
}

#[derive(Deserialize)]
struct PostView {
    uri: String,
    cid: String,
    record: PostRecord,
}

#[derive(Deserialize)]
struct PostRecord {
    #[serde(default)]
    reply: Option<ReplyRefs>,
}

#[derive(Deserialize)]
struct ReplyRefs {
    root: StrongRef,
}

pub struct BlueskyReplies {
    http: ReplyHttp,
    pds: String,
    identifier: String,
    password: Secret,
    session: Mutex<Option<Session>>,
}

impl BlueskyReplies {
    pub fn new(http: ReplyHttp, pds: String, identifier: String, password: Secret) -> Self {
        Self {
            http,
            pds,
            identifier,
            password,
            session: Mutex::new(None),
        }
    }

    pub async fn reply(&self, to: &Mention, text: &str) -> Result<Published, PublishError> {
        let parent_uri = post_uri(to)?;
        let thread = self.thread_of(&parent_uri).await?;
        let created_at = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
        let answer = self
            .authorised(|http, session| {
                let record = json!({
                    "repo": session.did,
                    "collection": POST_COLLECTION,
                    "record": {
                        "$type": POST_COLLECTION,
                        "text": text,
                        "createdAt": created_at,
                        "reply": {"root": thread.root, "parent": thread.parent},
                    },
                });
                http.post_json(
                    &join(&self.pds, "xrpc/com.atproto.repo.createRecord"),
                    &record,
                )
                .bearer_auth(&session.access_jwt)
            })
            .await?;
        if !answer.is_success() {
            return Err(refusal(&answer));
        }
        let created: StrongRef = answer.json(Platform::Bluesky)?;
        Ok(Published::Posted(PostedReply {
            url: web_link(&created.uri),
            platform_id: Some(created.uri),
        }))
    }

    /// The post answered (parent) and the first post of its thread (root).
    async fn thread_of(&self, parent_uri: &str) -> Result<Thread, PublishError> {
        let answer = self
            .authorised(|http, session| {
                http.get(
                    &join(&self.pds, "xrpc/app.bsky.feed.getPosts"),
                    &[("uris", parent_uri)],
                )
                .bearer_auth(&session.access_jwt)
            })
            .await?;
        if !answer.is_success() {
            return Err(refusal(&answer));
        }
        let posts: Posts = answer.json(Platform::Bluesky)?;
        let post = posts
            .posts
            .into_iter()
            .next()
            .ok_or_else(|| PublishError::Refused {
                platform: Platform::Bluesky,
                status: answer.status,
                detail: "the post is gone".into(),
            })?;
        let parent = StrongRef {
            uri: post.uri,
            cid: post.cid,
        };
        let root = post
            .record
            .reply
            .map_or_else(|| parent.clone(), |reply| reply.root);
        Ok(Thread { root, parent })
    }

    /// Sends a request built with the current session; an expired access
    /// token is refreshed (or the account logs in again) and the request
    /// sent once more.
    async fn authorised(
        &self,
        build: impl Fn(&ReplyHttp, &Session) -> reqwest::RequestBuilder,
    ) -> Result<Answer, PublishError> {
        let session = self.session().await?;
        let answer = self
            .http
            .send(Platform::Bluesky, build(&self.http, &session))
            .await?;
        if !is_expired(&answer) {
            return Ok(answer);
        }
        info!("Bluesky access token expired; refreshing the session");
        let session = self.refresh(&session).await?;
        self.http
            .send(Platform::Bluesky, build(&self.http, &session))
            .await
    }

    async fn session(&self) -> Result<Session, PublishError> {
        if let Some(session) = self.lock().clone() {
            return Ok(session);
        }
        self.log_in().await
    }

    async fn log_in(&self) -> Result<Session, PublishError> {
        let request = self.http.post_json(
            &join(&self.pds, "xrpc/com.atproto.server.createSession"),
            &json!({"identifier": self.identifier, "password": self.password.expose_str()}),
        );
        let answer = self.http.send(Platform::Bluesky, request).await?;
        if !answer.is_success() {
            return Err(refusal(&answer));
        }
        let session: Session = answer.json(Platform::Bluesky)?;
        *self.lock() = Some(session.clone());
        Ok(session)
    }

    /// `refreshSession` retires the old refresh token; when it is refused
    /// too, a fresh login is the only way back.
    async fn refresh(&self, expired: &Session) -> Result<Session, PublishError> {
        let request = self
            .http
            .post(&join(&self.pds, "xrpc/com.atproto.server.refreshSession"))
            .bearer_auth(&expired.refresh_jwt);
        let answer = self.http.send(Platform::Bluesky, request).await?;
        if answer.is_success() {
            let session: Session = answer.json(Platform::Bluesky)?;
            *self.lock() = Some(session.clone());
            return Ok(session);
        }
        info!(
            status = answer.status,
            "Bluesky refresh refused; logging in again"
        );
        *self.lock() = None;
        self.log_in().await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Session>> {
        self.session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

struct Thread {
    root: StrongRef,
    parent: StrongRef,
}

fn xrpc_error(answer: &Answer) -> XrpcError {
    serde_json::from_slice(&answer.body).unwrap_or_default()
}

fn is_expired(answer: &Answer) -> bool {
    matches!(answer.status, 400 | 401) && xrpc_error(answer).error == "ExpiredToken"
}

fn refusal(answer: &Answer) -> PublishError {
    let error = xrpc_error(answer);
    let detail = match (error.error.is_empty(), error.message.is_empty()) {
        (false, false) => format!("{}: {}", error.error, error.message),
        (false, true) => error.error.clone(),
        _ => answer.snippet(),
    };
    // XRPC answers a bad or expired token with 400 as well as 401.
    if answer.status == 400 && matches!(error.error.as_str(), "ExpiredToken" | "InvalidToken") {
        return PublishError::Token {
            platform: Platform::Bluesky,
            status: answer.status,
            detail,
        };
    }
    classify(Platform::Bluesky, answer, detail)
}

/// `bluesky:<did>/<rkey>` → `at://<did>/app.bsky.feed.post/<rkey>`.
fn post_uri(to: &Mention) -> Result<String, PublishError> {
    to.id
        .as_str()
        .strip_prefix("bluesky:")
        .and_then(|native| native.rsplit_once('/'))
        .filter(|(did, rkey)| did.starts_with("did:") && !rkey.is_empty())
        .map(|(did, rkey)| format!("at://{did}/{POST_COLLECTION}/{rkey}"))
        .ok_or_else(|| PublishError::Refused {
            platform: Platform::Bluesky,
            status: 0,
            detail: format!("{} is not a Bluesky post id", to.id),
        })
}

/// `at://<did>/app.bsky.feed.post/<rkey>` → its bsky.app page.
fn web_link(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("at://")?;
    let (did, rest) = rest.split_once('/')?;
    let rkey = rest.strip_prefix(POST_COLLECTION)?.strip_prefix('/')?;
    Some(format!("https://bsky.app/profile/{did}/post/{rkey}"))
}
