//! The escalate function, run every minute: urgent alerts nobody has taken
//! climb the on-call tiers, and alerts whose SMS failed (a crash or an SNS
//! outage between storing and sending) are sent again. Claims per phone keep
//! every run from sending anything twice.

use std::collections::BTreeMap;

use chrono::Duration;
use serde::Serialize;
use tracing::{info, warn};

use crate::domain::PhoneNumber;
use crate::domain::roster::FIRST_TIER;
use crate::ingest::{IngestError, Ingestor};
use crate::ports::HeldAlert;
use crate::sms::texts;

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
    /// Summaries of held-back alerts sent (end of quiet hours, caps lifted).
    pub summaries: usize,
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
        summary.summaries = self.send_held_summaries().await?;
        Ok(summary)
    }

    /// One SMS per phone listing what was held back from it, once its
    /// quiet hours are over and the caps allow one more SMS. Alerts closed
    /// meanwhile are left out; a phone with nothing left open gets nothing.
    async fn send_held_summaries(&self) -> Result<usize, IngestError> {
        let ingestor = &self.ingestor;
        let now = ingestor.clock.now();
        let mut by_phone: BTreeMap<PhoneNumber, Vec<HeldAlert>> = BTreeMap::new();
        for held in ingestor.budget.held().await? {
            by_phone.entry(held.phone.clone()).or_default().push(held);
        }
        if by_phone.is_empty() {
            return Ok(0);
        }
        let contacts = ingestor.roster.contacts().await?;
        let mut sent = 0;
        for (phone, held) in by_phone {
            let contact = contacts.iter().find(|c| c.phone == phone);
            if contact.is_some_and(|c| !c.opted_out && c.is_quiet_at(now)) {
                continue;
            }
            let mut open = Vec::new();
            for alert in &held {
                if ingestor.follow_up.closed(&alert.mention).await?.is_none() {
                    open.push(alert.clone());
                }
            }
            if contact.is_none_or(|c| c.opted_out) || open.is_empty() {
                ingestor.budget.release(&held).await?;
                continue;
            }
            if ingestor.spend(&phone).await?.is_some() {
                continue;
            }
            let body = texts::held_summary(&open);
            // Forgotten before sending: a crash after the send must not
            // repeat the summary; a failed send holds them again.
            ingestor.budget.release(&held).await?;
            match ingestor.sms.send(&phone, &body).await {
                Ok(_) => {
                    info!(phone = %phone.masked(), held = open.len(), "held alerts summarised");
                    sent += 1;
                }
                Err(err) => {
                    warn!(phone = %phone.masked(), reason = %err.reason, "summary SMS failed; held for the next run");
                    for alert in &open {
                        ingestor.budget.hold(alert).await?;
                    }
                }
            }
        }
        Ok(sent)
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
            if owner_contact.is_some_and(|c| c.opted_out || c.is_quiet_at(now))
                || ingestor.spend(&owner.phone).await?.is_some()
            {
                // A reminder can wait for the end of quiet hours, or for
                // room under the SMS caps.
                ingestor.store.own_alert(id, now + QUIET_RETRY).await?;
                continue;
            }
            let text = texts::reminder(code, &record.mention.author.handle, owner.at);
            match ingestor.sms.send(&owner.phone, &text).await {
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
