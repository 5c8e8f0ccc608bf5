//! Search responses of every polled platform; the first byte picks one.
#![no_main]

use std::time::Duration;

use earshot::domain::Platform;
use earshot::platforms::{bluesky, mastodon, reddit, x_search};
use earshot::poll::PageRequest;
use earshot::watch::{Account, Watch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&which, body)) = input.split_first() else {
        return;
    };
    let now = chrono::DateTime::UNIX_EPOCH + chrono::Duration::days(20_000);
    let watch = Watch::new(
        "Northwind",
        "northwind",
        vec![
            Platform::X,
            Platform::Bluesky,
            Platform::Mastodon,
            Platform::Reddit,
        ],
        vec![Account::parse("x:900").expect("account")],
        now,
    )
    .expect("watch");
    let request = PageRequest {
        watch: &watch,
        cursor: None,
        page: None,
        horizon: now - chrono::Duration::hours(24),
        now,
        timeout: Duration::from_secs(1),
    };
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
