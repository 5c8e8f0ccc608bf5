//! What the pager sends to the roster outside of alerts: one summary per
//! phone of the alerts held back from it, and notices to the first tier.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use tracing::{error, info, warn};

use super::Pager;
use crate::domain::PhoneNumber;
use crate::domain::roster::FIRST_TIER;
use crate::domain::{Alarm, SourceKey};
use crate::ports::{HeldAlert, SourceStore, StoreError};
use crate::sms::{SmsText, texts};

/// What a source's reader decided about its alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmChange {
    Raise(Alarm),
    Clear,
}

impl Pager {
    /// Raises or clears the source's alarm and, only when this call made
    /// the change (a conditional write), texts `text` to the first tier.
    /// Returns the SMS sent.
    pub async fn change_source_alarm(
        &self,
        sources: &dyn SourceStore,
        key: &SourceKey,
        change: AlarmChange,
        at: DateTime<Utc>,
        text: &SmsText,
    ) -> usize {
        let changed = match change {
            AlarmChange::Raise(alarm) => sources.raise_alarm(key, alarm, at).await,
            AlarmChange::Clear => sources.clear_alarm(key).await,
        };
        match (changed, change) {
            (Ok(true), AlarmChange::Raise(alarm)) => {
                // The deployment counts this line as the source-health metric.
                warn!(brand = %key.brand, platform = %key.platform, alarm = alarm.label(), "source health alarm raised");
            }
            (Ok(true), AlarmChange::Clear) => {
                info!(brand = %key.brand, platform = %key.platform, "source health alarm cleared");
            }
            (Ok(false), _) => return 0,
            (Err(err), _) => {
                error!(error = %err, change = ?change, "source alarm not changed");
                return 0;
            }
        }
        self.tell_first_tier(text).await
    }

    /// One SMS per phone listing what was held back from it, once its
    /// quiet hours are over and the caps allow one more SMS. Alerts closed
    /// meanwhile are left out; a phone with nothing left open gets nothing.
    pub async fn send_held_summaries(&self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let mut by_phone: BTreeMap<PhoneNumber, Vec<HeldAlert>> = BTreeMap::new();
        for held in self.budget.held().await? {
            by_phone.entry(held.phone.clone()).or_default().push(held);
        }
        if by_phone.is_empty() {
            return Ok(0);
        }
        let contacts = self.roster.contacts().await?;
        let mut sent = 0;
        for (phone, held) in by_phone {
            let contact = contacts.iter().find(|c| c.phone == phone);
            if contact.is_some_and(|c| !c.opted_out && c.is_quiet_at(now)) {
                continue;
            }
            let mut open = Vec::new();
            for alert in &held {
                if self.follow_up.closed(&alert.mention).await?.is_none() {
                    open.push(alert.clone());
                }
            }
            if contact.is_none_or(|c| c.opted_out) || open.is_empty() {
                self.budget.release(&held).await?;
                continue;
            }
            if self.spend(&phone).await?.is_some() {
                continue;
            }
            // Forgotten before sending: a crash after the send must not
            // repeat the summary, and a run beside this one summarises only
            // what it forgot itself; a failed send holds them again.
            let released = self.budget.release(&held).await?;
            open.retain(|alert| released.contains(alert));
            if open.is_empty() {
                continue;
            }
            let body = texts::held_summary(&open);
            match self.sms.send(&phone, &body).await {
                Ok(_) => {
                    info!(phone = %phone.masked(), held = open.len(), "held alerts summarised");
                    sent += 1;
                }
                Err(err) => {
                    warn!(phone = %phone.masked(), reason = %err.reason, "summary SMS failed; held for the next run");
                    for alert in &open {
                        self.budget.hold(alert).await?;
                    }
                }
            }
        }
        Ok(sent)
    }

    /// Texts everyone on the first tier who has not opted out (source
    /// health); best effort. Returns the SMS sent.
    pub async fn tell_first_tier(&self, text: &SmsText) -> usize {
        let contacts = match self.roster.contacts().await {
            Ok(contacts) => contacts,
            Err(err) => {
                error!(error = %err, "roster unavailable for a health SMS");
                return 0;
            }
        };
        let mut sent = 0;
        for contact in contacts
            .iter()
            .filter(|c| c.tier == FIRST_TIER && !c.opted_out)
        {
            match self.sms.send(&contact.phone, text).await {
                Ok(_) => sent += 1,
                Err(err) => {
                    warn!(phone = %contact.phone.masked(), reason = %err.reason, "health SMS failed")
                }
            }
        }
        sent
    }
}
