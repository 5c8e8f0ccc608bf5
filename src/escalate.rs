//! The escalate function, run every minute: urgent alerts nobody has taken
//! climb the on-call tiers, and alerts whose SMS failed (a crash or an SNS
//! outage between storing and sending) are sent again. Claims per phone keep
//! every run from sending anything twice; one alert's failure (SMS or
//! store) never holds back the others, and is retried by the next run. A P1
//! whose SMS the carrier could not deliver to anyone at its tier goes to the
//! next tier at once; with voice configured, a failed phone is called, and
//! so is everyone paged once the last tier has had its turn. Then numbers
//! that keep failing are reported to tier 1 and whoever came on shift is
//! told what is open.

use chrono::Duration;
use serde::Serialize;
use tracing::{info, warn};

use crate::domain::roster::FIRST_TIER;
use crate::domain::{MentionRecord, OnCallContact, PhoneNumber, Priority};
use crate::pager::{Pager, PagerError, Reach};
use crate::ports::StoreError;

/// How many open alerts one run looks at; more wait for the next minute.
const BATCH: usize = 200;

pub struct Escalator {
    pub pager: Pager,
    pub reach: Reach,
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
    /// P1 alerts sent to the next tier early because their SMS failed.
    pub failed_over: usize,
    pub voice_calls: usize,
    /// Warnings to tier 1 about numbers whose SMS keep failing.
    pub failing_numbers: usize,
    pub shift_notices: usize,
}

impl Escalator {
    pub async fn run(&self) -> Result<EscalationSummary, PagerError> {
        let now = self.pager.clock.now();
        let open = self.pager.store.open_alerts(now, BATCH).await?;
        let mut summary = EscalationSummary {
            open_alerts: open.len(),
            ..EscalationSummary::default()
        };
        // Who holds each tier now, read once for the run and only when a
        // P1 may need it: for early failover and calls, which wait for the
        // next run if it cannot be read. The SMS themselves never wait on it.
        let on_call = if open.iter().any(is_p1) {
            self.reach.on_call(now).await.unwrap_or_else(|err| {
                warn!(error = %err, "on-call roster unreadable; no failover or calls this run");
                Vec::new()
            })
        } else {
            Vec::new()
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
            let due_tier = FIRST_TIER + steps;
            // One alert failing must not hold back the others.
            if let Err(err) = self.page(&record, &on_call, due_tier, &mut summary).await {
                warn!(mention = %id, error = %err, "alert not fully delivered; the next run tries again");
                summary.failed += 1;
            }
        }
        // The run's other duties, each on its own: one whose store cannot
        // be read this time does not hold back the rest. The run still ends
        // in that error, after all of them, so a failing table shows as a
        // failed invocation; the next run tries the duty again.
        let mut first_error = None;
        let mut done = |duty: &'static str, outcome: Result<usize, StoreError>| match outcome {
            Ok(sent) => sent,
            Err(err) => {
                warn!(duty, error = %err, "escalation duty not done; the next run tries again");
                first_error.get_or_insert(err);
                0
            }
        };
        summary.failing_numbers = done(
            "failing numbers",
            self.reach.warn_about_failing_numbers(now).await,
        );
        summary.shift_notices = done("shift notices", self.reach.announce_shifts(now).await);
        summary.reminders = done(
            "reminders",
            self.pager.remind_owners(self.remind_after).await,
        );
        summary.summaries = done("held summaries", self.pager.send_held_summaries().await);
        match first_error {
            None => Ok(summary),
            Some(err) => {
                info!(?summary, "escalation run ended with a duty not done");
                Err(err.into())
            }
        }
    }

    /// Sends the alert's SMS up to the tier due (or past tiers whose SMS
    /// all failed), then, for a P1 with voice on, calls where text was not
    /// enough. Calls are tried even when an SMS failed to go; receipts that
    /// cannot be read never hold back the SMS.
    async fn page(
        &self,
        record: &MentionRecord,
        on_call: &[OnCallContact],
        due_tier: u8,
        summary: &mut EscalationSummary,
    ) -> Result<(), PagerError> {
        let id = &record.mention.id;
        // Failover and calls need to know who is on call.
        let p1_on_call = is_p1(record) && !on_call.is_empty();
        let tier = if p1_on_call {
            self.tier_past_failures(record, on_call, due_tier)
                .await
                .unwrap_or_else(|err| {
                    warn!(mention = %id, error = %err, "receipts unreadable; paging the tier due");
                    due_tier
                })
        } else {
            due_tier
        };
        if tier > due_tier {
            info!(mention = %id, tier, "SMS failed at every phone of the tier; next tier now");
            summary.failed_over += 1;
        }
        let sent = self.pager.follow_through(record, tier).await;
        if let Ok(sent) = sent
            && sent > 0
        {
            info!(mention = %id, tier, sent, "alert escalated or re-sent");
            summary.sms_sent += sent;
        }
        if p1_on_call && self.reach.voice.is_some() {
            summary.voice_calls += self
                .call_if_text_is_not_enough(record, on_call, due_tier)
                .await?;
        }
        sent.map(|_| ())
    }

    /// The tier to page up to: `due`, or the next tier on call when the
    /// carrier failed the SMS to every phone up to `due`.
    async fn tier_past_failures(
        &self,
        record: &MentionRecord,
        on_call: &[OnCallContact],
        due: u8,
    ) -> Result<u8, PagerError> {
        let phones: Vec<PhoneNumber> = on_call
            .iter()
            .filter(|c| c.tier <= due)
            .map(|c| c.phone.clone())
            .collect();
        if phones.is_empty() || !self.reach.failed_everywhere(record, &phones).await? {
            return Ok(due);
        }
        Ok(on_call
            .iter()
            .map(|c| c.tier)
            .filter(|t| *t > due)
            .min()
            .unwrap_or(due))
    }

    /// Calls each phone whose SMS failed and, once the last tier has had
    /// its turn with nobody taking the alert, everyone it was sent to; each
    /// phone at most once per alert.
    async fn call_if_text_is_not_enough(
        &self,
        record: &MentionRecord,
        on_call: &[OnCallContact],
        due_tier: u8,
    ) -> Result<usize, PagerError> {
        let (reached, failed) = self.reach.paged_phones(record).await?;
        let last_tier = on_call.iter().map(|c| c.tier).max().unwrap_or(FIRST_TIER);
        let mut to_call = failed;
        if due_tier > last_tier {
            to_call.extend(reached);
        }
        let mut calls = 0;
        for phone in &to_call {
            if self.reach.call(record, phone).await? {
                calls += 1;
            }
        }
        Ok(calls)
    }
}

fn is_p1(record: &MentionRecord) -> bool {
    record
        .assessment
        .as_ref()
        .is_some_and(|a| a.priority == Priority::P1)
}
