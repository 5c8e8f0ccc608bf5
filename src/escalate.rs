//! The escalate function, run every minute: urgent alerts nobody has taken
//! climb the on-call tiers, and alerts whose SMS failed (a crash or an SNS
//! outage between storing and sending) are sent again. Claims per phone keep
//! every run from sending anything twice; one alert's failure (SMS or
//! store) never holds back the others, and is retried by the next run.

use chrono::Duration;
use serde::Serialize;
use tracing::{info, warn};

use crate::domain::roster::FIRST_TIER;
use crate::pager::{Pager, PagerError};

/// How many open alerts one run looks at; more wait for the next minute.
const BATCH: usize = 200;

pub struct Escalator {
    pub pager: Pager,
    /// Unacknowledged this long, an alert goes to the next tier.
    pub step: Duration,
    /// After this long nobody is paged again for the alert.
    pub give_up_after: Duration,
    /// An acknowledged alert not closed after this long reminds its owner,
    /// and again each time this passes, while the follow-up window lasts.
    pub remind_after: Duration,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct EscalationSummary {
    pub open_alerts: usize,
    pub sms_sent: usize,
    pub given_up: usize,
    pub failed: usize,
    pub reminders: usize,
    /// Summaries of held-back alerts sent (end of quiet hours, caps lifted).
    pub summaries: usize,
}

impl Escalator {
    pub async fn run(&self) -> Result<EscalationSummary, PagerError> {
        let now = self.pager.clock.now();
        let open = self.pager.store.open_alerts(now, BATCH).await?;
        let mut summary = EscalationSummary {
            open_alerts: open.len(),
            ..EscalationSummary::default()
        };
        for record in open {
            let id = &record.mention.id;
            let waiting = now - record.mention.received_at;
            if waiting > self.give_up_after {
                warn!(mention = %id, minutes = waiting.num_minutes(), "nobody took the alert; no more pages");
                match self.pager.store.settle_alert(id).await {
                    Ok(()) => summary.given_up += 1,
                    Err(err) => {
                        warn!(mention = %id, error = %err, "could not stand the alert down; the next run tries again");
                        summary.failed += 1;
                    }
                }
                continue;
            }
            let steps = (waiting.num_seconds() / self.step.num_seconds().max(1)).clamp(0, 8) as u8;
            match self.pager.follow_through(&record, FIRST_TIER + steps).await {
                Ok(sent) => {
                    if sent > 0 {
                        info!(mention = %id, tier = FIRST_TIER + steps, sent, "alert escalated or re-sent");
                    }
                    summary.sms_sent += sent;
                }
                // One alert failing must not hold back the others.
                Err(err) => {
                    warn!(mention = %id, error = %err, "alert not fully delivered; the next run tries again");
                    summary.failed += 1;
                }
            }
        }
        summary.reminders = self.pager.remind_owners(self.remind_after).await?;
        summary.summaries = self.pager.send_held_summaries().await?;
        Ok(summary)
    }
}
