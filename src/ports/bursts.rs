//! Each brand's log of recent urgent posts, which decides whether a new
//! one is part of an incident ([`BurstLog`]). Written by compare-and-set on
//! a version, so concurrent deliveries never lose each other's posts.

use async_trait::async_trait;

use super::StoreError;
pub use crate::domain::incident::BurstLog;

/// A brand's log as read, with the version a write must still find.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionedLog {
    pub log: BurstLog,
    /// 0 when the brand has no log yet.
    pub version: u64,
}

/// What became of a burst-log write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    Written,
    /// Another writer got there first: nothing written, and this is the log
    /// as it now stands, to start again from.
    Stale(VersionedLog),
}

#[async_trait]
pub trait BurstLogStore: Send + Sync {
    /// Writes `read.log` as the version after `read.version` if the stored
    /// log is still at `read.version` (0: the brand has none yet). The
    /// answer to a stale write carries the stored log, so a writer that
    /// guessed needs no separate read: one call per urgent post when this
    /// instance wrote the brand's log last, two otherwise. The log may be
    /// forgotten after [`BurstLog::expires_at`].
    async fn save_burst_log(&self, brand: &str, read: &VersionedLog) -> Result<Saved, StoreError>;
}
