//! One contract, two stores: the embedded SQLite store and DynamoDB (on a
//! real moto server) must keep the same promises.

use crate::builders;
use crate::support;

use support::contract;
use support::{at, phone};

use chrono::{DateTime, Duration, Utc};
use earshot::domain::incident::{Burst, topic_words};
use earshot::domain::{
    AlertCode, AlertState, Assessment, Author, Intent, Mention, MentionId, MentionRecord,
    OnCallContact, PhoneNumber, Platform, Priority, Voice,
};
use earshot::ports::{
    Acknowledged, AuthorKey, BurstLogStore, Claim, Claimant, Delivery, FollowUpStore, HoldReason,
    Inserted, MentionStore, Ownership, RosterStore, Saved, VersionedLog,
};

fn record(native_id: &str, author_id: &str, received: &str) -> MentionRecord {
    let received_at = at(received);
    MentionRecord {
        mention: Mention {
            id: MentionId::new(Platform::X, native_id),
            platform: Platform::X,
            url: format!("https://x.com/someone/status/{native_id}"),
            author: Author {
                id: author_id.into(),
                handle: format!("user{author_id}"),
                display_name: Some("Some One".into()),
                followers: Some(1_234),
            },
            text: format!("post {native_id}: stuck at the gate with the kids"),
            created_at: received_at - Duration::seconds(30),
            received_at,
            in_reply_to: None,
            quotes: None,
            brand: "NorthwindAir".into(),
            voice: Voice::Customer,
        },
        assessment: Some(Assessment {
            complaint: true,
            intent: Intent::Complaint,
            sentiment: -0.7,
            urgency: 0.75,
            priority: Priority::P1,
            reasons: vec!["kids".into(), "stuck".into()],
        }),
        alert: AlertState::Pending,
        alert_code: Some(AlertCode::candidate(native_id, 0)),
        incident: None,
    }
}

/// Stores one default record per (post, author, received at).
async fn insert_all<S: MentionStore>(store: &S, posts: &[(&str, &str, &str)]) {
    for (post, author, received) in posts {
        store
            .insert_mention(&record(post, author, received))
            .await
            .unwrap();
    }
}

/// The ids of records, in the order the store gave them.
fn ids(records: Vec<MentionRecord>) -> Vec<String> {
    records
        .into_iter()
        .map(|r| r.mention.id.to_string())
        .collect()
}

/// A claim on one phone for `id`, made at `now` and held until `lease`.
async fn claim<S: MentionStore>(
    store: &S,
    id: &MentionId,
    phone: &PhoneNumber,
    claimant: &Claimant,
    now: DateTime<Utc>,
    lease: DateTime<Utc>,
) -> Claim {
    store
        .claim_delivery(id, phone, claimant, now, lease)
        .await
        .unwrap()
}

async fn a_mention_is_written_once_and_the_first_copy_wins<S: MentionStore>(store: &S) {
    let first = record("100", "7", "2026-11-24T10:00:00Z");
    assert_eq!(store.insert_mention(&first).await.unwrap(), Inserted::New);

    let mut retry = first.clone();
    retry.mention.text = "a later copy with other text".into();
    retry.alert = AlertState::None;
    assert_eq!(
        store.insert_mention(&retry).await.unwrap(),
        Inserted::Existing(Box::new(first.clone())),
        "a duplicate id is not written twice"
    );
    assert_eq!(
        store.get_mention(&first.mention.id).await.unwrap(),
        Some(first)
    );
    assert_eq!(
        store
            .get_mention(&MentionId::new(Platform::X, "404"))
            .await
            .unwrap(),
        None
    );
}

async fn alert_state_changes_are_kept<S: MentionStore>(store: &S) {
    let stored = record("101", "7", "2026-11-24T10:00:00Z");
    store.insert_mention(&stored).await.unwrap();
    let failed = AlertState::Failed {
        at: at("2026-11-24T10:00:05Z"),
        reason: "carrier said no".into(),
    };
    store
        .set_alert_state(&stored.mention.id, &failed)
        .await
        .unwrap();
    let read = store
        .get_mention(&stored.mention.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.alert, failed);
    assert_eq!(read.mention, stored.mention, "only the alert changes");

    let sent = AlertState::Sent {
        at: at("2026-11-24T10:01:00Z"),
        recipients: 2,
    };
    store
        .set_alert_state(&stored.mention.id, &sent)
        .await
        .unwrap();
    assert_eq!(
        store
            .get_mention(&stored.mention.id)
            .await
            .unwrap()
            .unwrap()
            .alert,
        sent
    );
}

async fn an_alert_code_belongs_to_one_mention<S: MentionStore>(store: &S) {
    let owner = record("200", "a", "2026-11-24T10:00:00Z");
    assert_eq!(store.insert_mention(&owner).await.unwrap(), Inserted::New);
    assert_eq!(
        store.insert_mention(&owner).await.unwrap(),
        Inserted::Existing(Box::new(owner.clone())),
        "a retry keeps its record and code"
    );
    let mut other = record("201", "b", "2026-11-24T10:00:00Z");
    other.alert_code = owner.alert_code.clone();
    assert_eq!(
        store.insert_mention(&other).await.unwrap(),
        Inserted::CodeTaken
    );
    assert_eq!(
        store.get_mention(&other.mention.id).await.unwrap(),
        None,
        "nothing stored when the code is taken"
    );
    other.alert_code = Some(AlertCode::candidate("x:201", 1));
    assert_eq!(store.insert_mention(&other).await.unwrap(), Inserted::New);
}

async fn each_phone_gets_each_alert_once<S: MentionStore>(store: &S) {
    let id = MentionId::new(Platform::X, "300");
    let code = AlertCode::candidate("x:300", 0);
    let sam = phone("+15555550100");
    let kim = phone("+15555550101");
    let now = at("2026-11-24T10:00:00Z");
    let lease = now + Duration::minutes(15);
    let (first, second) = (Claimant::fresh(), Claimant::fresh());

    for (step, (who, claimant, expected)) in [
        (&sam, &first, Claim::Granted),
        (&sam, &second, Claim::InFlight),
        (&kim, &first, Claim::Granted),
    ]
    .into_iter()
    .enumerate()
    {
        let got = claim(store, &id, who, claimant, now, lease).await;
        assert_eq!(got, expected, "claim {step}");
    }

    let sent = Delivery::Sent {
        message_id: "m-1".into(),
    };
    record_outcome(store, &id, &code, &sam, &sent, now).await;
    let later = now + Duration::hours(2);
    assert_eq!(
        claim(
            store,
            &id,
            &sam,
            &second,
            later,
            later + Duration::minutes(15)
        )
        .await,
        Claim::AlreadySent,
        "sent stays sent, whatever the lease"
    );

    let failed = Delivery::Failed {
        reason: "throttled".into(),
    };
    record_outcome(store, &id, &code, &kim, &failed, now).await;
    assert_eq!(
        claim(store, &id, &kim, &second, now, lease).await,
        Claim::Granted,
        "a failure may be retried"
    );
}

async fn an_abandoned_claim_lapses_with_its_lease<S: MentionStore>(store: &S) {
    let id = MentionId::new(Platform::X, "301");
    let sam = phone("+15555550100");
    let now = at("2026-11-24T10:00:00Z");
    let lease = now + Duration::minutes(15);
    let (first, second) = (Claimant::fresh(), Claimant::fresh());
    let before_expiry = now + Duration::minutes(10);
    let after_expiry = now + Duration::minutes(16);
    for (step, (claimant, at_time, until, expected)) in [
        (&first, now, lease, Claim::Granted),
        (&second, before_expiry, lease, Claim::InFlight),
        (
            &second,
            after_expiry,
            after_expiry + Duration::minutes(15),
            Claim::Granted,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let got = claim(store, &id, &sam, claimant, at_time, until).await;
        assert_eq!(got, expected, "claim {step}");
    }
}

/// A claim on one phone for post `post`, at a fixed time with a short lease.
async fn claim_at<S: MentionStore>(
    store: &S,
    post: &str,
    phone: &PhoneNumber,
    claimant: &Claimant,
) -> Claim {
    let now = at("2026-11-24T10:00:00Z");
    let id = MentionId::new(Platform::X, post);
    claim(
        store,
        &id,
        phone,
        claimant,
        now,
        now + Duration::seconds(15),
    )
    .await
}

/// Records what became of `phone`'s SMS for `id`.
async fn record_outcome<S: MentionStore>(
    store: &S,
    id: &MentionId,
    code: &AlertCode,
    phone: &PhoneNumber,
    outcome: &Delivery,
    now: DateTime<Utc>,
) {
    store
        .record_delivery(id, code, phone, outcome, now)
        .await
        .unwrap();
}

/// `claimant` gives up its claim on post `post` for the roster's first phone.
async fn release<S: MentionStore>(store: &S, post: &str, claimant: &Claimant, reason: &str) {
    store
        .release_delivery(
            &MentionId::new(Platform::X, post),
            &phone("+15555550100"),
            claimant,
            reason,
            at("2026-11-24T10:00:00Z"),
        )
        .await
        .unwrap();
}

async fn a_claim_is_its_claimants_again<S: MentionStore>(store: &S) {
    let sam = phone("+15555550100");
    let (first, second) = (Claimant::fresh(), Claimant::fresh());
    assert_eq!(claim_at(store, "302", &sam, &first).await, Claim::Granted);
    // The same write again, as an SDK retry after a lost answer sends it.
    assert_eq!(
        claim_at(store, "302", &sam, &first).await,
        Claim::Granted,
        "the claimant's own claim is not another sender's"
    );
    assert_eq!(claim_at(store, "302", &sam, &second).await, Claim::InFlight);
}

async fn a_released_claim_is_free_at_once<S: MentionStore>(store: &S) {
    let id = MentionId::new(Platform::X, "303");
    let code = AlertCode::candidate("x:303", 0);
    let sam = phone("+15555550100");
    let now = at("2026-11-24T10:00:00Z");
    let (first, second, third) = (Claimant::fresh(), Claimant::fresh(), Claimant::fresh());
    assert_eq!(claim_at(store, "303", &sam, &first).await, Claim::Granted);
    // Only the claimant may release its claim.
    release(store, "303", &second, "not mine").await;
    assert_eq!(claim_at(store, "303", &sam, &third).await, Claim::InFlight);
    release(store, "303", &first, "ThrottlingException: rate exceeded").await;
    assert_eq!(
        claim_at(store, "303", &sam, &second).await,
        Claim::Granted,
        "released before the lease ends"
    );
    let sent = Delivery::Sent {
        message_id: "m-2".into(),
    };
    record_outcome(store, &id, &code, &sam, &sent, now).await;
    // A late release by the earlier claimant cannot undo the SMS.
    release(store, "303", &first, "late").await;
    assert_eq!(
        claim_at(store, "303", &sam, &third).await,
        Claim::AlreadySent
    );
}

async fn recent_mentions_come_newest_first_within_the_window<S: MentionStore>(store: &S) {
    let posts = [
        ("400", "2026-11-22T23:59:00Z"),
        ("401", "2026-11-23T08:00:00Z"),
        ("402", "2026-11-24T09:00:00Z"),
        ("403", "2026-11-24T09:30:00Z"),
        ("404", "2026-11-24T11:00:00Z"),
    ]
    .map(|(post, received)| (post, "8", received));
    insert_all(store, &posts).await;
    let window = store
        .recent_mentions(at("2026-11-23T00:00:00Z"), at("2026-11-24T10:00:00Z"), 10)
        .await
        .unwrap();
    assert_eq!(ids(window), ["x:403", "x:402", "x:401"]);
    let limited = store
        .recent_mentions(at("2026-11-20T00:00:00Z"), at("2026-11-24T12:00:00Z"), 2)
        .await
        .unwrap();
    assert_eq!(ids(limited), ["x:404", "x:403"]);
}

async fn an_authors_history_is_theirs_alone<S: MentionStore>(store: &S) {
    let posts = [
        ("500", "9", "2026-11-24T09:00:00Z"),
        ("501", "9", "2026-11-24T09:20:00Z"),
        ("502", "10", "2026-11-24T09:25:00Z"),
        ("503", "9", "2026-11-24T09:40:00Z"),
    ];
    insert_all(store, &posts).await;
    let author = AuthorKey {
        platform: Platform::X,
        author_id: "9".into(),
    };
    let history = store
        .author_mentions(&author, at("2026-11-24T09:10:00Z"), 10)
        .await
        .unwrap();
    assert_eq!(ids(history), ["x:503", "x:501"]);
}

async fn the_roster_adds_renames_lists_and_removes<S: RosterStore>(store: &S) {
    assert!(store.contacts().await.unwrap().is_empty());
    let sam = support::on_call("Sam", "+15555550100", 1);
    let kim = support::on_call("Kim", "+447700900123", 1);
    store.put_contact(&sam).await.unwrap();
    store.put_contact(&kim).await.unwrap();
    let renamed = OnCallContact {
        name: "Samira".into(),
        time_zone: Some("Europe/London".into()),
        quiet_hours: Some(earshot::domain::roster::QuietHours::parse("22:00-07:00").unwrap()),
        p1_in_quiet_hours: false,
        can_reply: false,
        tier: 2,
        ..sam.clone()
    };
    store.put_contact(&renamed).await.unwrap();
    let mut contacts = store.contacts().await.unwrap();
    contacts.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(contacts, vec![kim.clone(), renamed]);

    assert!(store.remove_contact(&sam.phone).await.unwrap());
    assert!(
        !store.remove_contact(&sam.phone).await.unwrap(),
        "already gone"
    );
    assert_eq!(store.contacts().await.unwrap(), vec![kim]);
}

fn owner(name: &str, phone_number: &str, at_time: &str) -> Ownership {
    Ownership {
        name: name.into(),
        phone: phone(phone_number),
        at: at(at_time),
    }
}

async fn the_first_ack_wins_and_later_ones_learn_who<S: FollowUpStore>(store: &S) {
    let id = MentionId::new(Platform::X, "600");
    let sam = owner("Sam", "+15555550100", "2026-11-24T10:02:00Z");
    let kim = owner("Kim", "+15555550101", "2026-11-24T10:02:01Z");
    assert_eq!(store.owner(&id).await.unwrap(), None);
    assert_eq!(
        store.acknowledge(&id, &sam).await.unwrap(),
        Acknowledged::Won
    );
    assert_eq!(
        store.acknowledge(&id, &kim).await.unwrap(),
        Acknowledged::AlreadyOwned(sam.clone())
    );
    assert_eq!(store.owner(&id).await.unwrap(), Some(sam.clone()));

    assert_eq!(store.closed(&id).await.unwrap(), None);
    assert_eq!(
        store.close(&id, &kim).await.unwrap(),
        None,
        "anyone may close it"
    );
    assert_eq!(store.closed(&id).await.unwrap(), Some(kim.clone()));
    assert_eq!(
        store.close(&id, &sam).await.unwrap(),
        Some(kim.clone()),
        "closed once"
    );
    assert!(!store.noise_reported(&id).await.unwrap());
    store.record_noise(&id, &sam).await.unwrap();
    store.record_noise(&id, &sam).await.unwrap();
    assert!(store.noise_reported(&id).await.unwrap());
    let other = MentionId::new(Platform::X, "999");
    assert!(!store.noise_reported(&other).await.unwrap());
}

async fn an_inbound_sms_is_seen_once<S: FollowUpStore>(store: &S) {
    let now = at("2026-11-24T10:00:00Z");
    assert!(store.first_sight_of_inbound("in-1", now).await.unwrap());
    assert!(!store.first_sight_of_inbound("in-1", now).await.unwrap());
    assert!(store.first_sight_of_inbound("in-2", now).await.unwrap());
}

async fn codes_and_latest_alerts_lead_back_to_mentions<S: FollowUpStore + MentionStore>(store: &S) {
    let stored = record("601", "a", "2026-11-24T10:00:00Z");
    let (id, code) = (&stored.mention.id, stored.alert_code.clone().unwrap());
    let sam = phone("+15555550100");
    assert_eq!(store.mention_for_code(&code).await.unwrap(), None);
    store.insert_mention(&stored).await.unwrap();
    assert_eq!(
        store.mention_for_code(&code).await.unwrap(),
        Some(id.clone())
    );

    assert_eq!(store.latest_alert(&sam).await.unwrap(), None);
    let now = at("2026-11-24T10:00:00Z");
    claim(
        store,
        id,
        &sam,
        &Claimant::fresh(),
        now,
        now + Duration::minutes(15),
    )
    .await;
    let held = Delivery::Held {
        reason: HoldReason::QuietHours,
    };
    let sent = Delivery::Sent {
        message_id: "m-601".into(),
    };
    // A held alert is not the phone's latest; recording the SMS as sent
    // makes it so.
    for (outcome, latest) in [(held, None), (sent, Some(code.clone()))] {
        record_outcome(store, id, &code, &sam, &outcome, now).await;
        assert_eq!(
            store.latest_alert(&sam).await.unwrap(),
            latest,
            "{outcome:?}"
        );
    }
    let newer = AlertCode::candidate("x:602", 0);
    store.set_latest_alert(&sam, &newer).await.unwrap();
    assert_eq!(store.latest_alert(&sam).await.unwrap(), Some(newer));
}

async fn stop_and_start_toggle_a_roster_phone<S: FollowUpStore + RosterStore>(store: &S) {
    let sam = support::on_call("Sam", "+15555550100", 1);
    store.put_contact(&sam).await.unwrap();
    assert!(store.set_opted_out(&sam.phone, true).await.unwrap());
    assert!(store.contacts().await.unwrap()[0].opted_out);
    assert!(store.set_opted_out(&sam.phone, false).await.unwrap());
    assert!(!store.contacts().await.unwrap()[0].opted_out);
    assert!(
        !store
            .set_opted_out(&phone("+15555550199"), true)
            .await
            .unwrap(),
        "not on the roster"
    );
}

async fn a_burst_log_is_written_only_at_the_version_it_was_read<S: BurstLogStore>(store: &S) {
    let now = at("2026-11-24T09:00:00Z");
    let brand = "NorthwindAir";
    let mut read = VersionedLog::default();

    let first = MentionId::new(Platform::X, "1");
    let words = topic_words("flight NW12 cancelled, stranded at the gate", brand);
    let burst = read
        .log
        .admit(&first, now, words.clone(), &["stranded".into()]);
    assert_eq!(burst, Burst::Alone);
    let save = |log: VersionedLog, brand: &'static str| async move {
        store.save_burst_log(brand, &log).await.unwrap()
    };
    assert_eq!(save(read.clone(), brand).await, Saved::Written);
    // A writer that started before this one wrote has lost the race, and
    // is handed the log as stored.
    let Saved::Stale(mut next) = save(VersionedLog::default(), brand).await else {
        panic!("a write at a stale version went through");
    };
    assert_eq!((next.version, &next.log), (1, &read.log));
    assert_eq!(next.log.verdict_of(&first), Some(&Burst::Alone));
    assert_eq!(
        save(VersionedLog::default(), "OtherBrand").await,
        Saved::Written,
        "each brand has its own log"
    );

    next.log
        .admit(&MentionId::new(Platform::X, "2"), now, words, &[]);
    assert_eq!(save(next.clone(), brand).await, Saved::Written);
    let Saved::Stale(last) = save(next, brand).await else {
        panic!("the same version was written twice");
    };
    assert_eq!((last.version, last.log.recent.len()), (2, 2));
}

/// Open alerts at `time`, oldest first, by id.
async fn open_ids<S: MentionStore>(store: &S, time: &str, limit: usize) -> Vec<String> {
    ids(store.open_alerts(at(time), limit).await.unwrap())
}

/// Reminders due at `time`, by id.
async fn due_ids<S: MentionStore>(store: &S, time: &str, limit: usize) -> Vec<String> {
    ids(store.reminders_due(at(time), limit).await.unwrap())
}

async fn open_alerts_are_listed_oldest_first_until_settled<S: MentionStore>(store: &S) {
    let mut calm = record("700", "11", "2026-11-24T09:00:00Z");
    calm.alert = AlertState::None;
    store.insert_mention(&calm).await.unwrap();
    let posts = [
        ("701", "11", "2026-11-24T09:10:00Z"),
        ("702", "12", "2026-11-24T09:05:00Z"),
        ("703", "13", "2026-11-24T09:30:00Z"),
    ];
    insert_all(store, &posts).await;

    assert_eq!(
        open_ids(store, "2026-11-24T09:20:00Z", 10).await,
        ["x:702", "x:701"]
    );
    store
        .settle_alert(&MentionId::new(Platform::X, "702"))
        .await
        .unwrap();
    assert_eq!(
        open_ids(store, "2026-11-24T10:00:00Z", 10).await,
        ["x:701", "x:703"]
    );
    assert_eq!(open_ids(store, "2026-11-24T10:00:00Z", 1).await, ["x:701"]);

    // Acknowledged: off the escalation list, on the reminder list when due.
    let id = MentionId::new(Platform::X, "701");
    store
        .own_alert(&id, at("2026-11-24T13:00:00Z"))
        .await
        .unwrap();
    assert_eq!(open_ids(store, "2026-11-24T12:00:00Z", 10).await, ["x:703"]);
    assert!(due_ids(store, "2026-11-24T12:59:00Z", 10).await.is_empty());
    assert_eq!(due_ids(store, "2026-11-24T13:00:00Z", 10).await, ["x:701"]);

    // Booking the next reminder: once per due reminder, whoever asks.
    let due = at("2026-11-24T13:00:00Z");
    let next = at("2026-11-24T17:00:00Z");
    assert!(store.book_reminder(&id, due, next).await.unwrap());
    assert!(
        !store.book_reminder(&id, due, next).await.unwrap(),
        "a second run at the same time sends nothing"
    );
    assert!(due_ids(store, "2026-11-24T16:59:00Z", 10).await.is_empty());
    assert_eq!(due_ids(store, "2026-11-24T17:00:00Z", 10).await, ["x:701"]);
    assert!(
        !store
            .book_reminder(&MentionId::new(Platform::X, "703"), next, next)
            .await
            .unwrap(),
        "only an owned alert has a reminder to book"
    );

    // A promise can bring the reminder forward, never push it back.
    assert!(
        !store
            .remind_by(&id, at("2026-11-25T13:00:00Z"))
            .await
            .unwrap()
    );
    assert!(
        store
            .remind_by(&id, at("2026-11-24T11:30:00Z"))
            .await
            .unwrap()
    );
    assert_eq!(due_ids(store, "2026-11-24T11:30:00Z", 10).await, ["x:701"]);
    let not_owned = MentionId::new(Platform::X, "703");
    assert!(
        !store
            .remind_by(&not_owned, at("2026-11-24T11:00:00Z"))
            .await
            .unwrap(),
        "only an owned alert has a reminder"
    );
    store.settle_alert(&id).await.unwrap();
    assert!(due_ids(store, "2026-11-25T00:00:00Z", 10).await.is_empty());
}

builders::on_both_stores!(
    "contract",
    [
        a_mention_is_written_once_and_the_first_copy_wins,
        alert_state_changes_are_kept,
        an_alert_code_belongs_to_one_mention,
        each_phone_gets_each_alert_once,
        an_abandoned_claim_lapses_with_its_lease,
        a_claim_is_its_claimants_again,
        a_released_claim_is_free_at_once,
        recent_mentions_come_newest_first_within_the_window,
        an_authors_history_is_theirs_alone,
        the_roster_adds_renames_lists_and_removes,
        the_first_ack_wins_and_later_ones_learn_who,
        an_inbound_sms_is_seen_once,
        codes_and_latest_alerts_lead_back_to_mentions,
        stop_and_start_toggle_a_roster_phone,
        open_alerts_are_listed_oldest_first_until_settled,
        a_burst_log_is_written_only_at_the_version_it_was_read,
    ]
);
