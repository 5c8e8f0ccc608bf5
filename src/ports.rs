//! The narrow interfaces the domain needs from the outside world. Each has a
//! DynamoDB/SNS adapter for Lambda and an embedded one for local use.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::sms::SmsText;

use crate::domain::{
    AlertCode, AlertState, Mention, MentionId, MentionRecord, OnCallContact, PhoneNumber, Platform,
};

/// A storage failure, with a short code and message (never a full dump)
/// and its class: whether trying again may help.
#[derive(Debug, Error)]
pub enum StoreError {
    /// Throttling, a 5xx, a timeout or a lost connection: retryable.
    #[error("storage is unavailable: {0}")]
    Unavailable(String),
    /// The store refused the call itself (validation): the same call will
    /// fail again.
    #[error("storage refused the call: {0}")]
    Rejected(String),
    /// A stored item cannot be read: reading it again will not help.
    #[error("stored data is not in the expected shape: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether the same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// One account on one platform.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuthorKey {
    pub platform: Platform,
    pub author_id: String,
}

impl AuthorKey {
    pub fn of(mention: &Mention) -> Self {
        Self {
            platform: mention.platform,
            author_id: mention.author.id.clone(),
        }
    }
}

impl std::fmt::Display for AuthorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.platform, self.author_id)
    }
}

/// The result of writing a mention that may already be stored.
#[derive(Debug, Clone, PartialEq)]
pub enum Inserted {
    New,
    /// The id was already stored (a duplicate delivery or a retry); this is
    /// the stored record, which wins over the incoming one.
    Existing(Box<MentionRecord>),
    /// The record's reply code belongs to another mention; nothing was
    /// stored, and the record may be tried again with another code.
    CodeTaken,
}

/// Who is sending: one token per delivery attempt. A store that meets its
/// own token on a claim (an SDK retry of a write that was already applied)
/// grants the claim again instead of reading it as another sender's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimant(String);

impl Claimant {
    /// A token no other attempt holds: the time, the process and a counter,
    /// mixed with the process's random hashing keys.
    pub fn fresh() -> Self {
        use std::hash::{BuildHasher, Hasher};
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        Self(format!("{:016x}{:016x}", hasher.finish(), nanos as u64))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who holds the right to send one mention's SMS to one phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This caller must send now, then record the outcome.
    Granted,
    /// Already sent: sending again would double the SMS.
    AlreadySent,
    /// Held back for the phone's summary; not to be sent on its own.
    Held,
    /// Another caller is sending right now.
    InFlight,
}

/// What became of one SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent {
        message_id: String,
    },
    Failed {
        reason: String,
    },
    /// Not sent, and never to be sent on its own: it waits in the phone's
    /// summary of held alerts.
    Held {
        reason: HoldReason,
    },
}

#[async_trait]
pub trait MentionStore: Send + Sync {
    /// Writes the record unless its id is already stored, atomically. A
    /// record with a reply code reserves the code for the mention in the
    /// same write (one round trip for an urgent post), or stores nothing if
    /// another mention holds it.
    async fn insert_mention(&self, record: &MentionRecord) -> Result<Inserted, StoreError>;

    async fn get_mention(&self, id: &MentionId) -> Result<Option<MentionRecord>, StoreError>;

    /// Mentions received after `since` and up to `until`, newest first.
    async fn recent_mentions(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<MentionRecord>, StoreError>;

    /// The author's mentions created after `since`, newest first: how often
    /// this person has posted about the brand lately.
    async fn author_mentions(
        &self,
        author: &AuthorKey,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<MentionRecord>, StoreError>;

    async fn set_alert_state(&self, id: &MentionId, state: &AlertState) -> Result<(), StoreError>;

    /// Urgent alerts nobody has acknowledged yet, raised at or before
    /// `raised_before`, oldest first.
    async fn open_alerts(
        &self,
        raised_before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<MentionRecord>, StoreError>;

    /// Moves an acknowledged alert from the escalation list to the reminder
    /// list, due at `remind_at`.
    async fn own_alert(&self, id: &MentionId, remind_at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Books an owned alert's next reminder at `next`, if the current one is
    /// due by `now`; true for the one caller that should send the current
    /// reminder (two runs that both saw it due cannot both send it).
    async fn book_reminder(
        &self,
        id: &MentionId,
        now: DateTime<Utc>,
        next: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Brings an owned alert's reminder forward to `remind_at`, unless it is
    /// already due sooner; true if it moved.
    async fn remind_by(&self, id: &MentionId, remind_at: DateTime<Utc>)
    -> Result<bool, StoreError>;

    /// Acknowledged alerts whose reminder is due at or before `now`,
    /// oldest first.
    async fn reminders_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<MentionRecord>, StoreError>;

    /// Takes a mention off both lists: closed, or nobody is paged any more.
    async fn settle_alert(&self, id: &MentionId) -> Result<(), StoreError>;

    /// Claims the sending of `mention`'s SMS to `phone` for `claimant`. A
    /// claim that is neither sent nor failed lapses at `lease_until`, so a
    /// sender that died mid-way does not block the phone for long; a claim
    /// `claimant` already holds is granted to it again.
    async fn claim_delivery(
        &self,
        mention: &MentionId,
        phone: &PhoneNumber,
        claimant: &Claimant,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Claim, StoreError>;

    /// Gives up a claim `claimant` still holds, nothing sent, so the next
    /// attempt may take it at once; `reason` says why (a short code and
    /// message). A claim someone else holds, or that ended, is left alone.
    async fn release_delivery(
        &self,
        mention: &MentionId,
        phone: &PhoneNumber,
        claimant: &Claimant,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Stores what became of the alert's SMS to `phone`, ending its claim.
    /// A sent SMS, in the same write, becomes the phone's latest alert (a
    /// bare ACK from the phone means `code`) and is linked to its message
    /// id for its delivery receipt.
    async fn record_delivery(
        &self,
        mention: &MentionId,
        code: &AlertCode,
        phone: &PhoneNumber,
        outcome: &Delivery,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

#[async_trait]
pub trait RosterStore: Send + Sync {
    /// Adds or renames the person carrying `phone`.
    async fn put_contact(&self, contact: &OnCallContact) -> Result<(), StoreError>;
    async fn contacts(&self) -> Result<Vec<OnCallContact>, StoreError>;
    /// True if the phone was on the roster.
    async fn remove_contact(&self, phone: &PhoneNumber) -> Result<bool, StoreError>;
}

#[derive(Debug, Error)]
#[error("SMS to {phone:?} was not accepted: {reason}")]
pub struct SmsError {
    pub phone: PhoneNumber,
    /// A short code and message.
    pub reason: String,
    /// The carrier may have accepted it after all (a timeout, a connection
    /// lost after sending, a server error): sending again may double it.
    pub outcome_unknown: bool,
}

#[async_trait]
pub trait SmsSender: Send + Sync {
    /// Hands one SMS to the carrier; returns the provider's message id.
    async fn send(&self, to: &PhoneNumber, body: &SmsText) -> Result<String, SmsError>;
}

/// Who took an alert, and when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ownership {
    pub name: String,
    pub phone: PhoneNumber,
    pub at: DateTime<Utc>,
}

/// The result of an ACK: the first one wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acknowledged {
    Won,
    /// Someone else (or this person, earlier) already has it.
    AlreadyOwned(Ownership),
}

/// What staff replies change: ownership, completion and feedback.
#[async_trait]
pub trait FollowUpStore: Send + Sync {
    /// The mention an alert code was given to.
    async fn mention_for_code(&self, code: &AlertCode) -> Result<Option<MentionId>, StoreError>;

    /// Remembers the last alert sent to a phone, for a bare `ACK`.
    async fn set_latest_alert(
        &self,
        phone: &PhoneNumber,
        code: &AlertCode,
    ) -> Result<(), StoreError>;
    async fn latest_alert(&self, phone: &PhoneNumber) -> Result<Option<AlertCode>, StoreError>;

    /// True the first time an inbound message id is seen: SNS may deliver
    /// the same inbound SMS twice.
    async fn first_sight_of_inbound(
        &self,
        message_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Takes the alert for `owner` unless someone already has it.
    async fn acknowledge(
        &self,
        mention: &MentionId,
        owner: &Ownership,
    ) -> Result<Acknowledged, StoreError>;
    async fn owner(&self, mention: &MentionId) -> Result<Option<Ownership>, StoreError>;

    /// Marks the alert done; `None` the first time, else who closed it.
    async fn close(
        &self,
        mention: &MentionId,
        by: &Ownership,
    ) -> Result<Option<Ownership>, StoreError>;

    /// Who closed the alert, if anyone has.
    async fn closed(&self, mention: &MentionId) -> Result<Option<Ownership>, StoreError>;

    /// Keeps a staff verdict that the alert was a false alarm.
    async fn record_noise(&self, mention: &MentionId, by: &Ownership) -> Result<(), StoreError>;

    /// Whether anyone called the alert a false alarm.
    async fn noise_reported(&self, mention: &MentionId) -> Result<bool, StoreError>;

    /// Opts a roster phone out of (or back into) alerts; false if the phone
    /// is not on the roster.
    async fn set_opted_out(&self, phone: &PhoneNumber, opted_out: bool)
    -> Result<bool, StoreError>;
}

pub mod budget;
pub mod bursts;
pub mod handover;
pub mod receipts;
pub mod replies;
pub mod rota;
pub mod search;
pub mod sources;
pub mod voice;
pub use budget::{HeldAlert, HoldReason, SmsBudget, SmsLimits, Spend, day_window, hour_window};
pub use bursts::{BurstLog, BurstLogStore, Saved, VersionedLog};
pub use handover::{ChainNews, HandOverStore, Offer};
pub use receipts::{Marked, PhoneHealth, Receipt, ReceiptStatus, ReceiptStore, SentSms};
pub use replies::{
    PostedReply, PublicReplies, PublishError, Published, ReplyClaim, ReplyLedger, ReplyOutcome,
};
pub use rota::RotaStore;
pub use search::{Page, PageRequest, SearchSource};
pub use sources::{MentionRevisions, Revision, SourceStore, WatchStore};
pub use voice::{VoiceCaller, VoiceError};
