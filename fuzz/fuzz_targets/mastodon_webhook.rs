//! Mastodon admin webhook bodies (`status.created`, `status.updated`).
#![no_main]

use earshot::platforms::mastodon;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(mastodon::WebhookStatus::Created(status) | mastodon::WebhookStatus::Updated(status)) =
        mastodon::parse_webhook(body)
    {
        let _ = mastodon::mention(status, "Northwind", false, chrono::DateTime::UNIX_EPOCH);
    }
});
