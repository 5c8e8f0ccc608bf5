//! Delivery receipts: which SMS a carrier delivered or dropped, and which
//! phones keep failing.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::domain::{MentionId, PhoneNumber};

/// Consecutive failed SMS after which a phone is reported to tier 1.
pub const FAILURES_BEFORE_WARNING: u32 = 3;

/// What the carrier finally said about one SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    Delivered,
    Failed,
}

impl ReceiptStatus {
    pub fn label(self) -> &'static str {
        match self {
            ReceiptStatus::Delivered => "delivered",
            ReceiptStatus::Failed => "failed",
        }
    }
}

/// One delivery-status record, as read from the SMS delivery logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The id the provider returned when the SMS was sent.
    pub message_id: String,
    pub phone: PhoneNumber,
    pub status: ReceiptStatus,
    /// The carrier's words, e.g. "Phone is currently unreachable".
    pub reason: String,
    /// When the carrier reported it.
    pub at: DateTime<Utc>,
}

/// An alert SMS and, once known, its receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentSms {
    pub mention: MentionId,
    pub phone: PhoneNumber,
    pub message_id: String,
    pub sent_at: DateTime<Utc>,
    pub receipt: Option<ReceiptStatus>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub receipt_at: Option<DateTime<Utc>>,
}

/// The result of storing a receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Marked {
    /// The first receipt for this message; `alert` is the alert SMS it
    /// belongs to, if it was one (reminders and notices are not).
    First { alert: Option<SentSms> },
    /// Already recorded: a repeated log delivery.
    Repeat,
}

/// How a phone's recent SMS fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneHealth {
    pub phone: PhoneNumber,
    /// Failed SMS since the last delivered one.
    pub failures: u32,
    pub last_reason: Option<String>,
    pub last_at: DateTime<Utc>,
    /// Tier 1 has been told about this run of failures.
    pub warned: bool,
}

impl PhoneHealth {
    pub fn needs_warning(&self) -> bool {
        !self.warned && self.failures >= FAILURES_BEFORE_WARNING
    }
}

/// Alert SMS are linked to their message id when recorded as sent
/// ([`super::MentionStore::record_delivery`]), so a receipt finds its alert.
#[async_trait]
pub trait ReceiptStore: Send + Sync {
    /// Stores the carrier's verdict on one message, once: a repeat changes
    /// nothing and says so.
    async fn record_receipt(&self, receipt: &Receipt) -> Result<Marked, StoreError>;

    /// Every alert SMS sent for a mention, with its receipt so far, by
    /// phone.
    async fn alert_sms(&self, mention: &MentionId) -> Result<Vec<SentSms>, StoreError>;

    /// Counts one more failure for the phone, or clears its run of
    /// failures (and any warning) on a delivery; returns the new state.
    async fn note_phone_outcome(&self, receipt: &Receipt) -> Result<PhoneHealth, StoreError>;

    /// Every phone a receipt was ever noted for, by number.
    async fn phone_health(&self) -> Result<Vec<PhoneHealth>, StoreError>;

    /// Marks the phone's run of failures as reported; true for the one
    /// caller that should send the warning.
    async fn claim_phone_warning(&self, phone: &PhoneNumber) -> Result<bool, StoreError>;

    /// True the first time for this alert and phone: each phone gets at
    /// most one voice call per alert.
    async fn claim_call(
        &self,
        mention: &MentionId,
        phone: &PhoneNumber,
    ) -> Result<bool, StoreError>;
}
