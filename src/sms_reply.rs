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
use crate::domain::{OnCallContact, PhoneNumber};
use crate::ports::{
    Acknowledged, FollowUpStore, MentionStore, Ownership, RosterStore, SmsSender, StoreError,
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
            ReplyCommand::Ack(Some(code))
            | ReplyCommand::Done(code)
            | ReplyCommand::Noise(code)
            | ReplyCommand::Who(code) => code.clone(),
        };
        let Some(mention) = self.follow_up.mention_for_code(&code).await? else {
            return Ok(Some(texts::no_such_alert(&code)));
        };
        let answer = match command {
            ReplyCommand::Ack(_) => match self.follow_up.acknowledge(&mention, &me).await? {
                Acknowledged::Won => {
                    info!(%code, by = %contact.phone.masked(), "alert acknowledged");
                    let remind_at = self.clock.now() + self.remind_after;
                    self.store.own_alert(&mention, remind_at).await?;
                    let post = self.store.get_mention(&mention).await?;
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
                        texts::closed(&code, &contact.name)
                    }
                    Some(closer) => texts::already_closed(&code, &closer.name),
                }
            }
            ReplyCommand::Noise(_) => {
                self.follow_up.record_noise(&mention, &me).await?;
                texts::noted_as_noise(&code)
            }
            ReplyCommand::Who(_) => match self.follow_up.owner(&mention).await? {
                Some(owner) => texts::owner_is(&code, &owner.name, owner.at),
                None => texts::nobody_yet(&code),
            },
            ReplyCommand::Help
            | ReplyCommand::Stop
            | ReplyCommand::Start
            | ReplyCommand::Reply(..) => texts::help(),
        };
        Ok(Some(answer))
    }
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
