//! Search responses of every polled platform; the first byte picks one.
#![no_main]

use earshot::platforms::{bluesky, mastodon, reddit, x_search};
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/support/builders.rs"]
mod builders;

fuzz_target!(|input: &[u8]| {
    let Some((&which, body)) = input.split_first() else {
        return;
    };
    let now = chrono::DateTime::UNIX_EPOCH + chrono::Duration::days(20_000);
    let watch = builders::watch_on_every_polled_platform(&["x:900"], now);
    let request = builders::first_page_request(&watch, now);
    let page = match which % 4 {
        0 => x_search::parse_page(body, &watch, now).ok(),
        1 => bluesky::parse_page(body, &watch, now).ok(),
        2 => reddit::parse_page(body, &request).ok(),
        _ => serde_json::from_slice(body)
            .ok()
            .map(|statuses| mastodon::parse_statuses(statuses, &watch, &request)),
    };
    if let Some(page) = page {
        assert!(page.mentions.len() + page.rejected <= body.len());
    }
});
