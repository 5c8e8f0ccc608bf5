//! The one path every mention takes, whatever brought it in: triage, store
//! once, and page the on-call roster for urgent complaints, exactly once.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use thiserror::Error;
use tracing::{info, warn};

use crate::domain::incident::{Burst, INCIDENT_WINDOW, classify, similar, topic_words};
use crate::domain::roster::FIRST_TIER;
use crate::domain::{
    AlertCode, AlertState, Mention, MentionRecord, Priority, Triage, TriageContext, Voice,
};
use crate::domain::{Clock, MentionId, OnCallContact, PhoneNumber};
use crate::ports::{
    AuthorKey, Claim, Delivery, FollowUpStore, HeldAlert, HoldReason, Inserted, MentionStore,
    RosterStore, SmsBudget, SmsLimits, SmsSender, Spend, StoreError,
};
use crate::sms::texts;
use crate::triage::TriageSettings;
use crate::watch::WatchCache;

/// How long a claim to send one SMS holds before another attempt may take
/// over; longer than any Lambda invocation that could still be sending.
const DELIVERY_LEASE: Duration = Duration::minutes(15);
/// How far back an author's earlier posts count towards urgency.
const AUTHOR_WINDOW: Duration = Duration::hours(1);
/// How long after an alert a new post by its author reaches the owner.
const FOLLOW_UP_WINDOW: Duration = Duration::hours(48);
const HISTORY_LIMIT: usize = 20;
/// Recent mentions read to spot a burst; a busier window is an incident
/// already, whatever its exact count.
const BURST_LIMIT: usize = 500;
/// Phrases by which a brand's reply promises to come back to the customer.
const PROMISES: &[&str] = &[
    "be in touch",
    "get back to you",
    "dm us",
    "send us a dm",
    "send us a message",
    "we'll call",
    "we will call",
    "we'll contact",
    "we will contact",
    "looking into",
    "look into",
    "follow up",
];
/// How long a promise of contact may stay unkept before the owner hears,
/// when the reply names no time of its own.
const PROMISE_WINDOW: Duration = Duration::hours(2);

/// The window a reply promises, if it names one: "within 24 hours", "in
/// the next 30 minutes", "in two working days", "by tomorrow".
fn promised_within(lowered: &str) -> Option<Duration> {
    if lowered.contains("tomorrow") {
        return Some(Duration::hours(24));
    }
    let words: Vec<&str> = lowered
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    (0..words.len()).find_map(|i| {
        let amount = match words[i] {
            "a" | "an" | "one" => 1,
            "two" => 2,
            "three" => 3,
            "four" => 4,
            "five" => 5,
            "six" => 6,
            "twelve" => 12,
            digits => digits
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=1000).contains(n))?,
        };
        // "2 working days": the unit may follow one qualifying word.
        let mut unit = *words.get(i + 1)?;
        if matches!(unit, "working" | "business" | "more") {
            unit = words.get(i + 2)?;
        }
        match unit {
            "min" | "mins" | "minute" | "minutes" => Some(Duration::minutes(amount)),
            "hr" | "hrs" | "hour" | "hours" => Some(Duration::hours(amount)),
            "day" | "days" => Some(Duration::days(amount)),
            _ => None,
        }
    })
}

fn triage_context(
    mention: &Mention,
    history: &[MentionRecord],
    settings: Option<TriageSettings>,
) -> TriageContext {
    let since = mention.created_at - AUTHOR_WINDOW;
    TriageContext {
        recent_posts: history
            .iter()
            .filter(|r| r.mention.created_at >= since)
            .count(),
        window_minutes: AUTHOR_WINDOW.num_minutes(),
        author_handle: Some(mention.author.handle.clone()),
        // A reply in a thread is spoken to the brand whatever its text says.
        addressed: mention.in_reply_to.is_some().then_some(true),
        settings,
    }
}

/// Reply codes tried per mention before giving up on a free one.
const CODE_ATTEMPTS: u32 = 32;

#[derive(Debug, Error)]
pub enum IngestError {
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

impl IngestError {
    /// Whether the platform should deliver the same post again.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, IngestError::NoFreeCode(_))
    }
}

/// What happened to one mention.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Outcome {
    pub id: String,
    pub duplicate: bool,
    pub priority: Option<Priority>,
    pub alert: &'static str,
    /// SMS handed to the carrier by this call.
    pub sms_sent: usize,
}

pub struct Ingestor {
    pub store: Arc<dyn MentionStore>,
    pub roster: Arc<dyn RosterStore>,
    pub follow_up: Arc<dyn FollowUpStore>,
    pub sms: Arc<dyn SmsSender>,
    /// Counts SMS against the caps and keeps what they hold back.
    pub budget: Arc<dyn SmsBudget>,
    pub limits: SmsLimits,
    pub triage: Arc<dyn Triage>,
    /// The watches, for each brand's triage settings.
    pub watches: Arc<WatchCache>,
    pub clock: Clock,
}

impl Ingestor {
    #[tracing::instrument(skip_all, fields(mention = %mention.id, platform = %mention.platform))]
    pub async fn ingest(&self, mention: Mention) -> Result<Outcome, IngestError> {
        let history = self.author_history(&mention).await?;
        let record = self.assess(mention, &history).await?;
        let record = match self.store.insert_mention(&record).await? {
            Inserted::New => {
                info!(priority = ?record.assessment.as_ref().map(|a| a.priority), "mention stored");
                match record.mention.voice {
                    Voice::Customer => self.tell_owners_they_posted_again(&record, &history).await,
                    Voice::Brand => self.hold_the_brand_to_its_promise(&record.mention).await?,
                }
                record
            }
            Inserted::Existing(stored) => {
                info!(alert = stored.alert.label(), "duplicate delivery");
                return self.finish_outstanding(*stored, true).await;
            }
        };
        self.finish_outstanding(record, false).await
    }

    /// Triage and, for an urgent complaint, a reserved reply code.
    async fn assess(
        &self,
        mention: Mention,
        history: &[MentionRecord],
    ) -> Result<MentionRecord, IngestError> {
        if mention.voice == Voice::Brand {
            return Ok(MentionRecord {
                mention,
                assessment: None,
                alert: AlertState::None,
                alert_code: None,
                incident: None,
            });
        }
        let settings = self
            .watches
            .triage_settings(&mention.brand, self.clock.now())
            .await?;
        let context = triage_context(&mention, history, settings);
        let assessment = self.triage.assess(&mention, &context);
        let burst = if assessment.priority == Priority::P1 {
            self.burst_of(&mention, &assessment.reasons).await?
        } else {
            Burst::Alone
        };
        let (alert, alert_code, incident) = match (assessment.priority, burst) {
            (Priority::P1, Burst::Alone) => (
                AlertState::Pending,
                Some(self.reserve_code(&mention).await?),
                None,
            ),
            (Priority::P1, Burst::Page(incident)) => (
                AlertState::Pending,
                Some(self.reserve_code(&mention).await?),
                Some(incident),
            ),
            (_, Burst::Fold(incident)) => {
                info!(lead = %incident.lead, posts = incident.posts, "folded into an incident");
                (AlertState::None, None, Some(incident))
            }
            _ => (AlertState::None, None, None),
        };
        Ok(MentionRecord {
            mention,
            assessment: Some(assessment),
            alert,
            alert_code,
            incident,
        })
    }

    /// Where an urgent post stands among the brand's recent similar urgent
    /// posts: alone, the one that makes (or updates) an incident, or one
    /// more folded into it.
    async fn burst_of(&self, mention: &Mention, reasons: &[String]) -> Result<Burst, StoreError> {
        let now = self.clock.now();
        let recent = self
            .store
            .recent_mentions(now - INCIDENT_WINDOW, now, BURST_LIMIT)
            .await?;
        let words = topic_words(&mention.text, &mention.brand);
        let mut shared: Option<BTreeSet<String>> = None;
        let mut earlier: Vec<(&MentionId, DateTime<Utc>)> = Vec::new();
        for record in &recent {
            let Some(assessment) = &record.assessment else {
                continue;
            };
            let other = &record.mention;
            if other.id == mention.id
                || other.brand != mention.brand
                || assessment.priority != Priority::P1
            {
                continue;
            }
            let other_words = topic_words(&other.text, &other.brand);
            if similar(&words, reasons, &other_words, &assessment.reasons) {
                let common: BTreeSet<String> = words.intersection(&other_words).cloned().collect();
                shared = Some(match shared {
                    Some(so_far) => so_far.intersection(&common).cloned().collect(),
                    None => common,
                });
                earlier.push((&other.id, other.received_at));
            }
        }
        earlier.sort_by_key(|(_, at)| *at);
        Ok(classify(
            &earlier,
            shared.unwrap_or_default().into_iter().collect(),
        ))
    }

    /// How often the author has posted about the brand lately: the third
    /// post in forty minutes is more urgent than the first.
    /// The author's earlier posts about the brand in the follow-up window,
    /// newest first.
    async fn author_history(&self, mention: &Mention) -> Result<Vec<MentionRecord>, IngestError> {
        if mention.voice == Voice::Brand {
            return Ok(Vec::new());
        }
        let since = mention.created_at - FOLLOW_UP_WINDOW;
        let mut history = self
            .store
            .author_mentions(&AuthorKey::of(mention), since, HISTORY_LIMIT)
            .await?;
        history
            .retain(|r| r.mention.id != mention.id && r.mention.created_at <= mention.created_at);
        Ok(history)
    }

    /// A public reply that promises contact ("we'll be in touch", "DM us")
    /// to a post someone has taken brings the owner's reminder forward: if
    /// the alert is not DONE within the promised window, they hear of it.
    async fn hold_the_brand_to_its_promise(&self, reply: &Mention) -> Result<(), IngestError> {
        let Some(parent) = &reply.in_reply_to else {
            return Ok(());
        };
        let text = reply.text.to_lowercase();
        if !PROMISES.iter().any(|p| text.contains(p)) {
            return Ok(());
        }
        let Some(record) = self.store.get_mention(parent).await? else {
            return Ok(());
        };
        if record.alert_code.is_none()
            || self.follow_up.owner(parent).await?.is_none()
            || self.follow_up.closed(parent).await?.is_some()
        {
            return Ok(());
        }
        let due = reply.created_at + promised_within(&text).unwrap_or(PROMISE_WINDOW);
        if self.store.remind_by(parent, due).await? {
            info!(mention = %parent, %due, "the brand promised contact; reminder brought forward");
        }
        Ok(())
    }

    /// A customer whose complaint someone has taken posts again: the owner
    /// hears it now, not at the next shift. Best effort: the post itself is
    /// stored whatever happens here.
    async fn tell_owners_they_posted_again(
        &self,
        record: &MentionRecord,
        history: &[MentionRecord],
    ) {
        let mention = &record.mention;
        for earlier in history {
            let Some(code) = &earlier.alert_code else {
                continue;
            };
            let (Ok(Some(owner)), Ok(None)) = (
                self.follow_up.owner(&earlier.mention.id).await,
                self.follow_up.closed(&earlier.mention.id).await,
            ) else {
                continue;
            };
            let body = texts::posted_again(mention, code);
            match self.spend(&owner.phone).await {
                Ok(None) => {}
                Ok(Some(reason)) => {
                    // Over the cap: the new post waits in the owner's summary.
                    let held = HeldAlert {
                        phone: owner.phone.clone(),
                        mention: mention.id.clone(),
                        code: code.clone(),
                        priority: record
                            .assessment
                            .as_ref()
                            .map_or(Priority::P3, |a| a.priority),
                        handle: mention.author.handle.clone(),
                        reason,
                        at: self.clock.now(),
                    };
                    if let Err(err) = self.budget.hold(&held).await {
                        warn!(error = %err, "could not hold the posted-again SMS");
                    }
                    return;
                }
                Err(err) => {
                    warn!(error = %err, "SMS budget unavailable; posted-again SMS not sent");
                    return;
                }
            }
            match self.sms.send(&owner.phone, &body).await {
                Ok(_) => {
                    info!(owner = %owner.phone.masked(), %code, "owner told the author posted again")
                }
                Err(err) => {
                    warn!(owner = %owner.phone.masked(), reason = %err.reason, "posted-again SMS failed")
                }
            }
            // One SMS per new post is enough, however many alerts it follows.
            return;
        }
    }

    async fn reserve_code(&self, mention: &Mention) -> Result<AlertCode, IngestError> {
        for attempt in 0..CODE_ATTEMPTS {
            let code = AlertCode::candidate(mention.id.as_str(), attempt);
            if self.store.reserve_alert_code(&code, &mention.id).await? {
                return Ok(code);
            }
        }
        Err(IngestError::NoFreeCode(mention.id.to_string()))
    }

    async fn finish_outstanding(
        &self,
        record: MentionRecord,
        duplicate: bool,
    ) -> Result<Outcome, IngestError> {
        let (alert, sms_sent) = if record.alert.is_outstanding() {
            self.deliver(&record, None).await?
        } else {
            (record.alert.clone(), 0)
        };
        Ok(Outcome {
            id: record.mention.id.to_string(),
            duplicate,
            priority: record.assessment.as_ref().map(|a| a.priority),
            alert: if record.is_folded() {
                "folded"
            } else {
                alert.label()
            },
            sms_sent,
        })
    }

    /// Pages the alert's tiers up to `max_tier` (escalation), or re-sends
    /// what a failed attempt missed; phones that already have it get
    /// nothing. Returns the number of SMS sent now.
    pub async fn follow_through(
        &self,
        record: &MentionRecord,
        max_tier: u8,
    ) -> Result<usize, IngestError> {
        Ok(self.deliver(record, Some(max_tier)).await?.1)
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
        self.store
            .record_delivery(id, &contact.phone, &Delivery::Held { reason }, now)
            .await
    }

    /// Sends the alert to every on-call phone up to `max_tier` (by default
    /// the first tier anyone is on) that has not had it yet, and returns the
    /// alert's new state with the number of SMS sent now. Phones in quiet
    /// hours, or over an SMS cap, get it in a summary instead.
    async fn deliver(
        &self,
        record: &MentionRecord,
        max_tier: Option<u8>,
    ) -> Result<(AlertState, usize), IngestError> {
        let id = &record.mention.id;
        let (Some(assessment), Some(code)) = (&record.assessment, &record.alert_code) else {
            return Ok((record.alert.clone(), 0));
        };
        let now = self.clock.now();
        let roster = self.roster.contacts().await?;
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
            if self
                .store
                .claim_delivery(id, &resting.phone, now, now + DELIVERY_LEASE)
                .await?
                == Claim::Granted
            {
                self.hold(record, code, resting, HoldReason::QuietHours)
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
        let mut reached = 0;
        let mut sent_now = 0;
        let mut held = 0;
        let mut in_flight = 0;
        let mut failures = Vec::new();
        for contact in &contacts {
            let now = self.clock.now();
            match self
                .store
                .claim_delivery(id, &contact.phone, now, now + DELIVERY_LEASE)
                .await?
            {
                Claim::AlreadySent => {
                    reached += 1;
                    continue;
                }
                Claim::Held => {
                    held += 1;
                    continue;
                }
                Claim::InFlight => {
                    in_flight += 1;
                    continue;
                }
                Claim::Granted => {}
            }
            if let Some(reason) = self.spend(&contact.phone).await? {
                self.hold(record, code, contact, reason).await?;
                held += 1;
                continue;
            }
            let outcome = match self.sms.send(&contact.phone, &body).await {
                Ok(message_id) => {
                    info!(phone = %contact.phone.masked(), %message_id, "alert SMS sent");
                    // A bare "ACK" from this phone now means this alert.
                    if let Err(err) = self.follow_up.set_latest_alert(&contact.phone, code).await {
                        warn!(error = %err, "could not remember the latest alert for the phone");
                    }
                    sent_now += 1;
                    Delivery::Sent { message_id }
                }
                Err(err) => {
                    warn!(phone = %contact.phone.masked(), reason = %err.reason, "alert SMS failed");
                    failures.push(format!("{}: {}", contact.phone.masked(), err.reason));
                    Delivery::Failed { reason: err.reason }
                }
            };
            self.store
                .record_delivery(id, &contact.phone, &outcome, self.clock.now())
                .await?;
        }

        if !failures.is_empty() {
            let state = AlertState::Failed {
                at: self.clock.now(),
                reason: failures.join("; "),
            };
            self.store.set_alert_state(id, &state).await?;
            return Err(IngestError::AlertNotDelivered {
                mention: id.to_string(),
                failed: failures.len(),
                total: contacts.len(),
            });
        }
        if in_flight > 0 {
            // A concurrent delivery of the same post is sending to the rest
            // and will record the final state itself.
            return Ok((record.alert.clone(), sent_now));
        }
        if reached + sent_now == 0 {
            // Everyone was held back by a cap: the alert stays open, so the
            // next tier is paged when its turn comes.
            info!(held, "alert held for every phone of its tier");
            return Ok((record.alert.clone(), 0));
        }
        let state = AlertState::Sent {
            at: self.clock.now(),
            recipients: (reached + sent_now) as u32,
        };
        self.store.set_alert_state(id, &state).await?;
        Ok((state, sent_now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_may_name_its_own_window() {
        let within = |text: &str| promised_within(&text.to_lowercase());
        assert_eq!(
            within("Sorry! We'll call you within 30 minutes"),
            Some(Duration::minutes(30))
        );
        assert_eq!(
            within("DM us, we will get back to you in the next 24 hours."),
            Some(Duration::hours(24))
        );
        assert_eq!(
            within("Looking into it, expect an answer in two working days"),
            Some(Duration::days(2))
        );
        assert_eq!(
            within("We'll be in touch by tomorrow"),
            Some(Duration::hours(24))
        );
        assert_eq!(
            within("We'll be in touch within an hour"),
            Some(Duration::hours(1))
        );
        assert_eq!(within("DM us your booking reference"), None);
        assert_eq!(within("Flight NW418 is 2 gates away"), None);
    }
}
