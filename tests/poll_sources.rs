//! Polling each platform against a local HTTP server that answers in the
//! platform's own format: several pages, rate limits, 5xx mid-page,
//! timeouts, the same post on two pages and a run cut off by its deadline.
//! Every test ends by checking that no mention was lost or stored twice.

use crate::platform_servers;
use crate::support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use earshot::adapters::Deps;
use earshot::adapters::embedded::EmbeddedStore;
use earshot::config::Secret;
use earshot::domain::Clock;
use earshot::domain::{Account, Alarm, SourceKey, Watch};
use earshot::domain::{Platform, Voice};
use earshot::platforms::http::Http;
use earshot::platforms::{bluesky, mastodon, reddit, x_search};
use earshot::poll::{PollRequest, PollSummary, Poller, SearchSource, SourceReport, SourceStatus};
use earshot::ports::{MentionStore, SourceStore, WatchStore};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BRAND: &str = "Northwind";

fn now() -> DateTime<Utc> {
    "2026-11-24T10:00:00Z".parse().unwrap()
}

struct Harness {
    _home: tempfile::TempDir,
    store: EmbeddedStore,
    deps: Deps,
}

impl Harness {
    async fn new(platforms: Vec<Platform>) -> Self {
        let home = tempfile::tempdir().unwrap();
        let (deps, store) = Deps::embedded(home.path(), false, Clock::System).unwrap();
        let watch = Watch::new(
            BRAND,
            "northwind",
            platforms,
            vec![
                Account::parse("x:900").unwrap(),
                Account::parse("bluesky:northwind.example").unwrap(),
                Account::parse("mastodon:northwind@social.example").unwrap(),
                Account::parse("reddit:NorthwindAir").unwrap(),
            ],
            now() - Duration::days(30),
        )
        .unwrap();
        store.put_watch(&watch).await.unwrap();
        support::seat_on_call(&store, &[("Sam", support::SAM, 1)]).await;
        Self {
            _home: home,
            store,
            deps,
        }
    }

    /// A harness for one platform whose source an earlier run left at `cursor`.
    async fn at_cursor(platform: Platform, cursor: &str) -> Self {
        let harness = Self::new(vec![platform]).await;
        harness.start_at_cursor(platform, cursor).await;
        harness
    }

    fn poller(&self, sources: Vec<Arc<dyn SearchSource>>, at: DateTime<Utc>) -> Poller {
        Poller::new(&self.deps, self.store.clone(), sources, Clock::Fixed(at))
    }

    async fn poll(&self, sources: Vec<Arc<dyn SearchSource>>, at: DateTime<Utc>) -> PollSummary {
        self.poller(sources, at)
            .run(&PollRequest::default(), far_deadline())
            .await
            .unwrap()
    }

    /// Stored mention ids, each with how many records carry it.
    async fn stored(&self) -> BTreeMap<String, usize> {
        let records = self
            .store
            .recent_mentions(now() - Duration::days(60), now() + Duration::days(60), 1000)
            .await
            .unwrap();
        let mut counts = BTreeMap::new();
        for record in records {
            *counts.entry(record.mention.id.to_string()).or_default() += 1;
        }
        counts
    }

    async fn assert_stored_once(&self, expected: &[&str]) {
        let stored = self.stored().await;
        let wanted: BTreeMap<String, usize> =
            expected.iter().map(|id| ((*id).to_owned(), 1)).collect();
        assert_eq!(stored, wanted, "every mention stored exactly once");
    }

    async fn state(&self, platform: Platform) -> earshot::domain::SourceState {
        self.store
            .source(&SourceKey {
                brand: BRAND.into(),
                platform,
            })
            .await
            .unwrap()
            .expect("source state saved")
    }

    /// Saves a source state whose cursor is `cursor`, as an earlier run would.
    async fn start_at_cursor(&self, platform: Platform, cursor: &str) {
        let mut state = earshot::domain::SourceState::new(SourceKey {
            brand: BRAND.into(),
            platform,
        });
        state.cursor = Some(cursor.into());
        self.store.save_source(&state).await.unwrap();
    }

    /// The stored record of a mention, by its full id (`x:1006`).
    async fn mention(&self, id: &str) -> earshot::domain::MentionRecord {
        self.store
            .get_mention(&earshot::domain::MentionId::parse(id).unwrap())
            .await
            .unwrap()
            .expect("mention stored")
    }

    fn outbox(&self) -> Vec<String> {
        support::outbox_bodies(&self.store)
    }
}

/// The report of one platform's source in a run's summary.
fn report_for(summary: &PollSummary, platform: Platform) -> &SourceReport {
    summary
        .sources
        .iter()
        .find(|s| s.platform == platform)
        .expect("the platform was polled")
}

fn far_deadline() -> Instant {
    Instant::now() + StdDuration::from_secs(300)
}

fn http() -> Http {
    Http::new().unwrap()
}

/// A GET to `route` on the platform's mock server.
fn get(route: &str) -> wiremock::MockBuilder {
    Mock::given(method("GET")).and(path(route))
}

/// `request` must come exactly once; `response` answers it.
async fn answer_once(
    server: &MockServer,
    request: wiremock::MockBuilder,
    response: impl wiremock::Respond + 'static,
) {
    request.respond_with(response).expect(1).mount(server).await;
}

/// An answer carrying `headers`, as a platform reports its rate limit.
fn answer(status: u16, headers: &[(&str, &str)]) -> ResponseTemplate {
    headers
        .iter()
        .fold(ResponseTemplate::new(status), |answer, (name, value)| {
            answer.insert_header(*name, *value)
        })
}

fn x_source(server: &MockServer) -> Arc<dyn SearchSource> {
    Arc::new(x_search::XSearch::new(
        http(),
        server.uri(),
        Some(Secret::new("test-bearer-token")),
    ))
}

// ---------------------------------------------------------------- X

fn x_post(id: &str, author: &str, text: &str) -> Value {
    json!({"id": id, "text": text, "author_id": author, "created_at": "2026-11-24T09:55:00.000Z",
           "edit_history_tweet_ids": [id]})
}

fn x_page(posts: Vec<Value>, newest: &str, next: Option<&str>) -> Value {
    let mut meta = json!({"newest_id": newest, "oldest_id": newest, "result_count": posts.len()});
    if let Some(next) = next {
        meta["next_token"] = json!(next);
    }
    json!({
        "data": posts,
        "includes": {"users": [
            {"id": "42", "username": "dana", "name": "Dana", "public_metrics": {"followers_count": 812}},
            {"id": "43", "username": "lee", "public_metrics": {"followers_count": 12}},
            {"id": "900", "username": "northwind", "public_metrics": {"followers_count": 50000}}
        ]},
        "meta": meta
    })
}

/// A page of X search results whose newest id is its first post's.
fn x_answer(posts: Vec<Value>, next: Option<&str>) -> ResponseTemplate {
    let newest = posts[0]["id"].as_str().expect("post id").to_owned();
    ResponseTemplate::new(200).set_body_json(x_page(posts, &newest, next))
}

fn x_search_mock() -> wiremock::MockBuilder {
    get("/2/tweets/search/recent")
        .and(header("authorization", "Bearer test-bearer-token"))
        .and(query_param("expansions", "author_id"))
        .and(query_param("user.fields", "public_metrics"))
}

/// Two pages with the same since_id; post 1005 is on both.
async fn mount_two_x_pages(server: &MockServer, since: &str) {
    answer_once(
        server,
        x_search_mock()
            .and(query_param("since_id", since))
            .and(query_param_is_missing("next_token")),
        x_answer(
            vec![
                x_post("1007", "42", "@northwind my bag is lost and nobody answers"),
                x_post("1006", "900", "@dana so sorry, DM us your booking"),
                x_post("1005", "43", "@northwind boarding is late again"),
            ],
            Some("page-2"),
        ),
    )
    .await;
    answer_once(
        server,
        x_search_mock()
            .and(query_param("since_id", since))
            .and(query_param("next_token", "page-2")),
        x_answer(
            vec![
                x_post("1005", "43", "@northwind boarding is late again"),
                x_post("1004", "42", "@northwind stuck at the gate"),
            ],
            None,
        ),
    )
    .await;
}

/// A first X page (no `next_token`) holding `post` and pointing at `page-2`.
fn x_first_page(request: wiremock::MockBuilder, post: Value) -> Mock {
    request
        .and(query_param_is_missing("next_token"))
        .respond_with(x_answer(vec![post], Some("page-2")))
}

/// X's `page-2` answers `first_try` once, then a last page holding `post`.
async fn mount_x_page_two_failing_once(
    server: &MockServer,
    first_try: ResponseTemplate,
    post: Value,
) {
    x_search_mock()
        .and(query_param("next_token", "page-2"))
        .respond_with(first_try)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    x_search_mock()
        .and(query_param("next_token", "page-2"))
        .respond_with(x_answer(vec![post], None))
        .mount(server)
        .await;
}

#[tokio::test]
async fn x_pages_keep_since_id_and_the_first_newest_id_becomes_the_cursor() {
    let harness = Harness::at_cursor(Platform::X, "1000").await;
    let server = MockServer::start().await;
    mount_two_x_pages(&server, "1000").await;
    // Once the cursor moved, the next run asks from 1007 and finds nothing.
    answer_once(
        &server,
        x_search_mock().and(query_param("since_id", "1007")),
        ResponseTemplate::new(200).set_body_json(json!({"meta": {"result_count": 0}})),
    )
    .await;

    let summary = harness.poll(vec![x_source(&server)], now()).await;
    let report = &summary.sources[0];
    assert_eq!(report.status, SourceStatus::Done);
    assert_eq!((report.pages, report.stored, report.duplicates), (2, 4, 1));
    assert_eq!(
        harness.state(Platform::X).await.cursor.as_deref(),
        Some("1007")
    );

    harness.poll(vec![x_source(&server)], now()).await;
    harness
        .assert_stored_once(&["x:1004", "x:1005", "x:1006", "x:1007"])
        .await;
    let brand_reply = harness.mention("x:1006").await;
    assert_eq!(brand_reply.mention.voice, Voice::Brand);
    assert_eq!(brand_reply.mention.brand, BRAND);
}

#[tokio::test]
async fn a_5xx_mid_paging_keeps_the_cursor_and_the_next_run_resumes() {
    let harness = Harness::new(vec![Platform::X]).await;
    let server = MockServer::start().await;
    x_first_page(
        x_search_mock().and(query_param_is_missing("since_id")),
        x_post("2002", "42", "@northwind refund please"),
    )
    .expect(1)
    .mount(&server)
    .await;
    // The second page fails once, then works.
    mount_x_page_two_failing_once(
        &server,
        ResponseTemplate::new(503).set_body_string("Service Unavailable"),
        x_post("2001", "43", "@northwind where is my refund"),
    )
    .await;

    let first = harness.poll(vec![x_source(&server)], now()).await;
    assert_eq!(first.sources[0].status, SourceStatus::Failed);
    let state = harness.state(Platform::X).await;
    assert_eq!(state.cursor, None, "the cursor waits for every page");
    assert_eq!(state.consecutive_failures, 1);
    assert_eq!(
        state.resume.as_ref().map(|r| r.page.as_str()),
        Some("page-2")
    );

    let second = harness
        .poll(vec![x_source(&server)], now() + Duration::minutes(1))
        .await;
    assert_eq!(second.sources[0].status, SourceStatus::Done);
    let state = harness.state(Platform::X).await;
    assert_eq!(state.cursor.as_deref(), Some("2002"));
    assert_eq!(state.consecutive_failures, 0);
    harness.assert_stored_once(&["x:2001", "x:2002"]).await;
}

#[tokio::test]
async fn a_rate_limited_source_waits_for_its_reset_while_others_go_on() {
    let harness = Harness::new(vec![Platform::X, Platform::Reddit]).await;
    let server = MockServer::start().await;
    let reset = now() + Duration::minutes(12);
    let reset_header = reset.timestamp().to_string();
    let limited = answer(
        429,
        &[
            ("x-rate-limit-limit", "450"),
            ("x-rate-limit-remaining", "0"),
            ("x-rate-limit-reset", reset_header.as_str()),
        ],
    );
    answer_once(&server, x_search_mock(), limited.set_body_json(json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}))).await;
    mount_one_reddit_post(&server, "t3_r1", 3).await;
    let sources = || vec![x_source(&server), reddit_source(&server)];

    let first = harness.poll(sources(), now()).await;
    let x = report_for(&first, Platform::X);
    assert_eq!(x.status, SourceStatus::Limited);
    assert_eq!(x.not_before, Some(reset));
    assert_eq!(harness.state(Platform::X).await.not_before, Some(reset));
    assert_eq!(harness.state(Platform::X).await.consecutive_failures, 0);

    // Before the reset X is not asked again (the mock expects one call).
    let second = harness.poll(sources(), now() + Duration::minutes(5)).await;
    let x = report_for(&second, Platform::X);
    assert_eq!(x.status, SourceStatus::Limited);
    harness.assert_stored_once(&["reddit:t3_r1"]).await;
}

#[tokio::test]
async fn a_timed_out_page_is_read_again_by_the_next_run() {
    let harness = Harness::new(vec![Platform::X]).await;
    let server = MockServer::start().await;
    x_first_page(
        x_search_mock(),
        x_post("3003", "42", "@northwind cancelled twice"),
    )
    .mount(&server)
    .await;
    // The second page hangs past the time the run has left, once.
    mount_x_page_two_failing_once(
        &server,
        ResponseTemplate::new(200)
            .set_delay(StdDuration::from_secs(30))
            .set_body_json(x_page(vec![], "3002", None)),
        x_post("3002", "43", "@northwind still no answer"),
    )
    .await;

    // Four seconds before the deadline: one second for requests.
    let deadline = Instant::now() + StdDuration::from_secs(4);
    let first = harness
        .poller(vec![x_source(&server)], now())
        .run(&PollRequest::default(), deadline)
        .await
        .unwrap();
    assert_ne!(first.sources[0].status, SourceStatus::Done);
    assert_eq!(harness.state(Platform::X).await.cursor, None);

    harness.poll(vec![x_source(&server)], now()).await;
    assert_eq!(
        harness.state(Platform::X).await.cursor.as_deref(),
        Some("3003")
    );
    harness.assert_stored_once(&["x:3002", "x:3003"]).await;
}

#[tokio::test]
async fn a_run_at_its_deadline_starts_nothing_and_loses_nothing() {
    let harness = Harness::at_cursor(Platform::X, "1000").await;
    let server = MockServer::start().await;
    mount_two_x_pages(&server, "1000").await;

    let cut = harness
        .poller(vec![x_source(&server)], now())
        .run(&PollRequest::default(), Instant::now())
        .await
        .unwrap();
    assert!(cut.cut_short);
    assert_eq!(cut.sources[0].status, SourceStatus::Deferred);
    assert!(harness.stored().await.is_empty());

    harness.poll(vec![x_source(&server)], now()).await;
    harness
        .assert_stored_once(&["x:1004", "x:1005", "x:1006", "x:1007"])
        .await;
}

#[tokio::test]
async fn a_failing_source_texts_once_and_again_when_it_recovers() {
    let harness = Harness::new(vec![Platform::X]).await;
    let server = MockServer::start().await;
    x_search_mock()
        .respond_with(ResponseTemplate::new(503).set_body_string("over capacity"))
        .up_to_n_times(6)
        .with_priority(1)
        .mount(&server)
        .await;
    x_search_mock()
        .respond_with(x_answer(
            vec![x_post("4001", "42", "@northwind hello")],
            None,
        ))
        .mount(&server)
        .await;

    for minute in 0..4 {
        harness
            .poll(vec![x_source(&server)], now() + Duration::minutes(minute))
            .await;
    }
    assert!(
        harness.outbox().is_empty(),
        "four failures are not an alarm"
    );
    let fifth = harness
        .poll(vec![x_source(&server)], now() + Duration::minutes(4))
        .await;
    assert_eq!(fifth.health_sms, 1);
    harness
        .poll(vec![x_source(&server)], now() + Duration::minutes(5))
        .await;
    let texts = harness.outbox();
    assert_eq!(texts.len(), 1, "one SMS per alarm, not one per run");
    assert!(
        texts[0].contains("x search for Northwind has failed 5 times"),
        "{}",
        texts[0]
    );
    assert_eq!(harness.state(Platform::X).await.alarm, Some(Alarm::Failing));

    let recovered = harness
        .poll(vec![x_source(&server)], now() + Duration::minutes(6))
        .await;
    assert_eq!(recovered.health_sms, 1);
    let texts = harness.outbox();
    assert_eq!(texts.len(), 2);
    assert!(texts[1].contains("working again"), "{}", texts[1]);
    assert_eq!(harness.state(Platform::X).await.alarm, None);
    harness.assert_stored_once(&["x:4001"]).await;
}

#[tokio::test]
async fn a_platform_without_its_token_fails_alone() {
    let harness = Harness::new(vec![Platform::X, Platform::Reddit]).await;
    let server = MockServer::start().await;
    mount_one_reddit_post(&server, "t3_r9", 1).await;
    let summary = harness
        .poll(
            vec![
                Arc::new(x_search::XSearch::new(http(), server.uri(), None)),
                reddit_source(&server),
            ],
            now(),
        )
        .await;
    let x = report_for(&summary, Platform::X);
    assert_eq!(x.status, SourceStatus::Failed);
    assert!(x.error.as_deref().unwrap().contains("X_BEARER_TOKEN"));
    harness.assert_stored_once(&["reddit:t3_r9"]).await;
}

// ---------------------------------------------------------------- Bluesky

fn bsky_post(rkey: &str, did: &str, handle: &str, at: DateTime<Utc>) -> Value {
    let stamp = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    json!({
        "uri": format!("at://{did}/app.bsky.feed.post/{rkey}"),
        "cid": format!("bafyrei{rkey}"),
        "author": {"did": did, "handle": handle, "displayName": "", "labels": []},
        "record": {"$type": "app.bsky.feed.post", "text": format!("northwind app down again ({rkey})"),
                   "createdAt": stamp, "langs": ["en"]},
        "replyCount": 0, "repostCount": 0, "likeCount": 1, "quoteCount": 0,
        "indexedAt": stamp, "labels": []
    })
}

#[tokio::test]
async fn bluesky_pages_by_cursor_and_batches_follower_lookups() {
    let harness = Harness::new(vec![Platform::Bluesky]).await;
    let server = MockServer::start().await;
    // 30 authors over two pages; one post appears on both pages.
    let posts: Vec<Value> = (0..30)
        .map(|i| {
            bsky_post(
                &format!("3lb{i:03}"),
                &format!("did:plc:author{i:03}"),
                &format!("author{i}.example"),
                now() - Duration::minutes(i),
            )
        })
        .collect();
    answer_once(
        &server,
        get("/xrpc/app.bsky.feed.searchPosts")
            .and(query_param("sort", "latest"))
            .and(query_param_is_missing("cursor")),
        ResponseTemplate::new(200)
            .set_body_json(json!({"posts": posts[..16].to_vec(), "cursor": "page-2"})),
    )
    .await;
    answer_once(
        &server,
        get("/xrpc/app.bsky.feed.searchPosts").and(query_param("cursor", "page-2")),
        ResponseTemplate::new(200).set_body_json(json!({"posts": posts[15..].to_vec()})),
    )
    .await;
    platform_servers::bluesky_profiles(
        &server,
        |did| json!({"did": did, "handle": "h.example", "followersCount": 321}),
    )
    .await;
    let source: Arc<dyn SearchSource> = Arc::new(bluesky::BlueskySearch::new(http(), server.uri()));

    let summary = harness.poll(vec![source], now()).await;
    assert_eq!(summary.sources[0].status, SourceStatus::Done);
    assert_eq!(summary.sources[0].duplicates, 1);
    let expected: Vec<String> = (0..30)
        .map(|i| format!("bluesky:did:plc:author{i:03}/3lb{i:03}"))
        .collect();
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    harness.assert_stored_once(&expected).await;
    let one = harness.mention(expected[29]).await;
    assert_eq!(one.mention.author.followers, Some(321));
    let profile_calls = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|request| request.url.path() == "/xrpc/app.bsky.actor.getProfiles")
        .count();
    assert_eq!(profile_calls, 2, "30 authors: 25 + 5");
    assert_eq!(
        harness.state(Platform::Bluesky).await.cursor.as_deref(),
        Some("2026-11-24T10:00:00.000Z")
    );
}

#[tokio::test]
async fn bluesky_asks_from_the_cursor_less_the_overlap() {
    let harness = Harness::at_cursor(Platform::Bluesky, "2026-11-24T09:30:00.000Z").await;
    let server = MockServer::start().await;
    answer_once(
        &server,
        get("/xrpc/app.bsky.feed.searchPosts")
            .and(query_param("since", "2026-11-24T09:25:00.000Z")),
        ResponseTemplate::new(200).set_body_json(json!({"posts": [
            bsky_post("3lbnew", "did:plc:zoe", "zoe.example", now() - Duration::minutes(1))
        ]})),
    )
    .await;
    get("/xrpc/app.bsky.actor.getProfiles")
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let source: Arc<dyn SearchSource> = Arc::new(bluesky::BlueskySearch::new(http(), server.uri()));
    let summary = harness.poll(vec![source], now()).await;
    assert_eq!(
        summary.sources[0].status,
        SourceStatus::Done,
        "profiles are best effort"
    );
    harness
        .assert_stored_once(&["bluesky:did:plc:zoe/3lbnew"])
        .await;
}

// ---------------------------------------------------------------- Mastodon

fn status(id: &str, acct: &str, html: &str, at: DateTime<Utc>) -> Value {
    json!({
        "id": id,
        "created_at": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "in_reply_to_id": null, "sensitive": false, "spoiler_text": "", "visibility": "public",
        "language": "en",
        "uri": format!("https://social.example/users/{acct}/statuses/{id}"),
        "url": format!("https://social.example/@{acct}/{id}"),
        "content": html,
        "reblog": null,
        "account": {"id": format!("9{id}"), "username": acct, "acct": acct, "display_name": acct,
                    "followers_count": 77},
        "mentions": [], "tags": [{"name": "northwind", "url": "https://social.example/tags/northwind"}]
    })
}

#[tokio::test]
async fn mastodon_hashtag_timelines_follow_the_link_header_and_honour_the_reset() {
    let harness = Harness::new(vec![Platform::Mastodon]).await;
    let mut watch = harness.store.watch(BRAND).await.unwrap().unwrap();
    watch.query = "#northwind".into();
    harness.store.put_watch(&watch).await.unwrap();
    let server = MockServer::start().await;
    let first: Vec<Value> = (0..40)
        .map(|i| {
            status(
                &format!("1135000000000001{:02}", 99 - i),
                "traveller",
                "<p>Stuck at <a href=\"https://social.example/tags/northwind\" class=\"mention hashtag\">#<span>northwind</span></a> gate &amp; no staff</p>",
                now() - Duration::minutes(i),
            )
        })
        .collect();
    let next_link = format!(
        "<{}/api/v1/timelines/tag/northwind?max_id=113500000000000160>; rel=\"next\", <{}/api/v1/timelines/tag/northwind?min_id=113500000000000199>; rel=\"prev\"",
        server.uri(),
        server.uri()
    );
    let reset = "2026-11-24T10:05:00.000000Z";
    answer_once(
        &server,
        get("/api/v1/timelines/tag/northwind").and(query_param_is_missing("max_id")),
        answer(
            200,
            &[
                ("link", next_link.as_str()),
                ("x-ratelimit-limit", "300"),
                ("x-ratelimit-remaining", "299"),
            ],
        )
        .set_body_json(Value::Array(first)),
    )
    .await;
    answer_once(
        &server,
        get("/api/v1/timelines/tag/northwind").and(query_param("max_id", "113500000000000160")),
        answer(
            200,
            &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", reset)],
        )
        .set_body_json(json!([
            status(
                "113500000000000160",
                "traveller",
                "<p>dup</p>",
                now() - Duration::minutes(39)
            ),
            status(
                "113500000000000150",
                "northwind",
                "<p>We are sorry</p>",
                now() - Duration::minutes(41)
            )
        ])),
    )
    .await;
    let source: Arc<dyn SearchSource> =
        Arc::new(mastodon::MastodonSearch::new(http(), server.uri(), None));

    let summary = harness.poll(vec![source.clone()], now()).await;
    let report = &summary.sources[0];
    assert_eq!(report.status, SourceStatus::Limited);
    assert_eq!((report.stored, report.duplicates), (41, 1));
    let state = harness.state(Platform::Mastodon).await;
    assert_eq!(state.cursor.as_deref(), Some("113500000000000199"));
    assert_eq!(state.not_before, Some(reset.parse().unwrap()));
    assert_eq!(harness.stored().await.len(), 41);
    assert!(harness.stored().await.values().all(|count| *count == 1));

    let sample = harness
        .mention("mastodon:social.example/users/traveller/statuses/113500000000000199")
        .await;
    assert_eq!(sample.mention.text, "Stuck at #northwind gate & no staff");
    assert_eq!(sample.mention.author.followers, Some(77));
    let brand = harness
        .mention("mastodon:social.example/users/northwind/statuses/113500000000000150")
        .await;
    assert_eq!(
        brand.mention.voice,
        Voice::Customer,
        "a different server's northwind"
    );

    // Before the reset the server is not asked again.
    let waiting = harness
        .poll(vec![source], now() + Duration::minutes(2))
        .await;
    assert_eq!(waiting.sources[0].status, SourceStatus::Limited);
}

#[tokio::test]
async fn mastodon_search_sends_the_token_and_the_cursor_as_min_id() {
    let harness = Harness::at_cursor(Platform::Mastodon, "113500000000000100").await;
    let server = MockServer::start().await;
    answer_once(
        &server,
        get("/api/v2/search")
            .and(query_param("type", "statuses"))
            .and(query_param("min_id", "113500000000000100"))
            .and(header("authorization", "Bearer test-mastodon-token")),
        ResponseTemplate::new(200).set_body_json(json!({
            "accounts": [], "hashtags": [],
            "statuses": [status("113500000000000101", "jo", "<p>northwind lost my bag</p>", now())]
        })),
    )
    .await;
    let source: Arc<dyn SearchSource> = Arc::new(mastodon::MastodonSearch::new(
        http(),
        server.uri(),
        Some(Secret::new("test-mastodon-token")),
    ));
    harness.poll(vec![source], now()).await;
    assert_eq!(
        harness.state(Platform::Mastodon).await.cursor.as_deref(),
        Some("113500000000000101")
    );
    harness
        .assert_stored_once(&["mastodon:social.example/users/jo/statuses/113500000000000101"])
        .await;
}

// ---------------------------------------------------------------- Reddit

fn reddit_listing(posts: &[(&str, &str, DateTime<Utc>)], after: Option<&str>) -> Value {
    let children: Vec<Value> = posts
        .iter()
        .map(|(name, author, at)| {
            let id = name.trim_start_matches("t3_");
            json!({"kind": "t3", "data": {
                "id": id, "name": name, "author": author, "author_fullname": format!("t2_{author}"),
                "title": format!("Northwind cancelled my flight ({id})"), "selftext": "",
                "subreddit": "travel", "permalink": format!("/r/travel/comments/{id}/northwind/"),
                "url": format!("https://www.reddit.com/r/travel/comments/{id}/northwind/"),
                "created_utc": at.timestamp() as f64, "num_comments": 0, "score": 1
            }})
        })
        .collect();
    json!({"kind": "Listing", "data": {"after": after, "before": null, "dist": children.len(), "modhash": "", "children": children}})
}

fn reddit_source(server: &MockServer) -> Arc<dyn SearchSource> {
    Arc::new(reddit::RedditSearch::new(http(), server.uri()))
}

/// Reddit's search answers one post by `traveller`, `minutes_ago` old.
async fn mount_one_reddit_post(server: &MockServer, name: &str, minutes_ago: i64) {
    get("/search.json")
        .respond_with(ResponseTemplate::new(200).set_body_json(reddit_listing(
            &[(name, "traveller", now() - Duration::minutes(minutes_ago))],
            None,
        )))
        .mount(server)
        .await;
}

#[tokio::test]
async fn reddit_pages_with_after_and_honours_seconds_until_reset() {
    let harness = Harness::new(vec![Platform::Reddit]).await;
    let server = MockServer::start().await;
    get("/search.json")
        .and(query_param("sort", "new"))
        .and(query_param_is_missing("after"))
        .respond_with(
            answer(
                200,
                &[
                    ("x-ratelimit-used", "3"),
                    ("x-ratelimit-remaining", "597.0"),
                    ("x-ratelimit-reset", "412"),
                ],
            )
            .set_body_json(reddit_listing(
                &[
                    ("t3_c", "ana", now() - Duration::minutes(1)),
                    ("t3_b", "NorthwindAir", now() - Duration::minutes(2)),
                ],
                Some("t3_b"),
            )),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    get("/search.json")
        .and(query_param("after", "t3_b"))
        .respond_with(answer(
            429,
            &[
                ("x-ratelimit-remaining", "0.0"),
                ("x-ratelimit-reset", "95"),
            ],
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    get("/search.json")
        .and(query_param("after", "t3_b"))
        .respond_with(ResponseTemplate::new(200).set_body_json(reddit_listing(
            &[
                ("t3_b", "NorthwindAir", now() - Duration::minutes(2)),
                ("t3_a", "ben", now() - Duration::minutes(3)),
            ],
            None,
        )))
        .mount(&server)
        .await;
    let source = || reddit_source(&server);

    let first = harness.poll(vec![source()], now()).await;
    assert_eq!(first.sources[0].status, SourceStatus::Limited);
    let state = harness.state(Platform::Reddit).await;
    assert_eq!(state.not_before, Some(now() + Duration::seconds(95)));
    assert_eq!(state.cursor, None, "page two is not stored yet");

    let second = harness
        .poll(vec![source()], now() + Duration::seconds(96))
        .await;
    assert_eq!(second.sources[0].status, SourceStatus::Done);
    assert_eq!(
        harness.state(Platform::Reddit).await.cursor,
        Some((now() - Duration::minutes(1)).timestamp().to_string())
    );
    harness
        .assert_stored_once(&["reddit:t3_a", "reddit:t3_b", "reddit:t3_c"])
        .await;
    let brand = harness.mention("reddit:t3_b").await;
    assert_eq!(brand.mention.voice, Voice::Brand);
}
