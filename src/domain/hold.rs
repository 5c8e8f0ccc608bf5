//! Alerts held back from a phone (by its quiet hours or an SMS cap) until
//! they can be summarised in one SMS.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AlertCode, MentionId, PhoneNumber, Priority};

/// Why an alert did not go to a phone when it was due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    QuietHours,
    PhoneCap,
    DailyCap,
}

impl HoldReason {
    pub fn label(self) -> &'static str {
        match self {
            HoldReason::QuietHours => "quiet hours",
            HoldReason::PhoneCap => "hourly SMS cap",
            HoldReason::DailyCap => "daily SMS cap",
        }
    }
}

/// An alert one phone did not receive, kept for that phone's summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldAlert {
    pub phone: PhoneNumber,
    pub mention: MentionId,
    pub code: AlertCode,
    pub priority: Priority,
    /// The author's handle, for the summary line.
    pub handle: String,
    pub reason: HoldReason,
    pub at: DateTime<Utc>,
}
