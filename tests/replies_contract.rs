//! Public replies in storage: each (alert, template) is claimed once, the
//! watch keeps its templates and the roster who may reply, on the embedded
//! SQLite store and on DynamoDB (a real moto server) alike.

use crate::builders;
use crate::support;

use support::at;
use support::contract;

use chrono::{DateTime, Duration, Utc};
use earshot::domain::Watch;
use earshot::domain::reply_template::ReplyTemplate;
use earshot::domain::{MentionId, Platform};
use earshot::ports::{PostedReply, ReplyClaim, ReplyLedger, ReplyOutcome, RosterStore, WatchStore};

fn alert(native: &str) -> MentionId {
    MentionId::new(Platform::X, native)
}

fn posted(id: &str) -> PostedReply {
    PostedReply {
        platform_id: Some(id.into()),
        url: Some(format!("https://x.com/i/web/status/{id}")),
    }
}

/// Claims reply `template` to `id` at `time`, for a five-minute lease.
async fn claim<S: ReplyLedger>(
    store: &S,
    id: &MentionId,
    template: u32,
    time: DateTime<Utc>,
) -> ReplyClaim {
    let lease = time + Duration::minutes(5);
    store.claim_reply(id, template, time, lease).await.unwrap()
}

async fn each_template_is_posted_to_an_alert_once<S: ReplyLedger>(store: &S) {
    let now = at("2026-12-05T22:00:00Z");
    let k7qd = alert("1864770000000000001");
    assert_eq!(claim(store, &k7qd, 1, now).await, ReplyClaim::Granted);
    assert_eq!(
        claim(store, &k7qd, 1, now).await,
        ReplyClaim::InFlight,
        "a second REPLY while the first is posting"
    );
    store
        .record_reply(&k7qd, 1, &ReplyOutcome::Posted(posted("900")), now)
        .await
        .unwrap();
    let later = now + Duration::hours(1);
    assert_eq!(
        claim(store, &k7qd, 1, later).await,
        ReplyClaim::Posted(posted("900")),
        "posted stays posted, lease or not"
    );
    // Another template on the same alert, or the same template elsewhere,
    // is its own reply.
    assert_eq!(claim(store, &k7qd, 2, now).await, ReplyClaim::Granted);
    assert_eq!(
        claim(store, &alert("1864770000000000002"), 1, now).await,
        ReplyClaim::Granted
    );
}

async fn a_failed_reply_may_be_claimed_again<S: ReplyLedger>(store: &S) {
    let now = at("2026-12-05T22:00:00Z");
    let id = alert("1864770000000000003");
    assert_eq!(claim(store, &id, 1, now).await, ReplyClaim::Granted);
    let failed = ReplyOutcome::Failed {
        reason: "x is unavailable: HTTP 503".into(),
    };
    store.record_reply(&id, 1, &failed, now).await.unwrap();
    assert_eq!(claim(store, &id, 1, now).await, ReplyClaim::Granted);
}

async fn an_abandoned_reply_claim_lapses_with_its_lease<S: ReplyLedger>(store: &S) {
    let now = at("2026-12-05T22:00:00Z");
    let id = alert("1864770000000000004");
    let lease = now + Duration::minutes(5);
    assert_eq!(claim(store, &id, 3, now).await, ReplyClaim::Granted);
    let after = lease + Duration::seconds(1);
    assert_eq!(claim(store, &id, 3, after).await, ReplyClaim::Granted);
    assert_eq!(claim(store, &id, 3, after).await, ReplyClaim::InFlight);
}

async fn a_watch_keeps_its_reply_templates<S: WatchStore>(store: &S) {
    let added = at("2026-12-05T20:00:00Z");
    let mut watch = Watch::new("Northwind", "northwind", vec![Platform::X], vec![], added).unwrap();
    watch.reply_templates = vec![
        ReplyTemplate::new(
            1,
            "We're so sorry, {first_name}. Someone from our team will DM you within 15 minutes.",
            15,
            added,
        )
        .unwrap(),
        ReplyTemplate::new(3, "Thanks {handle}, we're on it.", 60, added).unwrap(),
    ];
    store.put_watch(&watch).await.unwrap();
    let stored = store.watch("Northwind").await.unwrap().unwrap();
    assert_eq!(stored.reply_templates, watch.reply_templates);
    assert_eq!(stored.reply_template(3).unwrap().promise_window_minutes, 60);
    assert!(stored.reply_template(2).is_none());
}

async fn the_roster_remembers_who_may_reply<S: RosterStore>(store: &S) {
    let mut lead = support::on_call("Ana", "+15555550101", 1);
    lead.can_reply = true;
    let other = support::on_call("Ben", "+15555550102", 1);
    store.put_contact(&lead).await.unwrap();
    store.put_contact(&other).await.unwrap();
    let contacts = store.contacts().await.unwrap();
    let may_reply: Vec<&str> = contacts
        .iter()
        .filter(|c| c.can_reply)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(may_reply, vec!["Ana"]);
}

builders::on_both_stores!(
    "replies",
    [
        each_template_is_posted_to_an_alert_once,
        a_failed_reply_may_be_claimed_again,
        an_abandoned_reply_claim_lapses_with_its_lease,
        a_watch_keeps_its_reply_templates,
        the_roster_remembers_who_may_reply,
    ]
);
