//! `REPLY <code> <n>`: the person on call answers a post in public with one
//! of the brand's approved replies, without leaving the page. The reply goes
//! out once per (alert, template) however often the SMS arrives, is stored
//! as the brand's reply, and starts the promise timer: the alert's owner is
//! reminded if it is not DONE within the template's window.

use std::sync::Arc;

use chrono::Duration;
use tracing::{info, warn};

use crate::domain::Clock;
use crate::domain::reply_template::ReplyTemplate;
use crate::domain::{
    AlertCode, AlertState, Author, Mention, MentionId, MentionRecord, OnCallContact, Platform,
    Voice,
};
use crate::ports::{
    Acknowledged, FollowUpStore, MentionStore, Ownership, PostedReply, PublicReplies, PublishError,
    Published, ReplyClaim, ReplyLedger, ReplyOutcome, StoreError, WatchStore,
};
use crate::sms::{SmsText, texts};

/// Longer than any sms-reply invocation (30 s): a claim older than this
/// belongs to an invocation that died.
const REPLY_LEASE: Duration = Duration::minutes(5);

pub struct PublicReplyDesk {
    pub store: Arc<dyn MentionStore>,
    pub follow_up: Arc<dyn FollowUpStore>,
    pub watches: Arc<dyn WatchStore>,
    pub ledger: Arc<dyn ReplyLedger>,
    pub platforms: Arc<dyn PublicReplies>,
    pub clock: Clock,
}

impl PublicReplyDesk {
    /// Posts reply `number` to the alert `code` for `contact`; returns the
    /// SMS that tells them what happened.
    #[tracing::instrument(skip_all, fields(%code, template = number))]
    pub async fn reply(
        &self,
        contact: &OnCallContact,
        code: &AlertCode,
        number: u32,
    ) -> Result<SmsText, StoreError> {
        if !contact.can_reply {
            warn!(from = %contact.phone.masked(), "REPLY from a phone not allowed to reply");
            return Ok(texts::not_allowed_to_reply());
        }
        let Some(id) = self.follow_up.mention_for_code(code).await? else {
            return Ok(texts::no_such_alert(code));
        };
        let Some(record) = self.store.get_mention(&id).await? else {
            return Ok(texts::alert_no_longer_stored(code));
        };
        let post = &record.mention;
        let watch = self.watches.watch(&post.brand).await?;
        let Some(template) = watch.as_ref().and_then(|w| w.reply_template(number)) else {
            let approved: Vec<u32> = watch
                .iter()
                .flat_map(|w| &w.reply_templates)
                .map(|t| t.number)
                .collect();
            return Ok(texts::no_such_template(&post.brand, number, &approved));
        };
        let text = match template.render(post) {
            Ok(text) => text,
            Err(err) => return Ok(texts::template_cannot_go(code, number, &err.to_string())),
        };
        let now = self.clock.now();
        match self
            .ledger
            .claim_reply(&id, number, now, now + REPLY_LEASE)
            .await?
        {
            ReplyClaim::Posted(reply) => {
                info!("reply already posted");
                return Ok(texts::reply_already_posted(
                    code,
                    number,
                    &link(&reply, post),
                ));
            }
            ReplyClaim::InFlight => return Ok(texts::reply_in_flight(code, number)),
            ReplyClaim::Granted => {}
        }
        let key = idempotency_key(&id, number);
        let reply = match self.platforms.reply(post, &text, &key).await {
            Ok(Published::Posted(reply)) => reply,
            Ok(Published::AlreadyThere) => PostedReply {
                platform_id: None,
                url: None,
            },
            Err(err) => {
                warn!(error = %err, "public reply failed");
                let outcome = ReplyOutcome::Failed {
                    reason: err.to_string(),
                };
                self.ledger.record_reply(&id, number, &outcome, now).await?;
                let next = next_step(&err, code, number);
                return Ok(texts::reply_failed(code, number, &err.to_string(), &next));
            }
        };
        self.ledger
            .record_reply(&id, number, &ReplyOutcome::Posted(reply.clone()), now)
            .await?;
        info!(reply = ?reply.platform_id, "public reply posted");
        self.keep_as_brand_reply(&record, watch.as_ref(), &reply, &text)
            .await?;
        let timer = self
            .start_promise_timer(contact, &id, template, &record)
            .await?;
        Ok(texts::reply_posted(
            code,
            number,
            &post.author.handle,
            &link(&reply, post),
            timer,
        ))
    }

    /// Stores the reply as the brand's own post in the thread, as if it had
    /// been heard: reports and follow-ups see the brand answered.
    async fn keep_as_brand_reply(
        &self,
        parent: &MentionRecord,
        watch: Option<&crate::domain::Watch>,
        reply: &PostedReply,
        text: &str,
    ) -> Result<(), StoreError> {
        let post = &parent.mention;
        let Some(id) = reply
            .platform_id
            .as_deref()
            .and_then(|native| reply_id(post.platform, native))
        else {
            return Ok(());
        };
        let account = watch
            .and_then(|w| w.accounts.iter().find(|a| a.platform == post.platform))
            .map_or_else(|| post.brand.clone(), |a| a.id.clone());
        let now = self.clock.now();
        let record = MentionRecord {
            mention: Mention {
                id,
                platform: post.platform,
                url: reply.url.clone().unwrap_or_else(|| post.url.clone()),
                author: Author {
                    id: account.clone(),
                    handle: account,
                    display_name: Some(post.brand.clone()),
                    followers: None,
                },
                text: text.to_owned(),
                created_at: now,
                received_at: now,
                in_reply_to: Some(post.id.clone()),
                quotes: None,
                brand: post.brand.clone(),
                voice: Voice::Brand,
            },
            assessment: None,
            alert: AlertState::None,
            alert_code: None,
            incident: None,
        };
        self.store.insert_mention(&record).await?;
        Ok(())
    }

    /// The reply promises contact: whoever owns the alert (the sender, if
    /// nobody took it yet) is reminded when it is not DONE in time.
    async fn start_promise_timer(
        &self,
        contact: &OnCallContact,
        id: &MentionId,
        template: &ReplyTemplate,
        record: &MentionRecord,
    ) -> Result<Option<u32>, StoreError> {
        if record.alert_code.is_none() || self.follow_up.closed(id).await?.is_some() {
            return Ok(None);
        }
        let now = self.clock.now();
        let due = now + template.promise_window();
        let me = Ownership {
            name: contact.name.clone(),
            phone: contact.phone.clone(),
            at: now,
        };
        match self.follow_up.acknowledge(id, &me).await? {
            Acknowledged::Won => self.store.own_alert(id, due).await?,
            Acknowledged::AlreadyOwned(_) => {
                self.store.remind_by(id, due).await?;
            }
        }
        info!(%due, "promise timer started");
        Ok(Some(template.promise_window_minutes))
    }
}

/// The same key for every attempt at one reply, so a platform that
/// deduplicates by key posts it once.
fn idempotency_key(id: &MentionId, number: u32) -> String {
    // Mastodon accepts any string; keep it short and free of separators.
    let digest = id
        .as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, b| {
            (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    format!("earshot-{digest:016x}-{number}")
}

/// How Earshot names the reply it just posted, as it names heard posts.
fn reply_id(platform: Platform, native: &str) -> Option<MentionId> {
    let native = match platform {
        // at://<did>/app.bsky.feed.post/<rkey> → <did>/<rkey>
        Platform::Bluesky => {
            let rest = native.strip_prefix("at://")?;
            let (did, rest) = rest.split_once('/')?;
            let (_, rkey) = rest.rsplit_once('/')?;
            format!("{did}/{rkey}")
        }
        Platform::Mastodon => native
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .to_owned(),
        _ => native.to_owned(),
    };
    Some(MentionId::new(platform, &native))
}

/// Where the reply can be seen, without its scheme; the post's own link
/// when the platform gave none.
fn link(reply: &PostedReply, post: &Mention) -> String {
    match reply.url.as_deref() {
        Some(url) => url
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_start_matches("www.")
            .to_owned(),
        None => texts::short_link(post),
    }
}

/// What the person on call can do about a failure.
fn next_step(err: &PublishError, code: &AlertCode, number: u32) -> String {
    match err {
        PublishError::Token { platform, .. } => {
            format!("The {platform} token needs renewing: tell an admin.")
        }
        PublishError::NotConfigured(platform) => {
            format!("{platform} replies are not set up: tell an admin.")
        }
        e if e.is_retryable() => format!("Try REPLY {code} {number} again in a few minutes."),
        _ => "Answer on the platform itself.".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_named_as_heard_posts_are() {
        assert_eq!(
            reply_id(
                Platform::Bluesky,
                "at://did:plc:nw/app.bsky.feed.post/3lreply"
            ),
            MentionId::parse("bluesky:did:plc:nw/3lreply")
        );
        assert_eq!(
            reply_id(
                Platform::Mastodon,
                "https://social.example/users/nw/statuses/9"
            ),
            MentionId::parse("mastodon:social.example/users/nw/statuses/9")
        );
        assert_eq!(reply_id(Platform::X, "186"), MentionId::parse("x:186"));
    }

    #[test]
    fn each_reply_has_its_own_stable_key() {
        let id = MentionId::new(Platform::Mastodon, "a/b");
        assert_eq!(idempotency_key(&id, 1), idempotency_key(&id, 1));
        assert_ne!(idempotency_key(&id, 1), idempotency_key(&id, 2));
        assert_ne!(
            idempotency_key(&id, 1),
            idempotency_key(&MentionId::new(Platform::Mastodon, "a/c"), 1)
        );
    }
}
