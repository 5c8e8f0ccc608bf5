//! Everything about paging a person, in one place: who gets an alert and
//! when (tiers, quiet hours, opt-outs), at least once and never late per
//! phone (see [`delivery`] for what that promises); the SMS caps
//! and what they hold back; bursts folded into incidents; follow-ups to an
//! alert's owner (posted again, promises, reminders); and the summaries of
//! held alerts. Ingest hands it stored records; escalate runs its periodic
//! work; nothing else sends an SMS to the roster.
//!
//! - [`delivery`]: one alert to the phones of its tiers, by claim, send and
//!   record for each phone.
//! - [`incidents`]: where an urgent post stands among similar ones.
//! - [`follow_up`]: the owner hears of new posts, promises and open alerts.
//! - [`summaries`]: held alerts summarised, and roster-wide notices.
//! - [`on_call`]: who is on call now, read at most every few seconds.
//! - [`reach`]: beyond the SMS itself: receipts, voice calls, the chain
//!   told, failing numbers and shift notices.

mod delivery;
mod follow_up;
mod incidents;
mod on_call;
mod reach;
mod summaries;

use std::sync::Arc;

use chrono::Duration;
use thiserror::Error;

use crate::domain::{AlertCode, Clock, MentionId, MentionRecord, PhoneNumber};
use crate::ports::{
    BurstLogStore, FollowUpStore, HoldReason, Inserted, MentionStore, RosterStore, RotaStore,
    SmsBudget, SmsLimits, SmsSender, Spend, StoreError,
};

pub use incidents::{Burst, LastWritten};
pub use on_call::OnCallCache;
pub use reach::{Reach, local_time};
pub use summaries::AlarmChange;

/// Reply codes tried per mention before giving up on a free one.
const CODE_ATTEMPTS: u32 = 32;

#[derive(Debug, Error)]
pub enum PagerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The mention is stored but some phones were not reached; a retry of the
    /// same delivery sends to those phones only.
    #[error("alert for {mention} not delivered to {failed} of {total} phones")]
    AlertNotDelivered {
        mention: String,
        failed: usize,
        total: usize,
    },
    #[error("no free reply code for {0}")]
    NoFreeCode(String),
}

impl PagerError {
    /// Whether delivering the same post again may help.
    pub fn is_retryable(&self) -> bool {
        match self {
            PagerError::Store(err) => err.is_retryable(),
            PagerError::AlertNotDelivered { .. } => true,
            PagerError::NoFreeCode(_) => false,
        }
    }
}

/// A mention handed to [`Pager::insert`], as it now stands.
pub enum Stored {
    /// Stored now, with the reply code it got.
    New(MentionRecord),
    /// Already stored (a duplicate delivery or a retry): the stored record
    /// wins over the incoming one.
    Existing(MentionRecord),
}

pub struct Pager {
    pub store: Arc<dyn MentionStore>,
    pub roster: Arc<dyn RosterStore>,
    /// Decides who holds a tier when it rotates.
    pub rota: Arc<dyn RotaStore>,
    /// The roster and rota as this instance last read them.
    pub on_call: Arc<OnCallCache>,
    pub follow_up: Arc<dyn FollowUpStore>,
    pub sms: Arc<dyn SmsSender>,
    /// Counts SMS against the caps and keeps what they hold back.
    pub budget: Arc<dyn SmsBudget>,
    pub limits: SmsLimits,
    /// Each brand's recent urgent posts, to spot a burst.
    pub bursts: Arc<dyn BurstLogStore>,
    /// The burst logs this instance wrote last.
    pub last_written_bursts: Arc<LastWritten>,
    /// How long a claim to send one SMS holds before another attempt may
    /// take over: just longer than the function that claims it may run, so
    /// a claim whose owner was killed blocks nothing past the next run.
    pub delivery_lease: Duration,
    pub clock: Clock,
}

impl Pager {
    /// Stores a new record. An urgent alert gets its reply code in the same
    /// write: the mention's first candidate, or the next while another
    /// mention holds it.
    pub async fn insert(&self, mut record: MentionRecord) -> Result<Stored, PagerError> {
        for attempt in 0..CODE_ATTEMPTS {
            if record.alert.is_outstanding() {
                let code = AlertCode::candidate(record.mention.id.as_str(), attempt);
                record.alert_code = Some(code);
            }
            match self.store.insert_mention(&record).await? {
                Inserted::New => return Ok(Stored::New(record)),
                Inserted::Existing(stored) => return Ok(Stored::Existing(*stored)),
                Inserted::CodeTaken => {}
            }
        }
        Err(PagerError::NoFreeCode(record.mention.id.to_string()))
    }

    /// Counts one SMS to `phone` against the caps; the reason it may not
    /// go, if any.
    pub async fn spend(&self, phone: &PhoneNumber) -> Result<Option<HoldReason>, StoreError> {
        Ok(
            match self
                .budget
                .spend(phone, self.clock.now(), self.limits)
                .await?
            {
                Spend::Granted => None,
                Spend::PhoneCap => Some(HoldReason::PhoneCap),
                Spend::DailyCap => Some(HoldReason::DailyCap),
            },
        )
    }

    /// A post removed before anyone took its alert stops climbing the
    /// tiers; a taken alert stays with its owner. True if it stopped.
    pub async fn stand_down_if_unowned(&self, id: &MentionId) -> Result<bool, StoreError> {
        let record = self.store.get_mention(id).await?;
        let paged = record.is_some_and(|r| r.alert_code.is_some());
        if paged && self.follow_up.owner(id).await?.is_none() {
            self.store.settle_alert(id).await?;
            return Ok(true);
        }
        Ok(false)
    }
}
