//! The X route: the CRC challenge and Account Activity / X Activity API
//! deliveries.

use serde_json::json;

use super::{Tally, Webhook, X_SIGNATURE_HEADER, payload_error, store_unavailable, verified_body};
use crate::domain::Platform;
use crate::http::{HttpRequest, HttpResponse};
use crate::platforms;
use crate::signature;

impl Webhook {
    pub(super) fn x_challenge(&self, request: &HttpRequest) -> HttpResponse {
        let Some(token) = request.query("crc_token").filter(|t| !t.is_empty()) else {
            return HttpResponse::error(400, "missing crc_token query parameter");
        };
        let response_token =
            signature::x_signature(self.secrets.x_consumer_secret.expose(), token.as_bytes());
        HttpResponse::json(200, &json!({ "response_token": response_token }))
    }

    pub(super) async fn x_delivery(&self, request: &HttpRequest) -> HttpResponse {
        let secret = self.secrets.x_consumer_secret.expose();
        let body = match verified_body(request, X_SIGNATURE_HEADER, |body, signature| {
            signature::verify_x(secret, body, signature)
        }) {
            Ok(body) => body,
            Err(response) => return response,
        };
        let mut delivery = match platforms::x::parse_delivery(&body, self.ingestor.clock.now()) {
            Ok(delivery) => delivery,
            Err(err) => return payload_error(&err),
        };
        // X names the account by handle (or id); a watch that lists the
        // account gives the brand its own name and settings.
        let watches = match self.watches.all(self.ingestor.clock.now()).await {
            Ok(watches) => watches,
            Err(err) => return store_unavailable(&err),
        };
        for mention in &mut delivery.mentions {
            let account = mention.brand.strip_prefix("x:").unwrap_or(&mention.brand);
            if let Some(watch) = watches
                .iter()
                .find(|w| w.is_own(Platform::X, account, account))
            {
                mention.brand = watch.brand.clone();
            }
        }
        let mut tally = Tally::noting(delivery.rejected, delivery.ignored);
        for mention in delivery.mentions {
            self.ingest(mention, &mut tally).await;
        }
        tally.answer()
    }
}
