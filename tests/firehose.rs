//! The firehose against a local WebSocket server that serves frames in
//! Jetstream's own format from the cursor it is asked for: commits that
//! create, update and delete posts, identity and account events, a
//! connection dropped mid-stream, a consumer slower than the server, a
//! run cut by its deadline and a cursor left far behind. Every test checks
//! that each matched post is stored exactly once.

use crate::platform_servers;
use crate::support;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use earshot::adapters::Deps;
use earshot::adapters::embedded::EmbeddedStore;
use earshot::config;
use earshot::domain::Clock;
use earshot::domain::{Account, Alarm, SourceKey, SourceState, Watch};
use earshot::domain::{Author, MentionId, Platform, Voice};
use earshot::firehose::{
    Ending, Firehose, FirehoseSettings, FirehoseSummary, WebSocketConnector, stream_key,
};
use earshot::platforms::bluesky_profiles::BlueskyProfiles;
use earshot::platforms::http::Http;
use earshot::platforms::jetstream::{frame_position, micros, time_of};
use earshot::poll::setup::{PollSecrets, search_sources_for};
use earshot::ports::{
    MentionRevisions, MentionStore, Revision, RosterStore, SourceStore, StoreError, WatchStore,
};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BRAND: &str = "Northwind";
const BRAND_DID: &str = "did:plc:northwindair";
const SECOND: i64 = 1_000_000;

// ------------------------------------------------------------ frames

fn iso(time_us: i64) -> String {
    time_of(time_us).to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn record(text: &str, time_us: i64) -> Value {
    json!({"$type": "app.bsky.feed.post", "text": text, "createdAt": iso(time_us), "langs": ["en"]})
}

fn commit(did: &str, time_us: i64, operation: &str, rkey: &str, record: Option<Value>) -> String {
    let mut commit = json!({"rev": format!("3m{rkey}r"), "operation": operation,
        "collection": "app.bsky.feed.post", "rkey": rkey});
    if let Some(record) = record {
        commit["record"] = record;
        commit["cid"] = json!(format!("bafyrei{rkey}"));
    }
    json!({"did": did, "time_us": time_us, "kind": "commit", "commit": commit}).to_string()
}

fn post(did: &str, rkey: &str, time_us: i64, text: &str) -> String {
    commit(did, time_us, "create", rkey, Some(record(text, time_us)))
}

fn identity(did: &str, handle: &str, time_us: i64) -> String {
    json!({"did": did, "time_us": time_us, "kind": "identity",
        "identity": {"did": did, "handle": handle, "seq": 5_501_000, "time": iso(time_us)}})
    .to_string()
}

fn account(did: &str, active: bool, time_us: i64) -> String {
    let mut event = json!({"active": active, "did": did, "seq": 5_501_001, "time": iso(time_us)});
    if !active {
        event["status"] = json!("deactivated");
    }
    json!({"did": did, "time_us": time_us, "kind": "account", "account": event}).to_string()
}

fn id(did: &str, rkey: &str) -> String {
    format!("bluesky:{did}/{rkey}")
}

/// `count` posts one second apart from `start`; every `every`-th names the
/// brand. Returns the frames and the ids that should be stored.
fn stream_of(start: i64, count: usize, every: usize) -> (Vec<String>, Vec<String>) {
    let mut frames = Vec::new();
    let mut wanted = Vec::new();
    for n in 0..count {
        let did = format!("did:plc:cust{n}");
        let rkey = format!("3m{n:05}");
        let at = start + n as i64 * SECOND;
        if n % every == 0 {
            frames.push(post(
                &did,
                &rkey,
                at,
                &format!("northwind flight {n} delayed again"),
            ));
            wanted.push(id(&did, &rkey));
        } else {
            frames.push(post(&did, &rkey, at, &format!("walked the dog, day {n}")));
        }
    }
    (frames, wanted)
}

// ------------------------------------------------------------ server

/// What a connection does once its frames are sent.
#[derive(Clone, Copy)]
enum Then {
    /// Keeps the connection open, as a live stream with nothing new.
    Hang,
    /// Closes it with a close frame (as Jetstream does to slow readers).
    Close,
    /// Drops the TCP connection without a word.
    Drop,
}

#[derive(Clone, Copy)]
struct Script {
    at_most: usize,
    then: Then,
    /// Time between frames.
    pace: Option<StdDuration>,
}

fn serve_all(then: Then) -> Script {
    Script {
        at_most: usize::MAX,
        then,
        pace: None,
    }
}

/// A local Jetstream: each connection follows the next script (the last
/// one repeats) and gets the frames at or after the cursor it asked for.
struct Jetstream {
    url: String,
    /// The query string of each connection, in order.
    queries: Arc<Mutex<Vec<String>>>,
}

impl Jetstream {
    async fn start(frames: Vec<String>, scripts: Vec<Script>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/subscribe", listener.local_addr().unwrap());
        let queries = Arc::new(Mutex::new(Vec::new()));
        let log = queries.clone();
        let frames = Arc::new(frames);
        tokio::spawn(async move {
            let mut connection = 0;
            while let Ok((tcp, _)) = listener.accept().await {
                let script = scripts[connection.min(scripts.len() - 1)];
                connection += 1;
                tokio::spawn(serve(tcp, frames.clone(), script, log.clone()));
            }
        });
        Self { url, queries }
    }

    fn cursors(&self) -> Vec<Option<i64>> {
        self.queries
            .lock()
            .unwrap()
            .iter()
            .map(|query| {
                form_urlencoded::parse(query.as_bytes())
                    .find(|(k, _)| k == "cursor")
                    .map(|(_, v)| v.parse().unwrap())
            })
            .collect()
    }
}

// The handshake callback's error type is the WebSocket library's.
#[allow(clippy::result_large_err)]
async fn serve(
    tcp: tokio::net::TcpStream,
    frames: Arc<Vec<String>>,
    script: Script,
    log: Arc<Mutex<Vec<String>>>,
) {
    let asked = Arc::new(Mutex::new(String::new()));
    let seen = asked.clone();
    let callback = move |request: &Request, response: Response| {
        *seen.lock().unwrap() = request.uri().query().unwrap_or_default().to_owned();
        Ok(response)
    };
    let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(tcp, callback).await else {
        return;
    };
    let query = asked.lock().unwrap().clone();
    log.lock().unwrap().push(query.clone());
    let cursor: Option<i64> = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "cursor")
        .map(|(_, v)| v.parse().unwrap());
    let from_cursor = frames
        .iter()
        .filter(|frame| cursor.is_none_or(|c| frame_position(frame).unwrap() >= c))
        .take(script.at_most);
    for frame in from_cursor {
        if let Some(pace) = script.pace {
            tokio::time::sleep(pace).await;
        }
        if socket
            .send(Message::Text(frame.clone().into()))
            .await
            .is_err()
        {
            return;
        }
    }
    match script.then {
        Then::Hang => while let Some(Ok(_)) = socket.next().await {},
        Then::Close => {
            let _ = socket.close(None).await;
        }
        Then::Drop => drop(socket),
    }
}

// ------------------------------------------------------------ harness

struct Harness {
    _home: tempfile::TempDir,
    store: EmbeddedStore,
    deps: Deps,
}

/// Northwind watched on Bluesky through its own DID, and Sam on call.
async fn brand_on_bluesky<S: WatchStore + RosterStore>(store: &S) {
    let watch = Watch::new(
        BRAND,
        "northwind",
        vec![Platform::Bluesky],
        vec![Account::parse(&format!("bluesky:{BRAND_DID}")).unwrap()],
        Utc::now() - Duration::days(30),
    )
    .unwrap();
    store.put_watch(&watch).await.unwrap();
    support::seat_on_call(store, &[("Sam", support::SAM, 1)]).await;
}

impl Harness {
    async fn new() -> Self {
        let home = tempfile::tempdir().unwrap();
        let (deps, store) = Deps::embedded(home.path(), false, Clock::System).unwrap();
        brand_on_bluesky(&store).await;
        Self {
            _home: home,
            store,
            deps,
        }
    }

    /// Sets where the next run reads from.
    async fn seed_cursor(&self, cursor: i64) {
        seed_cursor(&self.store, cursor).await;
    }

    fn firehose(&self, settings: FirehoseSettings) -> Firehose {
        self.firehose_over(self.store.clone(), settings)
    }

    fn firehose_over<S: SourceStore + 'static>(
        &self,
        sources: S,
        settings: FirehoseSettings,
    ) -> Firehose {
        firehose_on(&self.deps, sources, settings)
    }

    /// One run with `settings` that must end within `millis`.
    async fn run(&self, settings: FirehoseSettings, millis: u64) -> FirehoseSummary {
        self.firehose(settings)
            .run(deadline_in(millis))
            .await
            .unwrap()
    }

    async fn cursor(&self) -> Option<i64> {
        self.state().await.cursor.map(|c| c.parse().unwrap())
    }

    async fn state(&self) -> SourceState {
        self.store.source(&stream_key()).await.unwrap().unwrap()
    }

    async fn assert_stored_once(&self, expected: &[String]) {
        assert_stored_once(&self.store, expected).await;
    }

    fn outbox(&self) -> Vec<String> {
        support::outbox_bodies(&self.store)
    }

    /// The author, as stored, of post `id`, which must be the one post
    /// stored, and stored once.
    async fn sole_post_author(&self, id: &str) -> Author {
        self.assert_stored_once(&[id.to_owned()]).await;
        let id = MentionId::parse(id).unwrap();
        let stored = self.store.get_mention(&id).await.unwrap();
        stored.expect("stored").mention.author
    }
}

/// Every post in `expected` (mention ids) is stored exactly once, and
/// nothing else is.
async fn assert_stored_once<S: MentionStore>(store: &S, expected: &[String]) {
    let records = store
        .recent_mentions(
            Utc::now() - Duration::days(1),
            Utc::now() + Duration::days(1),
            10_000,
        )
        .await
        .unwrap();
    let mut stored: BTreeMap<String, usize> = BTreeMap::new();
    for record in records {
        *stored.entry(record.mention.id.to_string()).or_default() += 1;
    }
    let wanted: BTreeMap<String, usize> = expected.iter().map(|id| (id.clone(), 1)).collect();
    assert_eq!(stored, wanted, "every matched post stored exactly once");
}

/// Sets where the next run on `store` reads from.
async fn seed_cursor<S: SourceStore>(store: &S, cursor: i64) {
    let mut state = SourceState::new(stream_key());
    state.cursor = Some(cursor.to_string());
    store.save_source(&state).await.unwrap();
}

/// A firehose on `deps` keeping its cursor in `sources`.
fn firehose_on<S: SourceStore + 'static>(
    deps: &Deps,
    sources: S,
    settings: FirehoseSettings,
) -> Firehose {
    Firehose::new(
        deps,
        sources,
        Arc::new(WebSocketConnector),
        settings,
        Clock::System,
    )
}

fn settings(endpoints: &[&str]) -> FirehoseSettings {
    FirehoseSettings {
        endpoints: endpoints.iter().map(|e| (*e).to_owned()).collect(),
        connect_timeout: StdDuration::from_secs(5),
        max_connections: 4,
        margin: StdDuration::from_millis(100),
        ..FirehoseSettings::default()
    }
}

fn deadline_in(millis: u64) -> Instant {
    Instant::now() + StdDuration::from_millis(millis)
}

fn minutes_ago(minutes: i64) -> i64 {
    micros(Utc::now() - Duration::minutes(minutes))
}

fn start_of_stream() -> i64 {
    minutes_ago(2)
}

// ------------------------------------------------------------ tests

#[tokio::test]
async fn creates_edits_deletes_identity_and_account_events_reach_the_store() {
    let harness = Harness::new().await;
    let t = start_of_stream();
    let mention = json!({"$type": "app.bsky.feed.post", "createdAt": iso(t + 4 * SECOND),
        "text": "@northwindair.bsky.social where is my refund?",
        "facets": [{"index": {"byteStart": 0, "byteEnd": 25},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": BRAND_DID}]}]});
    let answer = json!({"$type": "app.bsky.feed.post", "createdAt": iso(t + 5 * SECOND),
        "text": "We're sorry, Zoe. We will DM you within 30 minutes.",
        "reply": {"root": {"uri": "at://did:plc:zoe/app.bsky.feed.post/3mzoe1", "cid": "bafyreizoe1"},
                  "parent": {"uri": "at://did:plc:zoe/app.bsky.feed.post/3mzoe1", "cid": "bafyreizoe1"}}});
    let frames = vec![
        identity("did:plc:zoe", "zoe.example", t),
        account("did:plc:kim", false, t + SECOND),
        post(
            "did:plc:zoe",
            "3mzoe1",
            t + 2 * SECOND,
            "Northwind lost my bag and nobody answers the phone",
        ),
        post("did:plc:kim", "3mkim1", t + 3 * SECOND, "lovely walk by the river"),
        commit("did:plc:lee", t + 4 * SECOND, "create", "3mlee1", Some(mention)),
        commit(BRAND_DID, t + 5 * SECOND, "create", "3mnw1", Some(answer)),
        commit(
            "did:plc:zoe",
            t + 6 * SECOND,
            "update",
            "3mzoe1",
            Some(record("Northwind found my bag, thank you", t + 2 * SECOND)),
        ),
        commit("did:plc:lee", t + 7 * SECOND, "delete", "3mlee1", None),
        commit("did:plc:kim", t + 8 * SECOND, "delete", "3mkim1", None),
        json!({"did": "did:plc:odd", "time_us": t + 9 * SECOND, "kind": "commit",
            "commit": {"operation": "create", "collection": "app.bsky.feed.post", "rkey": "x", "record": "not a post"}})
        .to_string(),
    ];
    let server = Jetstream::start(frames, vec![serve_all(Then::Hang)]).await;
    harness.seed_cursor(t - 1).await;

    let summary = harness.run(settings(&[&server.url]), 2_500).await;

    assert_eq!(summary.ended, Ending::Deadline);
    assert_eq!(
        (
            summary.frames,
            summary.posts,
            summary.matched,
            summary.rejected
        ),
        (10, 5, 3, 1)
    );
    assert_eq!((summary.stored, summary.revised), (3, 2));
    let zoe = MentionId::parse(&id("did:plc:zoe", "3mzoe1")).unwrap();
    let lee = MentionId::parse(&id("did:plc:lee", "3mlee1")).unwrap();
    harness
        .assert_stored_once(&[zoe.to_string(), lee.to_string(), id(BRAND_DID, "3mnw1")])
        .await;
    let stored = harness.store.get_mention(&zoe).await.unwrap().unwrap();
    assert_eq!(stored.mention.text, "Northwind found my bag, thank you");
    assert_eq!(
        stored.mention.url,
        "https://bsky.app/profile/did:plc:zoe/post/3mzoe1"
    );
    assert!(matches!(
        harness.store.mention_revision(&lee).await.unwrap(),
        Some(Revision::Removed { .. })
    ));
    let answer = MentionId::parse(&id(BRAND_DID, "3mnw1")).unwrap();
    let answer = harness.store.get_mention(&answer).await.unwrap().unwrap();
    assert_eq!(answer.mention.voice, Voice::Brand);
    assert_eq!(answer.mention.in_reply_to, Some(zoe));
    // The broken frame is passed over: the cursor is the last frame's.
    assert_eq!(harness.cursor().await, Some(t + 9 * SECOND));
    assert_eq!(server.cursors(), vec![Some(t - 1 - 5 * SECOND)]);
    let query = server.queries.lock().unwrap()[0].clone();
    assert!(
        query.contains("wantedCollections=app.bsky.feed.post"),
        "{query}"
    );
}

/// An urgent complaint by `did` naming the brand, at `time_us`.
fn stranded(did: &str, rkey: &str, time_us: i64) -> String {
    post(
        did,
        rkey,
        time_us,
        "northwind we have been stuck on the tarmac for 3 hours with two kids, \
         no water, no air conditioning and nobody is telling us anything",
    )
}

/// One run over `frames` with profiles read from `profiles`.
async fn run_with_profiles(harness: &Harness, frames: Vec<String>, profiles: &MockServer) {
    let server = Jetstream::start(frames, vec![serve_all(Then::Hang)]).await;
    harness
        .firehose(settings(&[&server.url]))
        .with_profiles(BlueskyProfiles::new(Http::new().unwrap(), profiles.uri()))
        .run(deadline_in(1_500))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_matched_posts_author_is_looked_up_before_triage_and_the_page() {
    let harness = Harness::new().await;
    let t = start_of_stream();
    let profiles = MockServer::start().await;
    platform_servers::bluesky_profiles(&profiles, |did| {
        json!({"did": did, "handle": "zoe.example", "displayName": "Zoë Marsh",
               "followersCount": 48_200, "avatar": "https://cdn.example/zoe.jpg"})
    })
    .await;
    let frames = vec![
        stranded("did:plc:zoe", "3mzoe1", t),
        post("did:plc:kim", "3mkim1", t + SECOND, "walked the dog"),
    ];

    run_with_profiles(&harness, frames, &profiles).await;

    let author = harness.sole_post_author(&id("did:plc:zoe", "3mzoe1")).await;
    assert_eq!(author.id, "did:plc:zoe");
    assert_eq!(author.handle, "zoe.example");
    assert_eq!(author.display_name.as_deref(), Some("Zoë Marsh"));
    assert_eq!(author.followers, Some(48_200));
    // Only the matched post's author was asked about.
    let asked: Vec<String> = profiles
        .received_requests()
        .await
        .unwrap()
        .iter()
        .flat_map(|request| {
            request
                .url
                .query_pairs()
                .map(|(_, did)| did.into_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(asked, ["did:plc:zoe"]);
    // The page names the customer by handle, with the reach; the link
    // keeps the DID, which outlives a change of handle.
    let pages = harness.outbox();
    assert_eq!(pages.len(), 1, "{pages:?}");
    let header = pages[0].lines().next().unwrap();
    assert!(header.contains("@zoe.example 48k"), "{}", pages[0]);
    assert!(
        pages[0].contains("bsky.app/profile/did:plc:zoe/post/3mzoe1"),
        "{}",
        pages[0]
    );
}

#[tokio::test]
async fn a_failed_profile_look_up_leaves_the_did_and_loses_no_post() {
    let harness = Harness::new().await;
    let t = start_of_stream();
    let profiles = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(503))
        .mount(&profiles)
        .await;

    run_with_profiles(
        &harness,
        vec![stranded("did:plc:zoe", "3mzoe1", t)],
        &profiles,
    )
    .await;

    let author = harness.sole_post_author(&id("did:plc:zoe", "3mzoe1")).await;
    assert_eq!(author.handle, "did:plc:zoe");
    assert_eq!(author.followers, None);
    assert!(!profiles.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_dropped_connection_fails_over_and_the_rewind_stores_each_post_once() {
    let harness = Harness::new().await;
    let t = start_of_stream();
    let (frames, wanted) = stream_of(t, 12, 1);
    let first = Jetstream::start(
        frames.clone(),
        vec![Script {
            at_most: 6,
            then: Then::Drop,
            pace: None,
        }],
    )
    .await;
    let second = Jetstream::start(frames, vec![serve_all(Then::Hang)]).await;
    harness.seed_cursor(t).await;

    let summary = harness
        .run(settings(&[&first.url, &second.url]), 3_000)
        .await;

    harness.assert_stored_once(&wanted).await;
    assert_eq!(first.cursors(), vec![Some(t - 5 * SECOND)]);
    // The sixth frame (t + 5 s) was the last handled; the next endpoint
    // starts five seconds before it, so frames 0 to 5 come again.
    assert_eq!(second.cursors(), vec![Some(t)]);
    assert_eq!((summary.connections, summary.failed_connections), (2, 0));
    assert_eq!((summary.stored, summary.duplicates), (12, 6));
    assert_eq!(harness.cursor().await, Some(t + 11 * SECOND));
    assert_eq!(harness.state().await.consecutive_failures, 0);
}

/// Keeps source state in the embedded store, slowly, and records every
/// cursor saved.
#[derive(Clone)]
struct SlowSaves {
    inner: EmbeddedStore,
    saved: Arc<Mutex<Vec<i64>>>,
}

#[async_trait]
impl SourceStore for SlowSaves {
    async fn source(&self, key: &SourceKey) -> Result<Option<SourceState>, StoreError> {
        self.inner.source(key).await
    }
    async fn sources(&self) -> Result<Vec<SourceState>, StoreError> {
        self.inner.sources().await
    }
    async fn save_source(&self, state: &SourceState) -> Result<(), StoreError> {
        tokio::time::sleep(StdDuration::from_millis(10)).await;
        if let Some(cursor) = &state.cursor {
            self.saved.lock().unwrap().push(cursor.parse().unwrap());
        }
        self.inner.save_source(state).await
    }
    async fn raise_alarm(
        &self,
        key: &SourceKey,
        alarm: Alarm,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.inner.raise_alarm(key, alarm, at).await
    }
    async fn clear_alarm(&self, key: &SourceKey) -> Result<bool, StoreError> {
        self.inner.clear_alarm(key).await
    }
}

#[tokio::test]
async fn a_slow_consumer_cut_off_by_the_server_loses_nothing_and_saves_by_batch() {
    let harness = Harness::new().await;
    let t = minutes_ago(10);
    // 200 frames sent at once, faster than the reader handles them; then
    // the server gives up on the reader, as Jetstream does.
    let (frames, wanted) = stream_of(t, 200, 10);
    let server =
        Jetstream::start(frames, vec![serve_all(Then::Close), serve_all(Then::Hang)]).await;
    harness.seed_cursor(t).await;
    let saves = SlowSaves {
        inner: harness.store.clone(),
        saved: Arc::new(Mutex::new(Vec::new())),
    };
    let firehose = harness.firehose_over(
        saves.clone(),
        FirehoseSettings {
            save_every: 25,
            ..settings(&[&server.url])
        },
    );

    let summary = firehose.run(deadline_in(6_000)).await.unwrap();

    harness.assert_stored_once(&wanted).await;
    let last = t + 199 * SECOND;
    assert_eq!(
        server.cursors(),
        vec![Some(t - 5 * SECOND), Some(last - 5 * SECOND)]
    );
    assert_eq!(summary.stored, 20);
    let saved = saves.saved.lock().unwrap().clone();
    assert!(saved.len() >= 200 / 25, "saved after each batch: {saved:?}");
    assert!(
        saved.windows(2).all(|w| w[0] <= w[1]),
        "never back: {saved:?}"
    );
    assert_eq!(saved.last(), Some(&last));
    assert_eq!(harness.cursor().await, Some(last));
}

#[tokio::test]
async fn a_run_cut_by_its_deadline_resumes_where_it_stopped() {
    let harness = Harness::new().await;
    let t = minutes_ago(60);
    // More frames than one run can read at this pace.
    let (frames, wanted) = stream_of(t, 3_000, 5);
    let paced = Script {
        at_most: usize::MAX,
        then: Then::Hang,
        pace: Some(StdDuration::from_millis(15)),
    };
    let server = Jetstream::start(frames, vec![paced]).await;
    harness.seed_cursor(t).await;

    let first = harness.run(settings(&[&server.url]), 1_500).await;
    let first_cursor = harness.cursor().await.unwrap();
    let second = harness.run(settings(&[&server.url]), 1_500).await;
    let second_cursor = harness.cursor().await.unwrap();

    assert_eq!(
        (first.ended, second.ended),
        (Ending::Deadline, Ending::Deadline)
    );
    assert!(
        first.frames > 0 && first.frames < 3_000,
        "cut short: {first:?}"
    );
    assert_eq!(first.cursor, Some(first_cursor));
    assert_eq!(
        server.cursors(),
        vec![Some(t - 5 * SECOND), Some(first_cursor - 5 * SECOND)]
    );
    assert!(
        second_cursor > first_cursor,
        "{first_cursor} then {second_cursor}"
    );
    // Exactly the matching posts up to the cursor: nothing skipped between
    // the runs, nothing stored twice.
    let read = ((second_cursor - t) / SECOND) as usize;
    let expected: Vec<String> = wanted.into_iter().take(read / 5 + 1).collect();
    harness.assert_stored_once(&expected).await;
}

#[tokio::test]
async fn a_cursor_lagging_past_the_limit_raises_the_alarm_once_then_clears() {
    let harness = Harness::new().await;
    let behind = minutes_ago(30);
    let (old, _) = stream_of(behind, 3, 1);
    let slow_server = Jetstream::start(old, vec![serve_all(Then::Hang)]).await;
    harness.seed_cursor(behind).await;
    let lagging = || FirehoseSettings {
        lag_alarm_after: Duration::minutes(10),
        ..settings(&[&slow_server.url])
    };

    let first = harness.run(lagging(), 1_000).await;
    let second = harness.run(lagging(), 1_000).await;

    assert_eq!((first.health_sms, second.health_sms), (1, 0));
    assert_eq!(harness.state().await.alarm, Some(Alarm::Lagging));
    let texts = harness.outbox();
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].contains("minutes behind"), "{}", texts[0]);

    let now = micros(Utc::now());
    let live = Jetstream::start(
        vec![post("did:plc:kim", "3mlive", now, "sunny today")],
        vec![serve_all(Then::Hang)],
    )
    .await;
    let caught_up = harness
        .run(
            FirehoseSettings {
                lag_alarm_after: Duration::minutes(10),
                ..settings(&[&live.url])
            },
            1_000,
        )
        .await;

    assert_eq!(caught_up.health_sms, 1);
    assert_eq!(harness.state().await.alarm, None);
    let texts = harness.outbox();
    assert_eq!(texts.len(), 2);
    assert!(texts[1].contains("caught up"), "{}", texts[1]);
}

#[tokio::test]
async fn unreachable_endpoints_end_the_run_and_keep_the_cursor() {
    let harness = Harness::new().await;
    // A port that was just free: nothing listens there.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("ws://{}/subscribe", listener.local_addr().unwrap())
    };
    let t = start_of_stream();
    harness.seed_cursor(t).await;

    let summary: FirehoseSummary = harness
        .run(
            FirehoseSettings {
                max_connections: 3,
                ..settings(&[&closed, &closed])
            },
            20_000,
        )
        .await;

    assert_eq!(summary.ended, Ending::Unreachable);
    assert_eq!((summary.connections, summary.failed_connections), (0, 3));
    let state = harness.state().await;
    assert_eq!(state.cursor, Some(t.to_string()));
    assert_eq!(state.consecutive_failures, 1);
    assert!(state.last_error.is_some());
}

#[tokio::test]
async fn a_switched_off_firehose_reads_nothing_and_search_covers_bluesky() {
    let harness = Harness::new().await;
    let summary = harness
        .run(
            FirehoseSettings {
                enabled: false,
                ..settings(&["ws://127.0.0.1:9/subscribe"])
            },
            5_000,
        )
        .await;
    assert_eq!(summary.ended, Ending::Disabled);
    assert_eq!(summary.connections + summary.failed_connections, 0);

    let searched = |firehose: bool| -> Vec<Platform> {
        search_sources_for(PollSecrets::default(), firehose)
            .unwrap()
            .iter()
            .map(|source| source.platform())
            .collect()
    };
    assert!(searched(false).contains(&Platform::Bluesky));
    assert!(!searched(true).contains(&Platform::Bluesky));
    assert_eq!(searched(true).len(), 3);
}

#[tokio::test]
async fn on_dynamodb_the_cursor_is_kept_in_the_table_and_a_lag_pages_once() {
    let moto = support::Moto::start();
    let table = support::unique_table("firehose");
    let store = moto.dynamo_store(&table).await;
    let deps = support::deps_for(&moto.sdk_config().await, &table);
    brand_on_bluesky(&store).await;
    let t = minutes_ago(30);
    seed_cursor(&store, t).await;
    let (frames, wanted) = stream_of(t, 8, 2);
    let server = Jetstream::start(frames, vec![serve_all(Then::Hang)]).await;
    let run = || firehose_on(&deps, store.clone(), settings(&[&server.url]));

    let first = run().run(deadline_in(2_500)).await.unwrap();
    let second = run().run(deadline_in(2_500)).await.unwrap();

    assert_eq!((first.stored, second.stored), (4, 0));
    assert_eq!(
        second.duplicates, 3,
        "the rewind replays the last five seconds"
    );
    let saved = store.source(&stream_key()).await.unwrap().unwrap();
    assert_eq!(saved.cursor, Some((t + 7 * SECOND).to_string()));
    assert_eq!(saved.alarm, Some(Alarm::Lagging));
    assert_stored_once(&store, &wanted).await;
    let lag_texts = moto
        .sms_sent()
        .into_iter()
        .filter(|(_, text)| text.contains("minutes behind"))
        .count();
    assert_eq!((first.health_sms, second.health_sms, lag_texts), (1, 0, 1));
}

/// Runs `earshot` on an embedded store in `home`; its standard output.
fn earshot(home: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_earshot"))
        .args(args)
        .env_remove("EARSHOT_BACKEND")
        .env("EARSHOT_HOME", home)
        .envs(env.iter().copied())
        .output()
        .expect("earshot runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn add_watch(home: &std::path::Path) {
    earshot(
        home,
        &[],
        &[
            "watch",
            "add",
            BRAND,
            "--query",
            "northwind",
            "--platforms",
            "bluesky",
            "--account",
            &format!("bluesky:{BRAND_DID}"),
        ],
    );
}

#[tokio::test]
async fn earshot_invoke_firehose_replays_a_file_from_the_stored_cursor() {
    let home = tempfile::tempdir().unwrap();
    add_watch(home.path());
    let t = start_of_stream();
    let frames = [
        post("did:plc:zoe", "3ma", t, "Northwind cancelled my flight"),
        identity("did:plc:zoe", "zoe.example", t + 10 * SECOND),
        post("did:plc:kim", "3mb", t + 20 * SECOND, "nice day"),
        post(
            "did:plc:lee",
            "3mc",
            t + 30 * SECOND,
            "northwind, my refund?",
        ),
    ];
    let replay = home.path().join("frames.jsonl");
    std::fs::write(&replay, frames.join("\n")).unwrap();
    let replay = replay.to_string_lossy().into_owned();
    let invoke = || -> Value {
        serde_json::from_str(&earshot(home.path(), &[], &["invoke", "firehose", &replay])).unwrap()
    };

    let first = invoke();
    let again = invoke();

    assert_eq!(first["ended"], "exhausted");
    assert_eq!(
        (first["frames"].as_u64(), first["stored"].as_u64()),
        (Some(4), Some(2))
    );
    assert_eq!(first["cursor"].as_i64(), Some(t + 30 * SECOND));
    // From the cursor less the rewind: only the last frame comes again.
    assert_eq!(
        (
            again["frames"].as_u64(),
            again["stored"].as_u64(),
            again["duplicates"].as_u64()
        ),
        (Some(1), Some(0), Some(1))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn earshot_invoke_firehose_reads_a_local_endpoint_when_switched_on() {
    let home = tempfile::tempdir().unwrap();
    add_watch(home.path());
    let t = start_of_stream();
    let (frames, wanted) = stream_of(t, 6, 2);
    let server = Jetstream::start(frames, vec![serve_all(Then::Hang)]).await;
    // Authors are looked up as on Lambda, here on a loopback server.
    let profiles = MockServer::start().await;
    platform_servers::bluesky_profiles(
        &profiles,
        |did| json!({"did": did, "handle": format!("{}.example", &did[8..]), "followersCount": 7}),
    )
    .await;
    let event = home.path().join("schedule.json");
    std::fs::write(&event, r#"{"seconds": 2}"#).unwrap();
    let event = event.to_string_lossy().into_owned();
    let url = server.url.clone();
    let profiles_url = profiles.uri();
    let home_path = home.path().to_owned();
    let run = move || {
        let env = [
            ("EARSHOT_JETSTREAM_ENDPOINTS", url.as_str()),
            ("EARSHOT_BLUESKY_FIREHOSE", "on"),
            (config::BLUESKY_API_BASE_URL_VAR, profiles_url.as_str()),
        ];
        earshot(&home_path, &env, &["invoke", "firehose", &event])
    };

    let summary: Value =
        serde_json::from_str(&tokio::task::spawn_blocking(run).await.unwrap()).unwrap();

    assert_eq!(summary["ended"], "deadline");
    assert_eq!(
        summary["stored"].as_u64(),
        Some(wanted.len() as u64),
        "{summary}"
    );
    // A first run reads live: no cursor in the request.
    assert_eq!(server.cursors(), vec![None]);
    let listed = earshot(home.path(), &[], &["mentions", "--json"]);
    for id in &wanted {
        assert_eq!(
            listed.matches(id.as_str()).count(),
            1,
            "{id} once in {listed}"
        );
    }
    // "did:plc:cust0" became "cust0.example".
    assert!(listed.contains("cust0.example"), "{listed}");
}
