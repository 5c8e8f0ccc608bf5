//! The Meta route: the subscription handshake, and Facebook Page and
//! Instagram change notifications.

use chrono::{DateTime, Utc};
use tracing::warn;

use super::{Tally, Webhook, brand_of, not_configured, payload_error, store_unavailable};
use crate::config;
use crate::domain::{Author, Mention, MentionId, Platform, Voice};
use crate::http::{HttpRequest, HttpResponse};
use crate::platforms::meta::{self, MetaChange};
use crate::revision::remove_mention;
use crate::signature;

impl Webhook {
    /// Meta's subscription handshake: echo `hub.challenge` when the mode is
    /// `subscribe` and the token is ours.
    pub(super) fn meta_challenge(&self, request: &HttpRequest) -> HttpResponse {
        let Some(expected) = &self.secrets.meta_verify_token else {
            return not_configured("Meta", config::META_VERIFY_TOKEN_VAR);
        };
        if request.query("hub.mode").as_deref() != Some("subscribe") {
            return HttpResponse::error(400, "hub.mode must be subscribe");
        }
        let Some(challenge) = request.query("hub.challenge").filter(|c| !c.is_empty()) else {
            return HttpResponse::error(400, "missing hub.challenge query parameter");
        };
        let token = request.query("hub.verify_token").unwrap_or_default();
        if !signature::same_secret(expected.expose(), token.as_bytes()) {
            warn!("Meta handshake with the wrong verify token");
            return HttpResponse::error(403, "hub.verify_token does not match");
        }
        HttpResponse::text(200, challenge)
    }

    /// A delivery whose signature has been checked.
    pub(super) async fn meta_delivery(&self, body: &[u8]) -> HttpResponse {
        let watches = match self.watches.all(self.ingestor.clock.now()).await {
            Ok(watches) => watches,
            Err(err) => return store_unavailable(&err),
        };
        let brand_of = |platform: Platform, account: &str| brand_of(&watches, platform, account);
        let now = self.ingestor.clock.now();
        let delivery = match meta::parse_delivery(body, now, &brand_of) {
            Ok(delivery) => delivery,
            Err(err) => return payload_error(&err),
        };
        let mut tally = Tally::noting(delivery.rejected, delivery.ignored);
        for change in delivery.changes {
            match change {
                MetaChange::Posted(mention) => self.ingest(mention, &mut tally).await,
                MetaChange::Edited(mention) => self.edit(mention, &mut tally).await,
                MetaChange::Removed { id, at } => self.remove(&id, at, &mut tally).await,
                MetaChange::InstagramMention(mentioned) => {
                    let brand = brand_of(Platform::Instagram, &mentioned.account);
                    let mention = match &self.graph {
                        Some(graph) => match graph.mention(&mentioned, &brand, now).await {
                            Ok(mention) => mention,
                            Err(err) => {
                                // 5xx: Meta retries, and the lookup with it.
                                warn!(error = %err, id = %mentioned.id(), "Instagram lookup failed");
                                tally.failed(HttpResponse::error(
                                    502,
                                    "could not read an Instagram mention; retry",
                                ));
                                continue;
                            }
                        },
                        None => instagram_mention_by_ids(&mentioned, &brand, now),
                    };
                    self.ingest(mention, &mut tally).await;
                }
            }
        }
        tally.answer()
    }
}

/// An Instagram mention whose words could not be asked for: stored with a
/// link so nothing is lost, triaged as having no text.
fn instagram_mention_by_ids(
    mentioned: &meta::InstagramMention,
    brand: &str,
    now: DateTime<Utc>,
) -> Mention {
    warn!(id = %mentioned.id(), "Instagram mention stored without its text: no access token");
    Mention {
        id: mentioned.id(),
        platform: Platform::Instagram,
        url: format!("https://www.instagram.com/p/{}/", mentioned.media_id),
        author: Author {
            id: String::new(),
            handle: "unknown".into(),
            display_name: None,
            followers: None,
        },
        text: String::new(),
        created_at: now,
        received_at: now,
        in_reply_to: None,
        quotes: None,
        brand: brand.to_owned(),
        voice: Voice::Customer,
    }
}

impl Webhook {
    /// Marks the post removed (see [`remove_mention`]).
    async fn remove(&self, id: &MentionId, at: DateTime<Utc>, tally: &mut Tally) {
        match remove_mention(self.revisions.as_ref(), &self.ingestor, id, at).await {
            Ok(true) => tally.revised += 1,
            Ok(false) => tally.ignored.push(format!("removal of unseen {id}")),
            Err(err) => tally.failed(store_unavailable(&err)),
        }
    }
}
