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
use chrono_tz::Tz;
use tracing::{info, warn};

use crate::domain::alert::{SMS_SEGMENT, fit_one_sms, to_gsm7};
use crate::domain::rota::Shift;
use crate::domain::spoken::spoken_alert;
use crate::domain::{AlertCode, MentionRecord, OnCallContact, PhoneNumber};
use crate::ports::{
    ChainNews, HandOverStore, MentionStore, Ownership, PhoneHealth, ReceiptStatus, ReceiptStore,
    RosterStore, RotaStore, SmsSender, StoreError, VoiceCaller,
};

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
        let contacts = self.roster.contacts().await?;
        Ok(self.rota.rota(now).await?.assign(&contacts, now))
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

    /// Tells everyone the alert's SMS went to, except `by`, that it was
    /// taken or closed; once per alert and news. Returns the SMS sent.
    pub async fn tell_chain(
        &self,
        record: &MentionRecord,
        code: &AlertCode,
        news: ChainNews,
        by: &Ownership,
        noise: bool,
    ) -> Result<usize, StoreError> {
        let id = &record.mention.id;
        let others: Vec<PhoneNumber> = self
            .receipts
            .alert_sms(id)
            .await?
            .into_iter()
            .map(|s| s.phone)
            .filter(|p| p != &by.phone)
            .collect();
        if others.is_empty() || !self.handover.claim_chain_news(id, news).await? {
            return Ok(0);
        }
        let text = chain_news_text(code, news, &by.name, noise);
        let mut sent = 0;
        for phone in &others {
            match self.sms.send(phone, &text).await {
                Ok(_) => sent += 1,
                Err(err) => {
                    warn!(to = %phone.masked(), reason = %err.reason, "chain news SMS failed")
                }
            }
        }
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
            let text = failing_number_text(&name, &health);
            for contact in told {
                match self.sms.send(&contact.phone, &text).await {
                    Ok(_) => sent += 1,
                    Err(err) => {
                        warn!(to = %contact.phone.masked(), reason = %err.reason, "failing-number warning failed")
                    }
                }
            }
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
            if contact.opted_out || !self.rota.claim_shift_notice(&shift).await? {
                continue;
            }
            let zone = rota
                .rotations
                .iter()
                .find(|r| r.tier == tier)
                .map(|r| r.time_zone.clone())
                .or_else(|| contact.time_zone.clone());
            let open = self.open_alert_lines(now).await?;
            let text = shift_notice_text(&shift, zone.as_deref(), &open);
            match self.sms.send(&contact.phone, &text).await {
                Ok(_) => sent += 1,
                Err(err) => {
                    warn!(to = %contact.phone.masked(), reason = %err.reason, "shift notice failed")
                }
            }
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

/// "QFWJ taken by Sam. No need to act." / "QFWJ closed by Sam."
pub fn chain_news_text(code: &AlertCode, news: ChainNews, name: &str, noise: bool) -> String {
    let text = match (news, noise) {
        (ChainNews::Taken, _) => format!("{code} taken by {name}. No need to act on it."),
        (ChainNews::Closed, true) => format!("{code} closed by {name} as a false alarm."),
        (ChainNews::Closed, false) => format!("{code} closed by {name}."),
    };
    fit_one_sms(&to_gsm7(&text))
}

/// "Earshot: SMS to Kim failed 3 times in a row (Phone is currently
/// unreachable). Check the number: earshot roster list"
pub fn failing_number_text(name: &str, health: &PhoneHealth) -> String {
    let reason = health.last_reason.as_deref().unwrap_or("no reason given");
    fit_one_sms(&to_gsm7(&format!(
        "Earshot: SMS to {name} failed {} times in a row ({reason}). Check the number: earshot roster list",
        health.failures
    )))
}

/// "You are on call (tier 1) until Mon 30 Mar 09:00 Europe/London. Open:
/// 2. P1 QFWJ @dana; P2 K3JD @tom. Reply WHO <code>."
pub fn shift_notice_text(shift: &Shift, zone: Option<&str>, open: &[String]) -> String {
    let zone: Tz = zone.and_then(|z| z.parse().ok()).unwrap_or(Tz::UTC);
    let until = shift.ends.with_timezone(&zone).format("%a %d %b %H:%M");
    let head = format!(
        "You are on call (tier {}) until {until} {}.",
        shift.tier,
        zone.name()
    );
    if open.is_empty() {
        return fit_one_sms(&format!("{head} Nothing is open."));
    }
    let tail = " Reply WHO <code>.";
    let mut body = format!("{head} Open: {}.", open.len());
    let mut listed = 0;
    for line in open {
        let more = open.len() - listed - 1;
        let reserve = tail.len()
            + if more > 0 {
                format!(" +{more} more.").len()
            } else {
                0
            };
        let entry = format!(" {line};");
        if body.len() + entry.len() + reserve > SMS_SEGMENT {
            break;
        }
        body.push_str(&entry);
        listed += 1;
    }
    if body.ends_with(';') {
        body.pop();
        body.push('.');
    }
    if listed < open.len() {
        body.push_str(&format!(" +{} more.", open.len() - listed));
    }
    body.push_str(tail);
    fit_one_sms(&body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::alert::gsm_septets;
    use crate::domain::rota::Cover;

    fn shift() -> Shift {
        Shift {
            tier: 1,
            phone: PhoneNumber::parse("+15555550100").unwrap(),
            starts: "2026-03-23T09:00:00Z".parse().unwrap(),
            ends: "2026-03-30T08:00:00Z".parse().unwrap(),
            cover: Cover::Rotation,
        }
    }

    #[test]
    fn a_shift_notice_gives_the_local_end_and_what_is_open_in_one_sms() {
        let notice = shift_notice_text(
            &shift(),
            Some("Europe/London"),
            &["P1 QFWJ @dana".into(), "P2 K3JD @tom".into()],
        );
        assert_eq!(
            notice,
            "You are on call (tier 1) until Mon 30 Mar 09:00 Europe/London. Open: 2. P1 QFWJ @dana; P2 K3JD @tom. Reply WHO <code>."
        );
        let quiet = shift_notice_text(&shift(), None, &[]);
        assert_eq!(
            quiet,
            "You are on call (tier 1) until Mon 30 Mar 08:00 UTC. Nothing is open."
        );
        let many: Vec<String> = (0..40)
            .map(|i| format!("P1 QFW{i} @someone_long"))
            .collect();
        let crowded = shift_notice_text(&shift(), Some("Europe/London"), &many);
        assert!(
            gsm_septets(&crowded).is_some_and(|n| n <= SMS_SEGMENT),
            "{crowded}"
        );
        assert!(crowded.contains(" more. Reply WHO <code>."), "{crowded}");
    }

    #[test]
    fn chain_news_and_warnings_fit_one_gsm7_sms() {
        let code = AlertCode::parse("QFWJ").unwrap();
        assert_eq!(
            chain_news_text(&code, ChainNews::Taken, "Sam", false),
            "QFWJ taken by Sam. No need to act on it."
        );
        assert_eq!(
            chain_news_text(&code, ChainNews::Closed, "Sam", true),
            "QFWJ closed by Sam as a false alarm."
        );
        let health = PhoneHealth {
            phone: PhoneNumber::parse("+15555550101").unwrap(),
            failures: 3,
            last_reason: Some("Phone is currently unreachable/unavailable".into()),
            last_at: "2026-11-24T10:00:00Z".parse().unwrap(),
            warned: false,
        };
        let warning = failing_number_text("Kim", &health);
        assert_eq!(
            warning,
            "Earshot: SMS to Kim failed 3 times in a row (Phone is currently unreachable/unavailable). Check the number: earshot roster list"
        );
        let long_name = "Ö".repeat(200);
        for text in [
            chain_news_text(&code, ChainNews::Taken, &long_name, false),
            failing_number_text(&long_name, &health),
        ] {
            assert!(
                gsm_septets(&text).is_some_and(|n| n <= SMS_SEGMENT),
                "{text}"
            );
        }
    }
}
