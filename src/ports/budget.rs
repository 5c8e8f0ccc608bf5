//! The SMS budget: caps per phone per hour and per deployment per day, and
//! the alerts held back (by a cap or by someone's quiet hours) until they
//! can be summarised in one SMS.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::PhoneNumber;
pub use crate::domain::hold::{HeldAlert, HoldReason};

/// How many SMS may go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsLimits {
    /// To one phone in one clock hour (UTC).
    pub per_phone_hourly: u32,
    /// From the whole deployment in one UTC day.
    pub daily: u32,
}

impl Default for SmsLimits {
    fn default() -> Self {
        Self {
            per_phone_hourly: crate::config::DEFAULT_SMS_PER_PHONE_HOURLY,
            daily: crate::config::DEFAULT_SMS_DAILY_CAP,
        }
    }
}

/// The window a phone's hourly share is counted in: the UTC clock hour,
/// `2026-11-24T10`.
pub fn hour_window(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H").to_string()
}

/// The window the deployment's daily share is counted in: the UTC day,
/// `2026-11-24`.
pub fn day_window(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// The answer to "may one more SMS go to this phone now?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    /// Counted; send it.
    Granted,
    /// This phone has had its hourly share.
    PhoneCap,
    /// The deployment has sent its daily share.
    DailyCap,
}

#[async_trait]
pub trait SmsBudget: Send + Sync {
    /// Counts one SMS to `phone` at `now`, unless that would pass a cap; a
    /// refused SMS counts against nothing.
    async fn spend(
        &self,
        phone: &PhoneNumber,
        now: DateTime<Utc>,
        limits: SmsLimits,
    ) -> Result<Spend, StoreError>;

    /// Keeps an alert back for its phone; holding the same alert for the
    /// same phone again changes nothing.
    async fn hold(&self, held: &HeldAlert) -> Result<(), StoreError>;

    /// Every alert held back, for every phone, oldest first.
    async fn held(&self) -> Result<Vec<HeldAlert>, StoreError>;

    /// Forgets alerts, for their summary; returns those this call forgot.
    /// Another caller may have forgotten some first: only the alerts a
    /// caller forgot are its to summarise, so no alert is summarised twice.
    async fn release(&self, held: &[HeldAlert]) -> Result<Vec<HeldAlert>, StoreError>;
}
