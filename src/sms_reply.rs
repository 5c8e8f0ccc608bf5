//! The sms-reply function: staff text back to the alert number; AWS End User
//! Messaging publishes each inbound SMS to an SNS topic, which invokes this.
//! The first ACK takes the alert, every valid reply is confirmed, unknown
//! senders get nothing, and a repeated delivery changes nothing.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use tracing::{info, warn};

use crate::domain::Clock;
use crate::domain::reply::{ReplyCommand, parse_reply};
use crate::domain::rota::RotaOverride;
use crate::domain::{AlertCode, MentionId, OnCallContact, PhoneNumber};
use crate::pager::{Reach, local_time};
use crate::ports::{
    Acknowledged, ChainNews, FollowUpStore, MentionStore, Offer, Ownership, RosterStore, SmsSender,
    StoreError,
};
use crate::sms::{SmsText, texts};

/// The SNS event that invokes the function; only what is read.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct SnsEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<SnsRecord>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SnsRecord {
    #[serde(rename = "Sns")]
    pub sns: SnsMessage,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SnsMessage {
    /// The inbound SMS, as a JSON string.
    #[serde(rename = "Message")]
    pub message: String,
}

/// One text from a phone, as End User Messaging publishes it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundSms {
    pub origination_number: String,
    #[serde(default)]
    pub destination_number: Option<String>,
    pub message_body: String,
    pub inbound_message_id: String,
    #[serde(default)]
    pub previous_published_message_id: Option<String>,
}

#[derive(Debug, Error)]
pub enum ReplyFailure {
    /// Retrying the event may help: nothing was claimed yet.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one invocation did, for logs and `earshot sms`.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct ReplySummary {
    pub handled: usize,
    pub duplicates: usize,
    pub unknown_senders: usize,
    pub malformed: usize,
    /// The confirmations sent, in order.
    pub answers: Vec<String>,
}

pub struct SmsReplies {
    /// The chain, hand-overs and the rota.
    pub reach: Reach,
    pub store: Arc<dyn MentionStore>,
    pub follow_up: Arc<dyn FollowUpStore>,
    pub roster: Arc<dyn RosterStore>,
    pub sms: Arc<dyn SmsSender>,
    pub clock: Clock,
    /// An acknowledged alert not closed after this long reminds its owner.
    pub remind_after: chrono::Duration,
    /// Posts approved public replies (`REPLY <code> <n>`).
    pub public: crate::public_reply::PublicReplyDesk,
}

impl SmsReplies {
    pub async fn handle(&self, event: &SnsEvent) -> Result<ReplySummary, ReplyFailure> {
        let mut summary = ReplySummary::default();
        for record in &event.records {
            match serde_json::from_str::<InboundSms>(&record.sns.message) {
                Ok(inbound) => self.handle_one(&inbound, &mut summary).await?,
                Err(err) => {
                    // Retrying cannot fix a malformed message.
                    warn!(error = %err, "inbound SMS message is not the expected JSON");
                    summary.malformed += 1;
                }
            }
        }
        Ok(summary)
    }

    #[tracing::instrument(skip_all, fields(inbound = %inbound.inbound_message_id))]
    async fn handle_one(
        &self,
        inbound: &InboundSms,
        summary: &mut ReplySummary,
    ) -> Result<(), ReplyFailure> {
        let Ok(from) = PhoneNumber::parse(inbound.origination_number.trim()) else {
            warn!("inbound SMS from a number that is not E.164");
            summary.malformed += 1;
            return Ok(());
        };
        let contacts = self.roster.contacts().await?;
        let Some(contact) = contacts.into_iter().find(|c| c.phone == from) else {
            warn!(from = %from.masked(), "inbound SMS from a number not on the roster; not answered");
            summary.unknown_senders += 1;
            return Ok(());
        };
        if !self
            .follow_up
            .first_sight_of_inbound(&inbound.inbound_message_id, self.clock.now())
            .await?
        {
            info!("inbound SMS already handled");
            summary.duplicates += 1;
            return Ok(());
        }
        summary.handled += 1;
        let answer = match parse_reply(&inbound.message_body) {
            Ok(command) => self.act(&contact, command).await?,
            Err(err) => Some(texts::unreadable_reply(&err.to_string())),
        };
        if let Some(answer) = answer {
            if let Err(err) = self.sms.send(&contact.phone, &answer).await {
                warn!(to = %contact.phone.masked(), reason = %err.reason, "confirmation SMS failed");
            }
            summary.answers.push(answer.into());
        }
        Ok(())
    }

    /// Carries out one command; returns the confirmation to send, if any.
    async fn act(
        &self,
        contact: &OnCallContact,
        command: ReplyCommand,
    ) -> Result<Option<SmsText>, StoreError> {
        let me = Ownership {
            name: contact.name.clone(),
            phone: contact.phone.clone(),
            at: self.clock.now(),
        };
        let code = match &command {
            ReplyCommand::Help => return Ok(Some(texts::help())),
            ReplyCommand::Stop => {
                // The carrier confirms STOP itself; nothing may be sent now.
                self.follow_up.set_opted_out(&contact.phone, true).await?;
                info!(from = %contact.phone.masked(), "opted out of alerts");
                return Ok(None);
            }
            ReplyCommand::Start => {
                self.follow_up.set_opted_out(&contact.phone, false).await?;
                return Ok(Some(texts::alerts_back_on()));
            }
            ReplyCommand::Reply(code, number) => {
                return Ok(Some(self.public.reply(contact, code, *number).await?));
            }
            ReplyCommand::Ack(None) => match self.follow_up.latest_alert(&contact.phone).await? {
                Some(code) => code,
                None => {
                    return Ok(Some(texts::no_alert_sent_yet()));
                }
            },
            ReplyCommand::Take => return Ok(Some(self.take_shift(contact, &me).await?)),
            ReplyCommand::Ack(Some(code))
            | ReplyCommand::Done(code)
            | ReplyCommand::Noise(code)
            | ReplyCommand::Who(code)
            | ReplyCommand::Pass(code, _)
            | ReplyCommand::Snooze(code, _) => code.clone(),
        };
        let Some(mention) = self.follow_up.mention_for_code(&code).await? else {
            return Ok(Some(texts::no_such_alert(&code)));
        };
        let answer = match command {
            ReplyCommand::Ack(_) if self.take_offer(&mention, &code, &me).await? => {
                let post = self.store.get_mention(&mention).await?;
                texts::yours(&code, post.as_ref().map(|record| &record.mention))
            }
            ReplyCommand::Ack(_) => match self.follow_up.acknowledge(&mention, &me).await? {
                Acknowledged::Won => {
                    info!(%code, by = %contact.phone.masked(), "alert acknowledged");
                    let remind_at = self.clock.now() + self.remind_after;
                    self.store.own_alert(&mention, remind_at).await?;
                    let post = self.store.get_mention(&mention).await?;
                    if let Some(record) = &post {
                        self.reach
                            .tell_chain(record, &code, ChainNews::Taken, &me, false)
                            .await?;
                    }
                    texts::yours(&code, post.as_ref().map(|record| &record.mention))
                }
                Acknowledged::AlreadyOwned(owner) if owner.phone == contact.phone => {
                    texts::already_yours(&code)
                }
                Acknowledged::AlreadyOwned(owner) => {
                    texts::already_taken(&code, &owner.name, owner.at)
                }
            },
            ReplyCommand::Done(_) => {
                // Closing an alert nobody took also takes it, so reports
                // show who handled it.
                if let Acknowledged::Won = self.follow_up.acknowledge(&mention, &me).await? {
                    info!(%code, "closed without an earlier ACK");
                }
                match self.follow_up.close(&mention, &me).await? {
                    None => {
                        self.store.settle_alert(&mention).await?;
                        self.tell_chain_closed(&mention, &code, &me, false).await?;
                        texts::closed(&code, &contact.name)
                    }
                    Some(closer) => texts::already_closed(&code, &closer.name),
                }
            }
            ReplyCommand::Noise(_) => {
                self.follow_up.record_noise(&mention, &me).await?;
                self.tell_chain_closed(&mention, &code, &me, true).await?;
                texts::noted_as_noise(&code)
            }
            ReplyCommand::Pass(_, name) => {
                self.pass(&mention, &code, contact, &me, name.as_deref())
                    .await?
            }
            ReplyCommand::Snooze(_, pause) => match self.follow_up.owner(&mention).await? {
                Some(owner) if owner.phone == me.phone => {
                    let until = me.at + pause;
                    self.store.own_alert(&mention, until).await?;
                    texts::snoozed(&code, until)
                }
                owner => texts::not_yours(&code, owner.as_ref().map(|o| o.name.as_str())),
            },
            ReplyCommand::Who(_) => match self.follow_up.owner(&mention).await? {
                Some(owner) => texts::owner_is(&code, &owner.name, owner.at),
                None => texts::nobody_yet(&code),
            },
            ReplyCommand::Help
            | ReplyCommand::Stop
            | ReplyCommand::Start
            | ReplyCommand::Take
            | ReplyCommand::Reply(..) => texts::help(),
        };
        Ok(Some(answer))
    }

    async fn tell_chain_closed(
        &self,
        mention: &MentionId,
        code: &AlertCode,
        by: &Ownership,
        noise: bool,
    ) -> Result<(), StoreError> {
        if let Some(record) = self.store.get_mention(mention).await? {
            self.reach
                .tell_chain(&record, code, ChainNews::Closed, by, noise)
                .await?;
        }
        Ok(())
    }

    /// An ACK from the person an alert was passed to moves it to them, if
    /// whoever passed it still has it; the first owner is told.
    async fn take_offer(
        &self,
        mention: &MentionId,
        code: &AlertCode,
        me: &Ownership,
    ) -> Result<bool, StoreError> {
        let Some(offer) = self.reach.handover.offer_of(mention).await? else {
            return Ok(false);
        };
        if offer.to != me.phone
            || !self
                .reach
                .handover
                .transfer(mention, &offer.from, me)
                .await?
        {
            return Ok(false);
        }
        info!(%code, to = %me.phone.masked(), "passed alert taken");
        self.store
            .own_alert(mention, me.at + self.remind_after)
            .await?;
        self.notify(&offer.from.phone, &texts::taken_over(code, &me.name))
            .await;
        Ok(true)
    }

    /// PASS: the owner offers the alert to someone by name, or to the next
    /// tier up; they are paged and it stays the owner's until they ACK.
    async fn pass(
        &self,
        mention: &MentionId,
        code: &AlertCode,
        contact: &OnCallContact,
        me: &Ownership,
        name: Option<&str>,
    ) -> Result<SmsText, StoreError> {
        let owner = self.follow_up.owner(mention).await?;
        let Some(owner) = owner.filter(|o| o.phone == me.phone) else {
            let owner = self.follow_up.owner(mention).await?;
            return Ok(texts::not_yours(
                code,
                owner.as_ref().map(|o| o.name.as_str()),
            ));
        };
        let on_call = self.reach.on_call(me.at).await?;
        let everyone = self.roster.contacts().await?;
        let target = match name {
            Some(name) => {
                let Some(target) = everyone.iter().find(|c| named(c, name)) else {
                    return Ok(texts::nobody_called(name));
                };
                target.clone()
            }
            None => {
                let above = on_call
                    .iter()
                    .filter(|c| c.tier > contact.tier && c.phone != me.phone && !c.opted_out)
                    .min_by_key(|c| c.tier);
                match above {
                    Some(target) => target.clone(),
                    None => return Ok(texts::nobody_to_pass_to()),
                }
            }
        };
        if target.phone == me.phone || target.opted_out {
            return Ok(texts::nobody_to_pass_to());
        }
        self.reach
            .handover
            .offer(&Offer {
                mention: mention.clone(),
                to: target.phone.clone(),
                from: owner,
                at: me.at,
            })
            .await?;
        let post = self.store.get_mention(mention).await?;
        self.notify(
            &target.phone,
            &texts::passed_to_you(code, &me.name, post.as_ref().map(|r| &r.mention)),
        )
        .await;
        self.follow_up.set_latest_alert(&target.phone, code).await?;
        info!(%code, to = %target.phone.masked(), "alert offered");
        Ok(texts::offered(code, &target.name))
    }

    /// TAKE: the sender holds their tier from now until the current shift
    /// ends; whoever had it is told.
    async fn take_shift(
        &self,
        contact: &OnCallContact,
        me: &Ownership,
    ) -> Result<SmsText, StoreError> {
        let now = me.at;
        let rota = self.reach.rota.rota(now).await?;
        let rotation = rota.rotations.iter().find(|r| r.people.contains(&me.phone));
        let tier = rotation.map_or(contact.tier, |r| r.tier);
        let zone = rotation
            .map(|r| r.time_zone.clone())
            .or_else(|| contact.time_zone.clone());
        let Some(shift) = rota.on_shift(tier, now) else {
            return Ok(texts::no_shift_to_take(tier));
        };
        let until = local_time(shift.ends, zone.as_deref());
        if shift.phone == me.phone {
            return Ok(texts::already_on_shift(tier, &until));
        }
        let Ok(cover) = RotaOverride::new(tier, me.phone.clone(), now, shift.ends, now) else {
            return Ok(texts::no_shift_to_take(tier));
        };
        self.reach.rota.add_override(&cover).await?;
        info!(tier, by = %me.phone.masked(), "shift taken");
        self.notify(
            &shift.phone,
            &texts::shift_taken_from_you(tier, &me.name, &until),
        )
        .await;
        Ok(texts::shift_taken(tier, &until))
    }

    /// A message to someone other than the sender; its failure is logged,
    /// not retried (the command itself is done).
    async fn notify(&self, to: &PhoneNumber, text: &SmsText) {
        if let Err(err) = self.sms.send(to, text).await {
            warn!(to = %to.masked(), reason = %err.reason, "notice SMS failed");
        }
    }
}

/// Whether `contact` is the person `name` means: the whole name or its
/// first word, in any case.
fn named(contact: &OnCallContact, name: &str) -> bool {
    let wanted = name.trim().to_lowercase();
    let full = contact.name.trim().to_lowercase();
    full == wanted || full.split_whitespace().next() == Some(wanted.as_str())
}

/// An SNS event carrying one inbound SMS, as End User Messaging would
/// publish it; for `earshot sms` and tests.
pub fn inbound_event(from: &PhoneNumber, body: &str, inbound_message_id: &str) -> SnsEvent {
    let inbound = InboundSms {
        origination_number: from.to_string(),
        destination_number: None,
        message_body: body.to_owned(),
        inbound_message_id: inbound_message_id.to_owned(),
        previous_published_message_id: None,
    };
    SnsEvent {
        records: vec![SnsRecord {
            sns: SnsMessage {
                message: serde_json::to_string(&inbound).expect("plain struct serialises"),
            },
        }],
    }
}
