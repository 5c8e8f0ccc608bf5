//! Every parser of outside input, fed what nobody promised: random bytes,
//! random JSON, and real-shaped payloads with one part swapped for random
//! JSON. None may panic, and what they return must hold together (ids keep
//! their platform, nothing is counted twice, a reply command reads back as
//! written). Bounded: 256 cases each, or `PROPTEST_CASES`. The open-ended
//! search lives in fuzz/ (see fuzz/README.md).

use crate::builders;
use crate::support;

use chrono::{DateTime, Utc};
use earshot::domain::Watch;
use earshot::domain::reply::{ReplyCommand, parse_reply};
use earshot::domain::{AlertCode, Platform};
use earshot::platforms::{Delivery, bluesky, mastodon, meta, reddit, x, x_search};
use earshot::ports::{Page, PageRequest};
use earshot::signature;
use proptest::prelude::*;
use serde_json::{Value, json};

fn now() -> DateTime<Utc> {
    "2026-11-24T10:00:00Z".parse().unwrap()
}

/// A watch on every polled platform, with an own account on each.
fn watch() -> Watch {
    let accounts = [
        "x:900",
        "bluesky:northwind.example",
        "mastodon:northwind",
        "reddit:NorthwindAir",
    ];
    builders::watch_on_every_polled_platform(&accounts, now())
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        ".{0,24}".prop_map(Value::String),
        // Strings that look like what the parsers look for.
        prop::sample::select(vec![
            "1862000000000000001",
            "tweet_create_events",
            "post.mention.create",
            "at://did:plc:x/app.bsky.feed.post/3l",
            "t3_abc",
            "2026-11-24T09:59:00Z",
            "Tue Nov 24 09:41:07 +0000 2026",
            "&amp;&lt;<p>",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "id",
                    "id_str",
                    "text",
                    "data",
                    "user",
                    "author",
                    "created_at",
                    "entry",
                    "changes",
                    "value",
                    "object",
                    "event",
                    "posts",
                    "record",
                    "uri",
                    "kind",
                    "name",
                    "account",
                    "for_user_id",
                    "payload",
                    "includes",
                    "meta",
                ])
                .prop_map(str::to_owned),
                inner,
                0..6
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// How many values `value` holds, itself included.
fn node_count(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(node_count).sum(),
        Value::Object(map) => map.values().map(node_count).sum(),
        _ => 0,
    }
}

/// `value` with its `target`-th node (in depth-first order, modulo the
/// node count) replaced by `graft`.
fn swap_node(value: &Value, target: usize, graft: Value) -> Value {
    fn walk(value: &Value, target: &mut usize, graft: &mut Option<Value>) -> Value {
        if *target == 0 {
            *target = usize::MAX;
            return graft.take().unwrap_or(Value::Null);
        }
        *target = target.saturating_sub(1);
        match value {
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| walk(v, target, graft)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), walk(v, target, graft)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    let mut target = target % node_count(value);
    walk(value, &mut target, &mut Some(graft))
}

fn sample(name: &str) -> Value {
    serde_json::from_str(&support::payload(name)).expect("sample is JSON")
}

/// Mentions, refusals and skips of one X delivery hold together.
fn check_x(delivery: &Delivery) {
    for mention in &delivery.mentions {
        assert!(mention.id.as_str().starts_with("x:"), "{}", mention.id);
        assert_eq!(mention.platform, Platform::X);
    }
}

/// The values in a JSON body: more than the posts it can hold, whatever
/// shape serde reads it in (a struct may come as an array).
fn nodes(body: &str) -> usize {
    node_count(&serde_json::from_str(body).unwrap_or(Value::Null))
}

/// A search page never yields more than it was given.
fn check_page(page: &Page, posts_given: usize, platform: Platform) {
    assert!(
        page.mentions.len() + page.rejected <= posts_given,
        "{} mentions + {} rejected from {posts_given} posts",
        page.mentions.len(),
        page.rejected
    );
    for mention in &page.mentions {
        assert_eq!(mention.platform, platform);
        assert!(mention.id.as_str().starts_with(platform.key()));
        assert!(!mention.author.handle.is_empty(), "{mention:?}");
    }
}

fn request(watch: &Watch) -> PageRequest<'_> {
    builders::first_page_request(watch, now())
}

/// Every parser on one body; panics are the failure.
fn parse_everything(body: &[u8]) {
    if let Ok(delivery) = x::parse_delivery(body, now()) {
        check_x(&delivery);
    }
    let brand_of = |platform: Platform, account: &str| format!("{platform}:{account}");
    let _ = meta::parse_delivery(body, now(), &brand_of);
    let _ = mastodon::parse_webhook(body);
    let watch = watch();
    let pages = [
        (x_search::parse_page(body, &watch, now()), Platform::X),
        (bluesky::parse_page(body, &watch, now()), Platform::Bluesky),
        (reddit::parse_page(body, &request(&watch)), Platform::Reddit),
    ];
    for (page, platform) in pages {
        if let Ok(page) = page {
            // A post takes more than a byte of the body.
            check_page(&page, body.len(), platform);
        }
    }
    if let Ok(statuses) = serde_json::from_slice::<Vec<Value>>(body) {
        let given = statuses.len();
        let page = mastodon::parse_statuses(statuses, &watch, &request(&watch));
        check_page(&page, given, Platform::Mastodon);
    }
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = parse_reply(text);
    }
}

proptest! {
    // 256 cases each unless PROPTEST_CASES says otherwise.
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn random_bytes_break_no_parser(body in prop::collection::vec(any::<u8>(), 0..512)) {
        parse_everything(&body);
    }

    #[test]
    fn random_json_breaks_no_parser(value in any_json()) {
        parse_everything(value.to_string().as_bytes());
    }

    #[test]
    fn x_deliveries_with_one_part_swapped_break_nothing(
        which in 0..4usize,
        target in any::<usize>(),
        graft in any_json(),
    ) {
        let name = ["x-urgent-complaint.json", "x-activity-mention.json", "x-brand-reply.json", "x-mild-complaint.json"][which];
        let body = swap_node(&sample(name), target, graft).to_string();
        if let Ok(delivery) = x::parse_delivery(body.as_bytes(), now()) {
            check_x(&delivery);
            prop_assert!(delivery.mentions.len() + delivery.rejected.len() + delivery.ignored.len() <= body.len());
        }
    }

    #[test]
    fn meta_and_mastodon_deliveries_with_one_part_swapped_break_nothing(
        which in 0..7usize,
        target in any::<usize>(),
        graft in any_json(),
    ) {
        let name = [
            "meta-page-comment.json", "meta-page-comment-edited.json", "meta-page-comment-removed.json",
            "meta-page-mention-legacy.json", "instagram-comment.json", "instagram-mention.json",
            "mastodon-status-created.json",
        ][which];
        let body = swap_node(&sample(name), target, graft).to_string();
        let brand_of = |platform: Platform, account: &str| format!("{platform}:{account}");
        if let Ok(delivery) = meta::parse_delivery(body.as_bytes(), now(), &brand_of) {
            prop_assert!(delivery.changes.len() + delivery.rejected.len() + delivery.ignored.len() <= body.len());
        }
        let _ = mastodon::parse_webhook(body.as_bytes());
    }

    #[test]
    fn search_pages_with_one_part_swapped_keep_their_counts(
        target in any::<usize>(),
        graft in any_json(),
    ) {
        let watch = watch();
        let x_page = json!({
            "data": [{"id": "1862000000000000011", "text": "@northwind lost my bag", "author_id": "42",
                      "created_at": "2026-11-24T09:58:00.000Z",
                      "referenced_tweets": [{"type": "replied_to", "id": "1862000000000000001"}]}],
            "includes": {"users": [{"id": "42", "username": "dana", "public_metrics": {"followers_count": 812}}]},
            "meta": {"newest_id": "1862000000000000011", "next_token": "b2"}
        });
        let bsky_page = json!({"posts": [{
            "uri": "at://did:plc:dana/app.bsky.feed.post/3lb", "author": {"did": "did:plc:dana", "handle": "dana.example"},
            "record": {"text": "northwind app down", "createdAt": "2026-11-24T09:58:00Z",
                       "facets": [{"index": {"byteStart": 0, "byteEnd": 9}, "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://x.example"}]}],
                       "reply": {"parent": {"uri": "at://did:plc:b/app.bsky.feed.post/1"}}},
            "indexedAt": "2026-11-24T09:58:01Z"}], "cursor": "c1"});
        let reddit_page = json!({"kind": "Listing", "data": {"after": "t3_a", "children": [
            {"kind": "t3", "data": {"name": "t3_a", "author": "dana", "title": "Northwind lost my bag",
                                    "permalink": "/r/travel/comments/a/", "created_utc": 1795426867.0}}]}});
        let statuses = json!([{"id": "113", "uri": "https://social.example/users/dana/statuses/113",
            "created_at": "2026-11-24T09:58:00Z", "content": "<p>northwind &amp; co</p>",
            "account": {"id": "7", "acct": "dana"}, "in_reply_to_id": "112", "in_reply_to_account_id": "7"}]);

        let body = swap_node(&x_page, target, graft.clone()).to_string();
        if let Ok(page) = x_search::parse_page(body.as_bytes(), &watch, now()) {
            check_page(&page, nodes(&body), Platform::X);
        }
        let body = swap_node(&bsky_page, target, graft.clone()).to_string();
        if let Ok(page) = bluesky::parse_page(body.as_bytes(), &watch, now()) {
            check_page(&page, nodes(&body), Platform::Bluesky);
        }
        let body = swap_node(&reddit_page, target, graft.clone()).to_string();
        if let Ok(page) = reddit::parse_page(body.as_bytes(), &request(&watch)) {
            check_page(&page, nodes(&body), Platform::Reddit);
        }
        if let Value::Array(statuses) = swap_node(&statuses, target, graft) {
            let given = statuses.len();
            let page = mastodon::parse_statuses(statuses, &watch, &request(&watch));
            check_page(&page, given, Platform::Mastodon);
        }
    }

    #[test]
    fn a_reply_command_reads_back_as_written(
        seed in ".{1,12}",
        attempt in 0u32..32,
        command in prop::sample::select(vec!["ACK", "ack", "DONE", "Noise", "who"]),
        spaces in "[ \t]{1,3}",
    ) {
        let code = AlertCode::candidate(&seed, attempt);
        let parsed = parse_reply(&format!("{command}{spaces}{code}"));
        let expected = match command.to_ascii_uppercase().as_str() {
            "ACK" => ReplyCommand::Ack(Some(code.clone())),
            "DONE" => ReplyCommand::Done(code.clone()),
            "NOISE" => ReplyCommand::Noise(code.clone()),
            _ => ReplyCommand::Who(code.clone()),
        };
        prop_assert_eq!(parsed.ok(), Some(expected));
    }

    #[test]
    fn any_sms_text_parses_or_is_refused(text in "\\PC{0,40}") {
        let _ = parse_reply(&text);
    }

    #[test]
    fn only_the_right_signature_verifies(
        body in prop::collection::vec(any::<u8>(), 0..256),
        forged in ".{0,60}",
        digit in 0usize..64,
    ) {
        let secret = b"consumer-secret";
        let genuine = signature::x_signature(secret, &body);
        prop_assert!(signature::verify_x(secret, &body, &genuine));
        prop_assert!(!signature::verify_x(secret, &body, &forged) || forged.trim() == genuine);
        let hex = signature::hex_signature(secret, &body);
        prop_assert!(signature::verify_hex(secret, &body, &hex));
        // One hex digit of the MAC changed.
        let mut altered = hex.into_bytes();
        let at = "sha256=".len() + digit;
        altered[at] = if altered[at] == b'0' { b'1' } else { b'0' };
        prop_assert!(!signature::verify_hex(secret, &body, &String::from_utf8(altered).unwrap()));
    }
}
