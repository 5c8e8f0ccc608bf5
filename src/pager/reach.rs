//! Making sure a page reaches someone, beyond sending the SMS: who holds
//! each tier now (the rota), whether an alert's SMS failed everywhere, a
//! voice call when text is not enough, one warning about a number that
//! keeps failing, one SMS to whoever comes on shift, and the rest of the
//! chain told once when an alert is taken or closed.
//!
//! The chain news, shift notices and warnings are not counted against the
//! SMS caps: they are few, and each stops people doing needless work.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use crate::domain::spoken::spoken_alert;
use crate::domain::zone::Zone;
use crate::domain::{AlertCode, MentionRecord, OnCallContact, PhoneNumber};
use crate::ports::{
    ChainNews, HandOverStore, MentionStore, Ownership, PhoneHealth, ReceiptStatus, ReceiptStore,
    RosterStore, RotaStore, SmsSender, StoreError, VoiceCaller,
};
use crate::sms::{SmsText, texts, to_gsm7};

/// Open alerts listed at most in a shift notice before "+N more".
const SHIFT_LIST_LIMIT: usize = 50;

#[derive(Clone)]
pub struct Reach {
    pub store: Arc<dyn MentionStore>,
    pub roster: Arc<dyn RosterStore>,
    pub rota: Arc<dyn RotaStore>,
    pub receipts: Arc<dyn ReceiptStore>,
    pub handover: Arc<dyn HandOverStore>,
    pub sms: Arc<dyn SmsSender>,
    pub voice: Option<Arc<dyn VoiceCaller>>,
}

impl Reach {
    /// The roster as paging sees it now: each tier with a rota is whoever
    /// is on shift.
    pub async fn on_call(&self, now: DateTime<Utc>) -> Result<Vec<OnCallContact>, StoreError> {
        super::on_call::on_call_at(self.roster.as_ref(), self.rota.as_ref(), now).await
    }

    /// True when the alert's SMS went to at least one of `phones` and the
    /// carrier reported every one of those failed: nobody at that tier has
    /// it, so the next tier should not wait.
    pub async fn failed_everywhere(
        &self,
        record: &MentionRecord,
        phones: &[PhoneNumber],
    ) -> Result<bool, StoreError> {
        let sent = self.receipts.alert_sms(&record.mention.id).await?;
        let mut tried = sent.iter().filter(|s| phones.contains(&s.phone)).peekable();
        if tried.peek().is_none() {
            return Ok(false);
        }
        Ok(tried.all(|s| s.receipt == Some(ReceiptStatus::Failed)))
    }

    /// Phones the alert's SMS reached or may still reach, and those it
    /// failed to, from receipts.
    pub async fn paged_phones(
        &self,
        record: &MentionRecord,
    ) -> Result<(Vec<PhoneNumber>, Vec<PhoneNumber>), StoreError> {
        let sent = self.receipts.alert_sms(&record.mention.id).await?;
        let (failed, fine): (Vec<_>, Vec<_>) = sent
            .into_iter()
            .partition(|s| s.receipt == Some(ReceiptStatus::Failed));
        Ok((
            fine.into_iter().map(|s| s.phone).collect(),
            failed.into_iter().map(|s| s.phone).collect(),
        ))
    }

    /// Calls `phone` about the alert, once per alert and phone; false when
    /// calls are off, already made, or the call was refused.
    pub async fn call(
        &self,
        record: &MentionRecord,
        phone: &PhoneNumber,
    ) -> Result<bool, StoreError> {
        let (Some(voice), Some(assessment), Some(code)) =
            (&self.voice, &record.assessment, &record.alert_code)
        else {
            return Ok(false);
        };
        if !self.receipts.claim_call(&record.mention.id, phone).await? {
            return Ok(false);
        }
        let spoken = spoken_alert(&record.mention, assessment, code);
        match voice.call(phone, &spoken).await {
            Ok(message_id) => {
                info!(mention = %record.mention.id, phone = %phone.masked(), %message_id, "voice call placed");
                Ok(true)
            }
            Err(err) => {
                warn!(mention = %record.mention.id, phone = %phone.masked(), reason = %err.reason, "voice call failed");
                Ok(false)
            }
        }
    }

    /// Tells everyone the alert's SMS went to, except `by` and anyone who
    /// has opted out since, that it was taken or closed; once per alert and
    /// news. Returns the SMS sent.
    pub async fn tell_chain(
        &self,
        record: &MentionRecord,
        code: &AlertCode,
        news: ChainNews,
        by: &Ownership,
        noise: bool,
    ) -> Result<usize, StoreError> {
        let id = &record.mention.id;
        // Not those who texted STOP (or left the roster) since they were paged.
        let roster = self.roster.contacts().await?;
        let still_listening =
            |phone: &PhoneNumber| roster.iter().any(|c| &c.phone == phone && !c.opted_out);
        let others: Vec<PhoneNumber> = self
            .receipts
            .alert_sms(id)
            .await?
            .into_iter()
            .map(|s| s.phone)
            .filter(|p| p != &by.phone && still_listening(p))
            .collect();
        if others.is_empty() || !self.handover.claim_chain_news(id, news).await? {
            return Ok(0);
        }
        let text = match news {
            ChainNews::Taken => texts::chain_taken(code, &by.name),
            ChainNews::Closed => texts::chain_closed(code, &by.name, noise),
        };
        let sent = send_each(self.sms.as_ref(), &others, &text, "chain news").await;
        info!(mention = %id, told = sent, news = news.key(), "chain told");
        Ok(sent)
    }

    /// One SMS to tier 1 about each number whose SMS keep failing; the
    /// failing phone itself is not told. Returns the warnings sent.
    pub async fn warn_about_failing_numbers(
        &self,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let failing: Vec<PhoneHealth> = self
            .receipts
            .phone_health()
            .await?
            .into_iter()
            .filter(PhoneHealth::needs_warning)
            .collect();
        if failing.is_empty() {
            return Ok(0);
        }
        let on_call = self.on_call(now).await?;
        let first_tier = on_call.iter().map(|c| c.tier).min();
        let mut sent = 0;
        for health in failing {
            let name = on_call
                .iter()
                .chain(self.roster.contacts().await?.iter())
                .find(|c| c.phone == health.phone)
                .map_or_else(|| health.phone.masked(), |c| c.name.clone());
            let told: Vec<&OnCallContact> = on_call
                .iter()
                .filter(|c| Some(c.tier) == first_tier && c.phone != health.phone && !c.opted_out)
                .collect();
            if told.is_empty() || !self.receipts.claim_phone_warning(&health.phone).await? {
                continue;
            }
            let text = texts::failing_number(
                &name,
                health.failures,
                health.last_reason.as_deref().unwrap_or("no reason given"),
            );
            let phones: Vec<PhoneNumber> = told.iter().map(|c| c.phone.clone()).collect();
            sent += send_each(self.sms.as_ref(), &phones, &text, "failing-number warning").await;
        }
        Ok(sent)
    }

    /// One SMS to each person whose shift has started and who has not been
    /// told yet, listing what is open. Returns the notices sent.
    pub async fn announce_shifts(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let rota = self.rota.rota(now).await?;
        if rota.is_empty() {
            return Ok(0);
        }
        let contacts = self.roster.contacts().await?;
        let mut sent = 0;
        for tier in rota.tiers() {
            let Some(shift) = rota.on_shift(tier, now) else {
                continue;
            };
            let Some(contact) = contacts.iter().find(|c| c.phone == shift.phone) else {
                continue;
            };
            // In quiet hours the notice waits (unclaimed) for a later run.
            if contact.opted_out
                || contact.is_quiet_at(now)
                || !self.rota.claim_shift_notice(&shift).await?
            {
                continue;
            }
            let zone = rota
                .rotations
                .iter()
                .find(|r| r.tier == tier)
                .map(|r| r.time_zone.clone())
                .or_else(|| contact.time_zone.clone());
            let open = self.open_alert_lines(now).await?;
            let text = texts::shift_starts(tier, &local_time(shift.ends, zone.as_deref()), &open);
            sent += send_each(
                self.sms.as_ref(),
                std::slice::from_ref(&contact.phone),
                &text,
                "shift notice",
            )
            .await;
        }
        Ok(sent)
    }

    /// "P1 QFWJ @dana" for each alert waiting for an ACK or taken but not
    /// closed, most urgent first.
    async fn open_alert_lines(&self, now: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        let mut open = self.store.open_alerts(now, SHIFT_LIST_LIMIT).await?;
        // Owned alerts wait on the reminder list, keyed by a future time.
        let far = now + chrono::Duration::days(365);
        open.extend(self.store.reminders_due(far, SHIFT_LIST_LIMIT).await?);
        let mut lines: Vec<(crate::domain::Priority, String)> = open
            .iter()
            .filter_map(|r| {
                let code = r.alert_code.as_ref()?;
                let priority = r.assessment.as_ref()?.priority;
                Some((
                    priority,
                    format!("{priority} {code} @{}", to_gsm7(&r.mention.author.handle)),
                ))
            })
            .collect();
        lines.sort();
        lines.dedup();
        Ok(lines.into_iter().map(|(_, line)| line).collect())
    }
}

/// "Mon 30 Mar 09:00 Europe/London": a moment as the team's clock shows it.
pub fn local_time(at: DateTime<Utc>, zone: Option<&str>) -> String {
    let zone = Zone::named_or_utc(zone);
    format!(
        "{} {}",
        zone.wall_clock(at).format("%a %d %b %H:%M"),
        zone.name()
    )
}

/// Sends one text to each phone; returns how many went out.
async fn send_each(
    sms: &dyn SmsSender,
    phones: &[PhoneNumber],
    text: &SmsText,
    what: &str,
) -> usize {
    let mut sent = 0;
    for phone in phones {
        match sms.send(phone, text).await {
            Ok(_) => sent += 1,
            Err(err) => warn!(to = %phone.masked(), reason = %err.reason, what, "SMS failed"),
        }
    }
    sent
}
