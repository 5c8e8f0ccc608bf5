//! The Mastodon route: a server's admin webhook for `status.created` and
//! `status.updated`.

use super::{Tally, Webhook, payload_error, store_unavailable};
use crate::domain::Platform;
use crate::http::HttpResponse;
use crate::platforms::mastodon;

impl Webhook {
    /// A delivery whose signature has been checked.
    pub(super) async fn mastodon_delivery(&self, body: &[u8]) -> HttpResponse {
        let (status, edited) = match mastodon::parse_webhook(body) {
            Ok(mastodon::WebhookStatus::Created(status)) => (status, false),
            Ok(mastodon::WebhookStatus::Updated(status)) => (status, true),
            Ok(mastodon::WebhookStatus::Other(event)) => {
                return Tally {
                    ignored: vec![event],
                    ..Tally::default()
                }
                .answer();
            }
            Err(err) => return payload_error(&err),
        };
        let watches = match self.watches.all(self.ingestor.clock.now()).await {
            Ok(watches) => watches,
            Err(err) => return store_unavailable(&err),
        };
        let mut tally = Tally::default();
        let Some(watch) = mastodon::watch_for(&status, &watches) else {
            tally
                .ignored
                .push("status mentions no watched brand".into());
            return tally.answer();
        };
        let own = watch.is_own(Platform::Mastodon, &status.account.id, &status.account.acct);
        let brand = watch.brand.clone();
        match mastodon::mention(status, &brand, own, self.ingestor.clock.now()) {
            Some(mention) if edited => self.edit(mention, &mut tally).await,
            Some(mention) => self.ingest(mention, &mut tally).await,
            None => tally.ignored.push("reblog".into()),
        }
        tally.answer()
    }
}
