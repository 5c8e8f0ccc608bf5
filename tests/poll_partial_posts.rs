//! No loss in polling: a post the parser cannot fully read (no author, no
//! time) is stored with what is known, and the cursor moves only past
//! stored posts. One page per platform, replayed by a local HTTP server in
//! the platform's own format.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use earshot::adapters::Deps;
use earshot::adapters::embedded::EmbeddedStore;
use earshot::config::Secret;
use earshot::domain::Clock;
use earshot::domain::{Mention, MentionId, Platform};
use earshot::domain::{SourceKey, Watch};
use earshot::platforms::http::Http;
use earshot::platforms::{UNKNOWN_AUTHOR, bluesky, mastodon, reddit, x_search};
use earshot::poll::{PollRequest, Poller, SourceReport, SourceStatus};
use earshot::ports::SearchSource;
use earshot::ports::{MentionStore, SourceStore, WatchStore};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BRAND: &str = "Northwind";

fn now() -> DateTime<Utc> {
    "2026-11-24T10:00:00Z".parse().unwrap()
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// What one poll of a one-page source left behind.
struct Polled {
    _home: tempfile::TempDir,
    store: EmbeddedStore,
    report: SourceReport,
}

impl Polled {
    /// Both posts stored, none refused, the run done.
    fn assert_everything_stored(&self) {
        assert_eq!(self.report.status, SourceStatus::Done, "{:?}", self.report);
        assert_eq!(self.report.stored, 2, "{:?}", self.report);
        assert_eq!(self.report.rejected, 0, "{:?}", self.report);
    }

    /// The partly read post, stored with its text and an unknown author.
    async fn partial(&self, id: &str, text: &str) -> Mention {
        let mention = self
            .store
            .get_mention(&MentionId::parse(id).unwrap())
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{id} stored"))
            .mention;
        assert_eq!(mention.author.handle, UNKNOWN_AUTHOR);
        assert_eq!(mention.text, text);
        mention
    }

    /// The cursor moves only past stored posts, and only by what was read.
    async fn assert_cursor(&self, expected: &str) {
        let state = self
            .store
            .source(&SourceKey {
                brand: BRAND.into(),
                platform: self.report.platform,
            })
            .await
            .unwrap()
            .expect("source state saved");
        assert_eq!(state.cursor.as_deref(), Some(expected));
    }
}

/// Serves `page` at `route` and polls `platform` once through `source`.
async fn poll_one_page(
    platform: Platform,
    route: &str,
    page: Value,
    source: impl FnOnce(Http, String) -> Arc<dyn SearchSource>,
) -> Polled {
    let home = tempfile::tempdir().unwrap();
    let (deps, store) = Deps::embedded(home.path(), false, Clock::System).unwrap();
    let watch = Watch::new(
        BRAND,
        "northwind",
        vec![platform],
        Vec::new(),
        now() - Duration::days(30),
    )
    .unwrap();
    store.put_watch(&watch).await.unwrap();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(ResponseTemplate::new(200).set_body_json(page))
        .mount(&server)
        .await;
    let poller = Poller::new(
        &deps,
        store.clone(),
        vec![source(Http::new().unwrap(), server.uri())],
        Clock::Fixed(now()),
    );
    let summary = poller
        .run(
            &PollRequest::default(),
            Instant::now() + StdDuration::from_secs(300),
        )
        .await
        .unwrap();
    Polled {
        _home: home,
        store,
        report: summary.sources.into_iter().next().expect("one source"),
    }
}

#[tokio::test]
async fn an_x_post_without_author_id_is_stored_with_an_unknown_author() {
    let page = json!({
        "data": [
            {"id": "1862000000000000021", "text": "@northwind my bag never arrived"},
            {"id": "1862000000000000020", "text": "@northwind gate changed again", "author_id": "42",
             "created_at": "2026-11-24T09:50:00.000Z"}
        ],
        "includes": {"users": [{"id": "42", "username": "dana"}]},
        "meta": {"newest_id": "1862000000000000021", "oldest_id": "1862000000000000020", "result_count": 2}
    });
    let polled = poll_one_page(Platform::X, "/2/tweets/search/recent", page, |http, uri| {
        Arc::new(x_search::XSearch::new(http, uri, Some(Secret::new("t"))))
    })
    .await;
    polled.assert_everything_stored();
    let partial = polled
        .partial("x:1862000000000000021", "@northwind my bag never arrived")
        .await;
    assert_eq!(
        partial.url,
        "https://x.com/i/web/status/1862000000000000021"
    );
    polled.assert_cursor("1862000000000000021").await;
}

#[tokio::test]
async fn a_bluesky_post_without_author_or_record_time_is_stored_and_moves_no_cursor() {
    let at = now() - Duration::minutes(5);
    let page = json!({"posts": [
        {"uri": "at://did:plc:nameless/app.bsky.feed.post/3lbpartial",
         "record": {"text": "northwind lost my stroller"}},
        {"uri": "at://did:plc:dana/app.bsky.feed.post/3lbwhole",
         "author": {"did": "did:plc:dana", "handle": "dana.example"},
         "record": {"text": "northwind gate changed again", "createdAt": stamp(at)},
         "indexedAt": stamp(at)}
    ]});
    let polled = poll_one_page(
        Platform::Bluesky,
        "/xrpc/app.bsky.feed.searchPosts",
        page,
        |http, uri| Arc::new(bluesky::BlueskySearch::new(http, uri)),
    )
    .await;
    polled.assert_everything_stored();
    let partial = polled
        .partial(
            "bluesky:did:plc:nameless/3lbpartial",
            "northwind lost my stroller",
        )
        .await;
    assert_eq!(
        partial.author.id, "did:plc:nameless",
        "the DID is in the uri"
    );
    // Only a readable time sets the cursor.
    polled.assert_cursor(&stamp(at)).await;
}

#[tokio::test]
async fn a_mastodon_status_without_account_or_time_is_stored_with_an_unknown_author() {
    let at = now() - Duration::minutes(5);
    let page = json!({"statuses": [
        {"id": "113000000000000021",
         "uri": "https://social.example/users/someone/statuses/113000000000000021",
         "content": "<p>northwind lost my stroller</p>", "account": null},
        {"id": "113000000000000020",
         "uri": "https://social.example/users/dana/statuses/113000000000000020",
         "created_at": stamp(at), "content": "<p>northwind gate changed again</p>",
         "account": {"id": "77", "acct": "dana"}}
    ]});
    let polled = poll_one_page(Platform::Mastodon, "/api/v2/search", page, |http, uri| {
        Arc::new(mastodon::MastodonSearch::new(http, uri, None))
    })
    .await;
    polled.assert_everything_stored();
    let partial = polled
        .partial(
            "mastodon:social.example/users/someone/statuses/113000000000000021",
            "northwind lost my stroller",
        )
        .await;
    assert_eq!(partial.created_at, now(), "read at the poll's time");
    polled.assert_cursor("113000000000000021").await;
}

#[tokio::test]
async fn a_reddit_post_without_author_permalink_or_time_is_stored_and_moves_no_cursor() {
    let at = now() - Duration::minutes(5);
    let page = json!({"kind": "Listing", "data": {"after": null, "children": [
        {"kind": "t3", "data": {"name": "t3_partial", "title": "Northwind lost my stroller"}},
        {"kind": "t3", "data": {"name": "t3_whole", "author": "dana", "title": "Northwind gate changed",
                                "permalink": "/r/travel/comments/whole/northwind/",
                                "created_utc": at.timestamp() as f64}}
    ]}});
    let polled = poll_one_page(Platform::Reddit, "/search.json", page, |http, uri| {
        Arc::new(reddit::RedditSearch::new(http, uri))
    })
    .await;
    polled.assert_everything_stored();
    let partial = polled
        .partial("reddit:t3_partial", "Northwind lost my stroller")
        .await;
    assert_eq!(partial.url, "https://www.reddit.com/by_id/t3_partial");
    polled.assert_cursor(&at.timestamp().to_string()).await;
}
