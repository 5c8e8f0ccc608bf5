//! Watches, source state and mention revisions: the embedded SQLite store
//! and DynamoDB (on a real moto server) keep the same promises.

use crate::builders;
use crate::support;

use support::at;
use support::contract;

use chrono::{DateTime, Duration, Utc};
use earshot::domain::{Account, Alarm, Resume, SourceKey, SourceState, Watch};
use earshot::domain::{AlertState, Author, Mention, MentionId, MentionRecord, Platform, Voice};
use earshot::ports::{MentionRevisions, MentionStore, Revision, SourceStore, WatchStore};

fn watch(brand: &str, query: &str) -> Watch {
    Watch::new(
        brand,
        query,
        vec![Platform::X, Platform::Bluesky],
        vec![Account::parse("x:900").unwrap()],
        at("2026-11-24T08:00:00Z"),
    )
    .expect("valid watch")
}

fn key(brand: &str, platform: Platform) -> SourceKey {
    SourceKey {
        brand: brand.into(),
        platform,
    }
}

/// Raises `alarm` on `source` at `when`, as a run that sees it fails;
/// returns whether this run is the one that raised it.
async fn raise<S: SourceStore>(
    store: &S,
    source: &SourceKey,
    alarm: Alarm,
    when: DateTime<Utc>,
) -> bool {
    store.raise_alarm(source, alarm, when).await.unwrap()
}

/// The raised alarm on `source` clears once: a second clear finds none,
/// and the stored state carries no alarm.
async fn assert_alarm_clears_once<S: SourceStore>(store: &S, source: &SourceKey) {
    assert!(store.clear_alarm(source).await.unwrap(), "the first clear");
    assert!(
        !store.clear_alarm(source).await.unwrap(),
        "nothing left to clear"
    );
    assert_eq!(store.source(source).await.unwrap().unwrap().alarm, None);
}

async fn watches_are_added_replaced_listed_and_removed<S: WatchStore>(store: &S) {
    assert!(store.watches().await.unwrap().is_empty());
    store
        .put_watch(&watch("Northwind", "northwind air"))
        .await
        .unwrap();
    store
        .put_watch(&watch("Contoso", "contoso OR @contoso"))
        .await
        .unwrap();
    let mut replaced = watch("Northwind", "\"northwind air\" OR #northwind");
    replaced.triage = Some(earshot::triage::TriageSettings {
        p1_threshold: 0.7,
        vip_authors: vec!["MayorOfLeeds".into()],
        ..earshot::triage::TriageSettings::default()
    });
    store.put_watch(&replaced).await.unwrap();

    let listed = store.watches().await.unwrap();
    assert_eq!(
        listed.iter().map(|w| w.brand.as_str()).collect::<Vec<_>>(),
        vec!["Contoso", "Northwind"]
    );
    assert_eq!(store.watch("Northwind").await.unwrap(), Some(replaced));
    assert_eq!(store.watch("Fabrikam").await.unwrap(), None);

    assert!(store.remove_watch("Contoso").await.unwrap());
    assert!(!store.remove_watch("Contoso").await.unwrap());
    assert_eq!(store.watches().await.unwrap().len(), 1);
}

async fn source_state_round_trips_and_saving_keeps_the_alarm<S: SourceStore>(store: &S) {
    let x = key("Northwind", Platform::X);
    assert_eq!(store.source(&x).await.unwrap(), None);

    let mut state = SourceState::new(x.clone());
    state.cursor = Some("1862000000000000100".into());
    state.resume = Some(Resume {
        page: "b26v89c19zqg8o3fpds".into(),
        newest: Some("1862000000000000200".into()),
    });
    state.not_before = Some(at("2026-11-24T10:15:00Z"));
    state.failed("HTTP 503 from search", at("2026-11-24T10:00:00Z"));
    state.saw_new_mentions(3, at("2026-11-24T09:59:00Z"));
    store.save_source(&state).await.unwrap();
    assert_eq!(store.source(&x).await.unwrap(), Some(state.clone()));

    assert!(raise(store, &x, Alarm::Failing, at("2026-11-24T10:01:00Z")).await);
    // A save made from a copy read before the alarm leaves the alarm up.
    state.succeeded(at("2026-11-24T10:02:00Z"));
    store.save_source(&state).await.unwrap();
    let read = store.source(&x).await.unwrap().unwrap();
    assert_eq!(read.alarm, Some(Alarm::Failing));
    assert_eq!(read.consecutive_failures, 0);

    let bluesky = key("Northwind", Platform::Bluesky);
    store
        .save_source(&SourceState::new(bluesky.clone()))
        .await
        .unwrap();
    let all = store.sources().await.unwrap();
    assert_eq!(
        all.iter().map(|s| s.key.clone()).collect::<Vec<_>>(),
        vec![bluesky, x]
    );
}

async fn an_alarm_is_raised_once_and_cleared_once<S: SourceStore>(store: &S) {
    let reddit = key("Northwind", Platform::Reddit);
    let now = at("2026-11-24T10:00:00Z");
    // Two runs see the same trouble; only one raises the alarm.
    assert!(raise(store, &reddit, Alarm::Silent, now).await);
    assert!(!raise(store, &reddit, Alarm::Failing, now + Duration::minutes(1)).await);
    assert_eq!(
        store.source(&reddit).await.unwrap().unwrap().alarm,
        Some(Alarm::Silent)
    );
    assert_alarm_clears_once(store, &reddit).await;
    assert!(
        !store
            .clear_alarm(&key("Nobody", Platform::X))
            .await
            .unwrap()
    );
}

fn facebook_record(native: &str) -> MentionRecord {
    let received_at = at("2026-11-24T10:00:00Z");
    MentionRecord {
        mention: Mention {
            id: MentionId::new(Platform::Facebook, native),
            platform: Platform::Facebook,
            url: format!("https://www.facebook.com/{native}"),
            author: Author {
                id: "5550001".into(),
                handle: "Jo Bloggs".into(),
                display_name: Some("Jo Bloggs".into()),
                followers: None,
            },
            text: "the app logs me out every hour".into(),
            created_at: received_at,
            received_at,
            in_reply_to: None,
            quotes: None,
            brand: "Northwind".into(),
            voice: Voice::Customer,
        },
        assessment: None,
        alert: AlertState::None,
        alert_code: None,
        incident: None,
    }
}

async fn edits_and_removals_revise_the_stored_mention<S: MentionStore + MentionRevisions>(
    store: &S,
) {
    let record = facebook_record("4410_7720");
    let id = record.mention.id.clone();
    let edited = Revision::Edited {
        text: "the app logs me out every hour. Fixed after update, thanks".into(),
        at: at("2026-11-24T11:00:00Z"),
    };
    assert!(
        !store.revise_mention(&id, &edited).await.unwrap(),
        "nothing to revise yet"
    );
    assert_eq!(store.mention_revision(&id).await.unwrap(), None);

    store.insert_mention(&record).await.unwrap();
    assert!(store.revise_mention(&id, &edited).await.unwrap());
    let stored = store.get_mention(&id).await.unwrap().unwrap();
    assert_eq!(
        stored.mention.text,
        "the app logs me out every hour. Fixed after update, thanks"
    );
    assert_eq!(
        stored.mention.author, record.mention.author,
        "only the text changes"
    );
    assert_eq!(store.mention_revision(&id).await.unwrap(), Some(edited));

    let removed = Revision::Removed {
        at: at("2026-11-24T12:00:00Z"),
    };
    assert!(store.revise_mention(&id, &removed).await.unwrap());
    assert_eq!(store.mention_revision(&id).await.unwrap(), Some(removed));
    // Still one mention under that id, with its last text.
    assert_eq!(
        store.get_mention(&id).await.unwrap().unwrap().mention.text,
        "the app logs me out every hour. Fixed after update, thanks"
    );
}

/// The firehose keeps one cursor for every watch, under a key no watch
/// can have, and its lag alarm goes up and comes down once each.
async fn the_stream_cursor_and_its_lag_alarm_are_kept<S: SourceStore + WatchStore>(store: &S) {
    let stream = earshot::firehose::stream_key();
    assert!(
        Watch::new(
            &stream.brand,
            "q",
            vec![],
            vec![],
            at("2026-11-24T08:00:00Z")
        )
        .is_err()
    );
    let mut state = SourceState::new(stream.clone());
    state.cursor = Some("1764928800123456".into());
    state.succeeded(at("2026-12-05T10:00:00Z"));
    store.save_source(&state).await.unwrap();
    assert_eq!(store.source(&stream).await.unwrap(), Some(state.clone()));

    let raised_at = at("2026-12-05T10:20:00Z");
    assert!(raise(store, &stream, Alarm::Lagging, raised_at).await);
    assert!(
        !raise(store, &stream, Alarm::Lagging, raised_at).await,
        "one alarm, one SMS"
    );
    state.cursor = Some("1764930000000000".into());
    store.save_source(&state).await.unwrap();
    let saved = store.source(&stream).await.unwrap().unwrap();
    assert_eq!(
        saved.alarm,
        Some(Alarm::Lagging),
        "saving the cursor keeps the alarm"
    );
    assert_eq!(saved.cursor.as_deref(), Some("1764930000000000"));
    assert_alarm_clears_once(store, &stream).await;
}

builders::on_both_stores!(
    "sources",
    [
        watches_are_added_replaced_listed_and_removed,
        source_state_round_trips_and_saving_keeps_the_alarm,
        an_alarm_is_raised_once_and_cleared_once,
        edits_and_removals_revise_the_stored_mention,
        the_stream_cursor_and_its_lag_alarm_are_kept,
    ]
);
