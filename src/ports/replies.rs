//! Answering a post in public: the platforms' side (post a reply) and the
//! store's side (each approved reply goes out once per alert).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::StoreError;
use crate::domain::{Mention, MentionId, Platform};

/// A reply the platform accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostedReply {
    /// The platform's id for the reply (for Mastodon, the status URI that
    /// names it across servers); absent when the platform only said the
    /// same reply was already there.
    pub platform_id: Option<String>,
    /// Where people can see it, when known.
    pub url: Option<String>,
}

/// Why a reply was not posted. The message is safe to text to staff.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PublishError {
    /// The token is missing, expired, revoked or lacks a permission: only a
    /// person can fix that, so it is not retried.
    #[error("{platform} refused the token (HTTP {status}): {detail}")]
    Token {
        platform: Platform,
        status: u16,
        detail: String,
    },
    #[error("{platform} rate limit reached")]
    RateLimited {
        platform: Platform,
        /// Seconds the platform asked us to wait, if it said.
        retry_after: Option<u64>,
    },
    /// A server error or no answer: worth one more try.
    #[error("{platform} is unavailable: {detail}")]
    Unavailable { platform: Platform, detail: String },
    /// The platform read the request and said no (policy, validation, a
    /// post that cannot be answered); retrying changes nothing.
    #[error("{platform} refused the reply (HTTP {status}): {detail}")]
    Refused {
        platform: Platform,
        status: u16,
        detail: String,
    },
    #[error("replies on {0} are not set up")]
    NotConfigured(Platform),
    #[error("Earshot cannot reply on {0}")]
    NotSupported(Platform),
}

impl PublishError {
    /// Rate limits and server errors may pass; a token or a refusal won't.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            PublishError::RateLimited { .. } | PublishError::Unavailable { .. }
        )
    }
}

/// What a platform answered to a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published {
    Posted(PostedReply),
    /// The platform says this very reply is already there (a retried
    /// request): done, though it gives no link.
    AlreadyThere,
}

#[async_trait]
pub trait PublicReplies: Send + Sync {
    /// Posts `text` as the brand's public reply to `to`, on its platform.
    /// `idempotency_key` is the same for every attempt at the same reply,
    /// for platforms that deduplicate by key.
    async fn reply(
        &self,
        to: &Mention,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Published, PublishError>;
}

/// Who holds the right to post one approved reply to one alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyClaim {
    /// This caller posts now, then records the outcome.
    Granted,
    /// Already posted; posting again would say it twice in public.
    Posted(PostedReply),
    /// Another caller is posting it right now.
    InFlight,
}

/// What became of one reply attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyOutcome {
    Posted(PostedReply),
    /// Not posted; a later `REPLY` may try again.
    Failed {
        reason: String,
    },
}

#[async_trait]
pub trait ReplyLedger: Send + Sync {
    /// Claims the posting of template `template` to `mention`, by one
    /// conditional write. A claim neither posted nor failed lapses at
    /// `lease_until`, so a poster that died does not block it forever.
    async fn claim_reply(
        &self,
        mention: &MentionId,
        template: u32,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<ReplyClaim, StoreError>;

    async fn record_reply(
        &self,
        mention: &MentionId,
        template: u32,
        outcome: &ReplyOutcome,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}
