//! Handing an alert to someone else (PASS) and telling everyone paged for
//! it, once, when it is taken or closed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Ownership, StoreError};
use crate::domain::{MentionId, PhoneNumber};

/// An alert offered by PASS: it becomes `to`'s when they ACK; until then
/// whoever passed it keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    pub mention: MentionId,
    pub to: PhoneNumber,
    /// Who passed it (its owner when they did).
    pub from: Ownership,
    pub at: DateTime<Utc>,
}

/// What the rest of the chain is told about, once each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainNews {
    Taken,
    Closed,
}

impl ChainNews {
    pub fn key(self) -> &'static str {
        match self {
            ChainNews::Taken => "taken",
            ChainNews::Closed => "closed",
        }
    }
}

#[async_trait]
pub trait HandOverStore: Send + Sync {
    /// Records an offer; a newer offer for the same alert replaces it.
    async fn offer(&self, offer: &Offer) -> Result<(), StoreError>;

    /// The alert's open offer, if any.
    async fn offer_of(&self, mention: &MentionId) -> Result<Option<Offer>, StoreError>;

    /// Makes `to` the owner if `from` still is, and drops the offer; false
    /// (and nothing changed) if someone else owns it now.
    async fn transfer(
        &self,
        mention: &MentionId,
        from: &Ownership,
        to: &Ownership,
    ) -> Result<bool, StoreError>;

    /// True the first time for this alert and news: the chain is told once.
    async fn claim_chain_news(
        &self,
        mention: &MentionId,
        news: ChainNews,
    ) -> Result<bool, StoreError>;
}
