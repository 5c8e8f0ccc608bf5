//! The escalate function, run every minute: urgent alerts nobody has taken
//! climb the on-call tiers, and alerts whose SMS failed (a crash or an SNS
//! outage between storing and sending) are sent again. Claims per phone keep
//! every run from sending anything twice.

use chrono::Duration;
use serde::Serialize;
use tracing::{info, warn};

use crate::domain::alert::{fit_one_sms, to_gsm7};
use crate::domain::roster::FIRST_TIER;
use crate::ingest::{IngestError, Ingestor};

/// How many open alerts one run looks at; more wait for the next minute.
const BATCH: usize = 200;

pub struct Escalator {
    pub ingestor: Ingestor,
    /// Unacknowledged this long, an alert goes to the next tier.
    pub step: Duration,
    /// After this long nobody is paged again for the alert.
    pub give_up_after: Duration,
    /// An acknowledged alert not closed after this long reminds its owner,
    /// and again each time this passes, while the follow-up window lasts.
    pub remind_after: Duration,
}

/// How soon a reminder held by quiet hours is tried again.
const QUIET_RETRY: Duration = Duration::minutes(30);

/// Reminders stop this long after the post: by then it is history.
const REMIND_UNTIL: Duration = Duration::hours(48);

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct EscalationSummary {
    pub open_alerts: usize,
    pub sms_sent: usize,
    pub given_up: usize,
    pub failed: usize,
    pub reminders: usize,
}

impl Escalator {
    pub async fn run(&self) -> Result<EscalationSummary, IngestError> {
        let now = self.ingestor.clock.now();
        let open = self.ingestor.store.open_alerts(now, BATCH).await?;
        let mut summary = EscalationSummary {
            open_alerts: open.len(),
            ..EscalationSummary::default()
        };
        for record in open {
            let id = &record.mention.id;
            let waiting = now - record.mention.received_at;
            if waiting > self.give_up_after {
                warn!(mention = %id, minutes = waiting.num_minutes(), "nobody took the alert; no more pages");
                self.ingestor.store.settle_alert(id).await?;
                summary.given_up += 1;
                continue;
            }
            let steps = (waiting.num_seconds() / self.step.num_seconds().max(1)).clamp(0, 8) as u8;
            match self
                .ingestor
                .follow_through(&record, FIRST_TIER + steps)
                .await
            {
                Ok(sent) => {
                    if sent > 0 {
                        info!(mention = %id, tier = FIRST_TIER + steps, sent, "alert escalated or re-sent");
                    }
                    summary.sms_sent += sent;
                }
                // One alert's SMS failing must not hold back the others.
                Err(IngestError::AlertNotDelivered { .. }) => summary.failed += 1,
                Err(err) => return Err(err),
            }
        }
        summary.reminders = self.remind_owners().await?;
        Ok(summary)
    }

    /// Owners of acknowledged alerts still open get a nudge.
    async fn remind_owners(&self) -> Result<usize, IngestError> {
        let ingestor = &self.ingestor;
        let now = ingestor.clock.now();
        let mut sent = 0;
        for record in ingestor.store.reminders_due(now, BATCH).await? {
            let id = &record.mention.id;
            let owner = ingestor.follow_up.owner(id).await?;
            let closed = ingestor.follow_up.closed(id).await?.is_some();
            let (Some(owner), Some(code), false) = (owner, &record.alert_code, closed) else {
                ingestor.store.settle_alert(id).await?;
                continue;
            };
            if now - record.mention.received_at > REMIND_UNTIL {
                ingestor.store.settle_alert(id).await?;
                continue;
            }
            let contacts = ingestor.roster.contacts().await?;
            let owner_contact = contacts.iter().find(|c| c.phone == owner.phone);
            if owner_contact.is_some_and(|c| c.opted_out || c.is_quiet_at(now)) {
                // A reminder can wait for the end of quiet hours.
                ingestor.store.own_alert(id, now + QUIET_RETRY).await?;
                continue;
            }
            let text = format!(
                "Reminder: {code} (@{}) is still open, yours since {} UTC. Reply DONE {code} when sorted.",
                record.mention.author.handle,
                owner.at.format("%H:%M")
            );
            match ingestor
                .sms
                .send(&owner.phone, &fit_one_sms(&to_gsm7(&text)))
                .await
            {
                Ok(_) => sent += 1,
                Err(err) => {
                    warn!(owner = %owner.phone.masked(), reason = %err.reason, "reminder SMS failed")
                }
            }
            ingestor
                .store
                .own_alert(id, now + self.remind_after)
                .await?;
        }
        Ok(sent)
    }
}
