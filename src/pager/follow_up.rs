//! Follow-ups to an alert's owner: the customer posted again, the brand
//! promised contact, or the alert is still open hours later.

use chrono::{DateTime, Duration, Utc};
use tracing::{info, warn};

use super::Pager;
use crate::domain::{AlertCode, Mention, MentionRecord, Priority};
use crate::ports::{HeldAlert, Ownership, StoreError};
use crate::sms::texts;

/// How soon a reminder held by quiet hours is tried again.
const QUIET_RETRY: Duration = Duration::minutes(30);
/// Reminders stop this long after the post: by then it is history.
const REMIND_UNTIL: Duration = Duration::hours(48);
/// Reminders looked at per run; more wait for the next.
const REMINDER_BATCH: usize = 200;

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

impl Pager {
    /// A public reply that promises contact ("we'll be in touch", "DM us")
    /// to a post someone has taken brings the owner's reminder forward: if
    /// the alert is not DONE within the promised window, they hear of it.
    pub async fn hold_the_brand_to_its_promise(&self, reply: &Mention) -> Result<(), StoreError> {
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

    /// The open alert that one of the author's earlier posts (newest first)
    /// raised and someone took, with its owner: a new post by this author
    /// goes to that owner, not to the roster as a new page. Best effort: a
    /// look-up that fails counts as no owner, so the post is paged.
    pub async fn owned_alert_of(
        &self,
        history: &[MentionRecord],
    ) -> Option<(AlertCode, Ownership)> {
        for earlier in history {
            let Some(code) = &earlier.alert_code else {
                continue;
            };
            if let (Ok(Some(owner)), Ok(None)) = (
                self.follow_up.owner(&earlier.mention.id).await,
                self.follow_up.closed(&earlier.mention.id).await,
            ) {
                return Some((code.clone(), owner));
            }
        }
        None
    }

    /// A customer whose complaint someone has taken posts again: the owner
    /// hears it now, not at the next shift, in one SMS. Best effort: the
    /// post itself is stored whatever happens here.
    pub async fn tell_owner_they_posted_again(
        &self,
        record: &MentionRecord,
        code: &AlertCode,
        owner: &Ownership,
    ) {
        let mention = &record.mention;
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
    }

    /// Owners of acknowledged alerts still open get a nudge. One alert
    /// whose records cannot be read or written does not hold back the
    /// others; the run ends in the first such error, after all of them.
    pub async fn remind_owners(&self, remind_after: Duration) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let mut sent = 0;
        let mut first_error = None;
        for record in self.store.reminders_due(now, REMINDER_BATCH).await? {
            match self.remind_owner(&record, now, remind_after).await {
                Ok(true) => sent += 1,
                Ok(false) => {}
                Err(err) => {
                    warn!(mention = %record.mention.id, error = %err, "reminder not handled; the next run tries again");
                    first_error.get_or_insert(err);
                }
            }
        }
        first_error.map_or(Ok(sent), Err)
    }

    /// Reminds the owner of `record` if it is still theirs and open, and
    /// they can be texted now; true if a reminder went.
    async fn remind_owner(
        &self,
        record: &MentionRecord,
        now: DateTime<Utc>,
        remind_after: Duration,
    ) -> Result<bool, StoreError> {
        let id = &record.mention.id;
        let owner = self.follow_up.owner(id).await?;
        let closed = self.follow_up.closed(id).await?.is_some();
        let (Some(owner), Some(code), false) = (owner, &record.alert_code, closed) else {
            self.store.settle_alert(id).await?;
            return Ok(false);
        };
        if now - record.mention.received_at > REMIND_UNTIL {
            self.store.settle_alert(id).await?;
            return Ok(false);
        }
        let contacts = self.roster.contacts().await?;
        let owner_contact = contacts.iter().find(|c| c.phone == owner.phone);
        // A reminder can wait for the end of quiet hours...
        if owner_contact.is_some_and(|c| c.opted_out || c.is_quiet_at(now)) {
            self.store.own_alert(id, now + QUIET_RETRY).await?;
            return Ok(false);
        }
        // The next reminder is booked before this one goes, by a write only
        // one run can make: booked after the SMS, a failed booking would
        // have the next run send the same reminder again, and two runs at
        // once would both send it. A failed SMS waits for the next reminder.
        if !self
            .store
            .book_reminder(id, now, now + remind_after)
            .await?
        {
            return Ok(false);
        }
        // ...or for room under the SMS caps, counted only by the run that
        // sends.
        if self.spend(&owner.phone).await?.is_some() {
            self.store.own_alert(id, now + QUIET_RETRY).await?;
            return Ok(false);
        }
        let text = texts::reminder(code, &record.mention.author.handle, owner.at);
        match self.sms.send(&owner.phone, &text).await {
            Ok(_) => Ok(true),
            Err(err) => {
                warn!(owner = %owner.phone.masked(), reason = %err.reason, "reminder SMS failed");
                Ok(false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_may_name_its_own_window() {
        for (reply, window) in [
            (
                "Sorry! We'll call you within 30 minutes",
                Some(Duration::minutes(30)),
            ),
            (
                "DM us, we will get back to you in the next 24 hours.",
                Some(Duration::hours(24)),
            ),
            (
                "Looking into it, expect an answer in two working days",
                Some(Duration::days(2)),
            ),
            ("We'll be in touch by tomorrow", Some(Duration::hours(24))),
            ("We'll be in touch within an hour", Some(Duration::hours(1))),
            ("DM us your booking reference", None),
            ("Flight NW418 is 2 gates away", None),
        ] {
            assert_eq!(promised_within(&reply.to_lowercase()), window, "{reply}");
        }
    }
}
