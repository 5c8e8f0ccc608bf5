//! One alert to the on-call phones of its tiers. For each phone: claim the
//! right to send, check the SMS caps, send, and record what happened; then
//! settle the alert's state.
//!
//! What this promises for an urgent page: at least once, and never late.
//! - Each attempt claims with its own token, so an SDK retry of a claim
//!   DynamoDB already applied is recognised as this attempt's own.
//! - Any error before the SMS is handed over releases the claim, so the
//!   next attempt (the platform's retry, or the next escalate run a minute
//!   later) sends it; a claim whose owner died lapses just after the
//!   owner's function timeout.
//! - SNS Publish is tried once (no SDK retry) and never sent again once
//!   accepted: a delivery recorded as sent, or held, is never re-sent.
//! - A Publish whose answer never came (a timeout, a connection lost after
//!   sending) is logged as "outcome unknown" and recorded as failed, so the
//!   next run sends it again: the only way a phone gets a page twice.

use tracing::{info, warn};

use super::{Pager, PagerError};
use crate::domain::roster::FIRST_TIER;
use crate::domain::{AlertCode, AlertState, MentionRecord, OnCallContact, Priority};
use crate::ports::{Claim, Claimant, Delivery, HeldAlert, HoldReason, StoreError};

/// Tries at recording an accepted SMS as sent: a sent SMS whose record is
/// lost would be sent again once its claim lapses.
const RECORD_SENT_TRIES: usize = 3;
use crate::sms::{SmsText, texts};

/// What the per-phone steps added up to.
#[derive(Default)]
struct Tally {
    reached: usize,
    sent_now: usize,
    held: usize,
    in_flight: usize,
    failures: Vec<String>,
}

impl Pager {
    /// Pages a newly stored (or retried) alert's first tier, or whichever
    /// phones a failed attempt missed. Returns the alert's new state and
    /// the SMS sent now.
    pub async fn page(&self, record: &MentionRecord) -> Result<(AlertState, usize), PagerError> {
        if !record.alert.is_outstanding() {
            return Ok((record.alert.clone(), 0));
        }
        self.deliver(record, None).await
    }

    /// Pages the alert's tiers up to `max_tier` (escalation), or re-sends
    /// what a failed attempt missed; phones that already have it get
    /// nothing. Returns the number of SMS sent now.
    pub async fn follow_through(
        &self,
        record: &MentionRecord,
        max_tier: u8,
    ) -> Result<usize, PagerError> {
        Ok(self.deliver(record, Some(max_tier)).await?.1)
    }

    /// Sends the alert to every on-call phone up to `max_tier` (by default
    /// the first tier anyone is on) that has not had it yet, and returns the
    /// alert's new state with the number of SMS sent now. Phones in quiet
    /// hours, or over an SMS cap, get it in a summary instead.
    async fn deliver(
        &self,
        record: &MentionRecord,
        max_tier: Option<u8>,
    ) -> Result<(AlertState, usize), PagerError> {
        let id = &record.mention.id;
        let (Some(assessment), Some(code)) = (&record.assessment, &record.alert_code) else {
            return Ok((record.alert.clone(), 0));
        };
        let now = self.clock.now();
        let claimant = Claimant::fresh();
        let roster = self
            .on_call
            .on_call_at(self.roster.as_ref(), self.rota.as_ref(), now)
            .await?;
        // Opted out, or in quiet hours and holding urgent alerts: the next
        // tier answers in their place.
        let mut contacts: Vec<_> = roster.iter().filter(|c| c.takes_p1_at(now)).collect();
        let first_tier = contacts.iter().map(|c| c.tier).min().unwrap_or(FIRST_TIER);
        let max_tier = max_tier.unwrap_or(first_tier).max(first_tier);
        contacts.retain(|c| c.tier <= max_tier);
        // Those resting through their quiet hours hear of it when they end.
        for resting in roster
            .iter()
            .filter(|c| !c.opted_out && c.tier <= max_tier && !c.takes_p1_at(now))
        {
            // Unless they already have it.
            if self.claim(record, resting, &claimant).await? == Claim::Granted {
                let held = self
                    .hold(record, code, resting, HoldReason::QuietHours)
                    .await;
                self.release_on_error(record, resting, &claimant, held)
                    .await?;
            }
        }
        if contacts.is_empty() {
            // Retrying cannot help until someone is on call, so this is not
            // an error for the platform; the state says why nobody was paged.
            warn!("urgent mention but nobody on the roster can be paged now");
            let state = AlertState::Failed {
                at: self.clock.now(),
                reason: "nobody on the on-call roster can be paged now".into(),
            };
            self.store.set_alert_state(id, &state).await?;
            return Ok((state, 0));
        }

        let body = match &record.incident {
            Some(incident) => texts::incident(&record.mention, incident, code, now),
            None => texts::alert(&record.mention, assessment, code),
        };
        let mut tally = Tally::default();
        for contact in &contacts {
            self.deliver_to(record, code, contact, &claimant, &body, &mut tally)
                .await?;
        }
        self.settle(record, contacts.len(), tally).await
    }

    /// Claims, sends and records the alert for one phone.
    async fn deliver_to(
        &self,
        record: &MentionRecord,
        code: &AlertCode,
        contact: &OnCallContact,
        claimant: &Claimant,
        body: &SmsText,
        tally: &mut Tally,
    ) -> Result<(), PagerError> {
        match self.claim(record, contact, claimant).await? {
            Claim::AlreadySent => {
                tally.reached += 1;
                return Ok(());
            }
            Claim::Held => {
                tally.held += 1;
                return Ok(());
            }
            Claim::InFlight => {
                tally.in_flight += 1;
                return Ok(());
            }
            Claim::Granted => {}
        }
        let spent = self.spend(&contact.phone).await;
        if let Some(reason) = self
            .release_on_error(record, contact, claimant, spent)
            .await?
        {
            let held = self.hold(record, code, contact, reason).await;
            self.release_on_error(record, contact, claimant, held)
                .await?;
            tally.held += 1;
            return Ok(());
        }
        let outcome = self.send(contact, body).await;
        match &outcome {
            Delivery::Sent { .. } => tally.sent_now += 1,
            Delivery::Failed { reason } => tally
                .failures
                .push(format!("{}: {reason}", contact.phone.masked())),
            Delivery::Held { .. } => tally.held += 1,
        }
        self.record_outcome(record, code, contact, &outcome).await?;
        Ok(())
    }

    /// Takes the right to send this alert to this phone, unless it already
    /// went, is held for a summary, or another attempt is sending it now.
    /// A claim that failed may still have been written: it is released.
    async fn claim(
        &self,
        record: &MentionRecord,
        contact: &OnCallContact,
        claimant: &Claimant,
    ) -> Result<Claim, StoreError> {
        let now = self.clock.now();
        let claimed = self
            .store
            .claim_delivery(
                &record.mention.id,
                &contact.phone,
                claimant,
                now,
                now + self.delivery_lease,
            )
            .await;
        self.release_on_error(record, contact, claimant, claimed)
            .await
    }

    /// Passes `result` on; if it is an error, first gives up this
    /// attempt's claim on the phone, so the next attempt need not wait for
    /// the lease to lapse.
    async fn release_on_error<T>(
        &self,
        record: &MentionRecord,
        contact: &OnCallContact,
        claimant: &Claimant,
        result: Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let Err(err) = result else {
            return result;
        };
        let released = self
            .store
            .release_delivery(
                &record.mention.id,
                &contact.phone,
                claimant,
                &err.to_string(),
                self.clock.now(),
            )
            .await;
        if let Err(release_err) = released {
            warn!(phone = %contact.phone.masked(), error = %release_err, "claim not released; it lapses with its lease");
        }
        Err(err)
    }

    /// Hands the SMS to the carrier; what became of it.
    async fn send(&self, contact: &OnCallContact, body: &SmsText) -> Delivery {
        match self.sms.send(&contact.phone, body).await {
            Ok(message_id) => {
                info!(phone = %contact.phone.masked(), %message_id, "alert SMS sent");
                Delivery::Sent { message_id }
            }
            Err(err) if err.outcome_unknown => {
                warn!(phone = %contact.phone.masked(), reason = %err.reason, "alert SMS outcome unknown; the next attempt sends it again");
                Delivery::Failed {
                    reason: format!("outcome unknown: {}", err.reason),
                }
            }
            Err(err) => {
                warn!(phone = %contact.phone.masked(), reason = %err.reason, "alert SMS refused");
                Delivery::Failed { reason: err.reason }
            }
        }
    }

    /// Stores what became of the SMS to one phone, ending its claim. An SMS
    /// the carrier accepted is recorded with a few tries: once sent, it
    /// must never read as unsent.
    async fn record_outcome(
        &self,
        record: &MentionRecord,
        code: &AlertCode,
        contact: &OnCallContact,
        outcome: &Delivery,
    ) -> Result<(), StoreError> {
        let tries = match outcome {
            Delivery::Sent { .. } => RECORD_SENT_TRIES,
            _ => 1,
        };
        let mut last = Ok(());
        for _ in 0..tries {
            last = self.record(record, code, contact, outcome).await;
            if last.is_ok() {
                break;
            }
        }
        if let Err(err) = &last {
            warn!(phone = %contact.phone.masked(), error = %err, "delivery outcome not recorded");
        }
        last
    }

    /// Stores what became of the SMS to one phone.
    async fn record(
        &self,
        record: &MentionRecord,
        code: &AlertCode,
        contact: &OnCallContact,
        outcome: &Delivery,
    ) -> Result<(), StoreError> {
        self.store
            .record_delivery(
                &record.mention.id,
                code,
                &contact.phone,
                outcome,
                self.clock.now(),
            )
            .await
    }

    /// Keeps the alert back from `contact`, whose delivery this caller has
    /// claimed, for their summary; from then on it is never sent to them on
    /// its own.
    async fn hold(
        &self,
        record: &MentionRecord,
        code: &AlertCode,
        contact: &OnCallContact,
        reason: HoldReason,
    ) -> Result<(), StoreError> {
        let id = &record.mention.id;
        let now = self.clock.now();
        info!(phone = %contact.phone.masked(), reason = reason.label(), "alert held for the summary");
        self.budget
            .hold(&HeldAlert {
                phone: contact.phone.clone(),
                mention: id.clone(),
                code: code.clone(),
                priority: record
                    .assessment
                    .as_ref()
                    .map_or(Priority::P1, |a| a.priority),
                handle: record.mention.author.handle.clone(),
                reason,
                at: now,
            })
            .await?;
        self.record(record, code, contact, &Delivery::Held { reason })
            .await
    }

    /// The alert's state once every phone has had its turn.
    async fn settle(
        &self,
        record: &MentionRecord,
        total: usize,
        tally: Tally,
    ) -> Result<(AlertState, usize), PagerError> {
        let id = &record.mention.id;
        if !tally.failures.is_empty() {
            let state = AlertState::Failed {
                at: self.clock.now(),
                reason: tally.failures.join("; "),
            };
            self.store.set_alert_state(id, &state).await?;
            return Err(PagerError::AlertNotDelivered {
                mention: id.to_string(),
                failed: tally.failures.len(),
                total,
            });
        }
        if tally.in_flight > 0 {
            // A concurrent delivery of the same post is sending to the rest
            // and will record the final state itself.
            return Ok((record.alert.clone(), tally.sent_now));
        }
        if tally.reached + tally.sent_now == 0 {
            // Everyone was held back by a cap: the alert stays open, so the
            // next tier is paged when its turn comes.
            info!(held = tally.held, "alert held for every phone of its tier");
            return Ok((record.alert.clone(), 0));
        }
        let state = AlertState::Sent {
            at: self.clock.now(),
            recipients: (tally.reached + tally.sent_now) as u32,
        };
        self.store.set_alert_state(id, &state).await?;
        Ok((state, tally.sent_now))
    }
}
