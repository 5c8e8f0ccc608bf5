//! Storage for what polling and the newer webhooks need: watches, each
//! source's cursor and health, and edits to stored mentions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::domain::MentionId;
use crate::domain::{Alarm, SourceKey, SourceState, Watch};

#[async_trait]
pub trait WatchStore: Send + Sync {
    /// Adds the watch, or replaces the one with the same brand.
    async fn put_watch(&self, watch: &Watch) -> Result<(), StoreError>;
    /// Every watch, by brand.
    async fn watches(&self) -> Result<Vec<Watch>, StoreError>;
    async fn watch(&self, brand: &str) -> Result<Option<Watch>, StoreError>;
    /// True if the watch existed.
    async fn remove_watch(&self, brand: &str) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait SourceStore: Send + Sync {
    async fn source(&self, key: &SourceKey) -> Result<Option<SourceState>, StoreError>;
    /// Every source's state, by brand then platform.
    async fn sources(&self) -> Result<Vec<SourceState>, StoreError>;
    /// Saves cursor, limits and counters. The alarm is left as stored:
    /// only [`SourceStore::raise_alarm`] and [`SourceStore::clear_alarm`]
    /// change it.
    async fn save_source(&self, state: &SourceState) -> Result<(), StoreError>;
    /// Raises the alarm unless one is already up; true for the one caller
    /// that raised it, who then sends the SMS.
    async fn raise_alarm(
        &self,
        key: &SourceKey,
        alarm: Alarm,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Clears the alarm; true for the one caller that cleared it.
    async fn clear_alarm(&self, key: &SourceKey) -> Result<bool, StoreError>;
}

/// A later change to a post that is already stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Revision {
    /// The author edited the post; `text` is its new text.
    Edited { text: String, at: DateTime<Utc> },
    /// The author (or the platform) removed or hid the post.
    Removed { at: DateTime<Utc> },
}

#[async_trait]
pub trait MentionRevisions: Send + Sync {
    /// Applies the revision to the stored mention: an edit replaces its
    /// text; a removal marks it. False if the mention is not stored.
    async fn revise_mention(&self, id: &MentionId, revision: &Revision)
    -> Result<bool, StoreError>;
    /// The latest revision applied, if any.
    async fn mention_revision(&self, id: &MentionId) -> Result<Option<Revision>, StoreError>;
}
