//! Inputs shared by the parser tests and the fuzz targets (which include this
//! file by path), so both hand the search parsers the same watch and request,
//! and the one list of cases the store contracts run on both backends.
// Each includer uses a different part of this file.
#![allow(dead_code, unused_macros, unused_imports)]

use std::time::Duration;

use chrono::{DateTime, Utc};
use earshot::domain::{Account, Platform, Watch};
use earshot::ports::PageRequest;

/// A watch on every polled platform, with `accounts` as the brand's own,
/// made at `now`.
pub fn watch_on_every_polled_platform(accounts: &[&str], now: DateTime<Utc>) -> Watch {
    let platforms = vec![
        Platform::X,
        Platform::Bluesky,
        Platform::Mastodon,
        Platform::Reddit,
    ];
    let accounts = accounts
        .iter()
        .map(|raw| Account::parse(raw).expect("account"))
        .collect();
    Watch::new("Northwind", "northwind", platforms, accounts, now).expect("watch")
}

/// A first page's request at `now` for `watch`, reaching back a day.
pub fn first_page_request(watch: &Watch, now: DateTime<Utc>) -> PageRequest<'_> {
    PageRequest {
        watch,
        cursor: None,
        page: None,
        horizon: now - chrono::Duration::hours(24),
        now,
        timeout: Duration::from_secs(1),
    }
}

/// Runs each listed contract case on the embedded store and on DynamoDB
/// (tables prefixed `$tables`), through `support`'s `contract!`, which the
/// calling file has in scope.
macro_rules! on_both_stores {
    ($tables:literal, [$($case:ident),* $(,)?]) => {
        contract!(embedded, support::embedded_store(), [$($case),*]);
        contract!(dynamodb, support::moto_store($tables).await, [$($case),*]);
    };
}

pub(crate) use on_both_stores;
