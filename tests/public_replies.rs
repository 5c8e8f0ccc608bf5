//! Each platform's reply route against a loopback server answering in the
//! platform's own format: success, a refused token (not retried), a rate
//! limit and a server error (each tried once more), and duplicates.

use chrono::{DateTime, Utc};
use earshot::config::Secret;
use earshot::domain::{Author, Mention, MentionId, Platform, Voice};
use earshot::platforms::reply::{PlatformReplies, ReplyCredentials, ReplyEndpoints, ReplyHttp};
use earshot::ports::{PostedReply, PublicReplies, PublishError, Published};
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn at() -> DateTime<Utc> {
    "2026-12-05T22:00:00Z".parse().unwrap()
}

fn post(platform: Platform, native_id: &str, handle: &str) -> Mention {
    Mention {
        id: MentionId::new(platform, native_id),
        platform,
        url: format!("https://example.invalid/{native_id}"),
        author: Author {
            id: "42".into(),
            handle: handle.into(),
            display_name: Some("Dana K".into()),
            followers: Some(120),
        },
        text: "Stuck at the gate for three hours".into(),
        created_at: at(),
        received_at: at(),
        in_reply_to: None,
        quotes: None,
        brand: "Northwind".into(),
        voice: Voice::Customer,
    }
}

/// Every client pointed at `server`, with every credential set.
fn replies(server: &MockServer) -> PlatformReplies {
    let base = server.uri();
    PlatformReplies::new(
        ReplyHttp::new().unwrap(),
        ReplyEndpoints {
            x: base.clone(),
            bluesky_pds: base.clone(),
            mastodon: base.clone(),
            meta_graph: format!("{base}/v21.0"),
        },
        ReplyCredentials {
            x_token: Some(Secret::new("x-user-token")),
            bluesky: Some(("northwind.example".into(), Secret::new("app-pass-word"))),
            mastodon_token: Some(Secret::new("masto-token")),
            meta_token: Some(Secret::new("page-token")),
        },
    )
}

/// Answers the first POST to `route` with `status` and `body`, before any
/// other mock on the route.
async fn fails_once(server: &MockServer, route: &str, status: u16, body: Value) {
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
}

async fn then_answers(server: &MockServer, verb: &str, route: &str, status: u16, body: Value) {
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(server)
        .await;
}

/// The brand's usual holding reply to `to`, through `server`.
async fn reply_to(server: &MockServer, to: &Mention) -> Result<Published, PublishError> {
    replies(server).reply(to, "We're on it", "k1").await
}

/// `client` replies "We're on it" to `to` with idempotency key `key`; the
/// platform must take it as `platform_id`, public at `url`.
async fn assert_posted_as(
    client: &PlatformReplies,
    to: &Mention,
    key: &str,
    platform_id: &str,
    url: &str,
) {
    let published = client.reply(to, "We're on it", key).await.unwrap();
    let expected = Published::Posted(PostedReply {
        platform_id: Some(platform_id.into()),
        url: Some(url.into()),
    });
    assert_eq!(published, expected);
}

fn assert_rate_limited(err: &PublishError, on: Platform) {
    assert!(
        matches!(err, PublishError::RateLimited { platform, .. } if *platform == on),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

async fn requests_to(server: &MockServer, route: &str) -> Vec<wiremock::Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == route)
        .collect()
}

// ---------------------------------------------------------------- X

const X_ROUTE: &str = "/2/tweets";

fn x_created() -> Value {
    json!({"data": {"id": "1864771234567890123", "text": "We're on it", "edit_history_tweet_ids": ["1864771234567890123"]}})
}

fn x_problem(status: u16, title: &str, detail: &str) -> Value {
    json!({"title": title, "detail": detail, "type": "about:blank", "status": status})
}

#[tokio::test]
async fn x_reply_names_the_post_it_answers_and_returns_its_link() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(X_ROUTE))
        .and(header("authorization", "Bearer x-user-token"))
        .respond_with(ResponseTemplate::new(201).set_body_json(x_created()))
        .expect(1)
        .mount(&server)
        .await;
    assert_posted_as(
        &replies(&server),
        &post(Platform::X, "1864770000000000001", "dana_k"),
        "k1",
        "1864771234567890123",
        "https://x.com/i/web/status/1864771234567890123",
    )
    .await;
    let sent: Value = requests_to(&server, X_ROUTE).await[0].body_json().unwrap();
    assert_eq!(
        sent,
        json!({"text": "We're on it", "reply": {"in_reply_to_tweet_id": "1864770000000000001"}})
    );
}

#[tokio::test]
async fn x_duplicate_content_counts_as_already_posted() {
    let server = MockServer::start().await;
    let detail = "You are not allowed to create a Tweet with duplicate content.";
    then_answers(
        &server,
        "POST",
        X_ROUTE,
        403,
        x_problem(403, "Forbidden", detail),
    )
    .await;
    let published = reply_to(&server, &post(Platform::X, "1", "dana_k"))
        .await
        .unwrap();
    assert_eq!(published, Published::AlreadyThere);
    assert_eq!(requests_to(&server, X_ROUTE).await.len(), 1);
}

// ---------------------------------------------------------------- Bluesky

const BSKY_LOGIN: &str = "/xrpc/com.atproto.server.createSession";
const BSKY_REFRESH: &str = "/xrpc/com.atproto.server.refreshSession";
const BSKY_POSTS: &str = "/xrpc/app.bsky.feed.getPosts";
const BSKY_CREATE: &str = "/xrpc/com.atproto.repo.createRecord";
const BRAND_DID: &str = "did:plc:northwind7q2";

fn bsky_session(access: &str) -> Value {
    json!({
        "accessJwt": access, "refreshJwt": format!("refresh-{access}"),
        "handle": "northwind.example", "did": BRAND_DID, "active": true
    })
}

/// The customer's post, itself a reply in a thread the brand started.
fn bsky_posts() -> Value {
    json!({"posts": [{
        "uri": "at://did:plc:cust1/app.bsky.feed.post/3lcust", "cid": "bafyparent",
        "author": {"did": "did:plc:cust1", "handle": "dana.example"},
        "record": {
            "$type": "app.bsky.feed.post", "text": "Stuck at the gate", "createdAt": "2026-12-05T21:59:00.000Z",
            "reply": {
                "root": {"uri": "at://did:plc:northwind7q2/app.bsky.feed.post/3lroot", "cid": "bafyroot"},
                "parent": {"uri": "at://did:plc:northwind7q2/app.bsky.feed.post/3lroot", "cid": "bafyroot"}
            }
        },
        "replyCount": 0, "repostCount": 0, "likeCount": 0, "indexedAt": "2026-12-05T21:59:01.000Z"
    }]})
}

fn bsky_created() -> Value {
    json!({
        "uri": "at://did:plc:northwind7q2/app.bsky.feed.post/3lreply", "cid": "bafyreply",
        "commit": {"cid": "bafycommit", "rev": "3lrev"}, "validationStatus": "valid"
    })
}

fn bsky_error(error: &str, message: &str) -> Value {
    json!({"error": error, "message": message})
}

async fn bluesky_thread(server: &MockServer) {
    then_answers(server, "POST", BSKY_LOGIN, 200, bsky_session("access-1")).await;
    then_answers(server, "GET", BSKY_POSTS, 200, bsky_posts()).await;
}

fn bsky_post() -> Mention {
    post(Platform::Bluesky, "did:plc:cust1/3lcust", "dana.example")
}

#[tokio::test]
async fn bluesky_reply_keeps_the_threads_root_and_the_session() {
    let server = MockServer::start().await;
    bluesky_thread(&server).await;
    Mock::given(method("GET"))
        .and(path(BSKY_POSTS))
        .and(query_param(
            "uris",
            "at://did:plc:cust1/app.bsky.feed.post/3lcust",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(bsky_posts()))
        .with_priority(1)
        .mount(&server)
        .await;
    then_answers(&server, "POST", BSKY_CREATE, 200, bsky_created()).await;
    let client = replies(&server);
    assert_posted_as(
        &client,
        &bsky_post(),
        "k1",
        "at://did:plc:northwind7q2/app.bsky.feed.post/3lreply",
        "https://bsky.app/profile/did:plc:northwind7q2/post/3lreply",
    )
    .await;
    let created = &requests_to(&server, BSKY_CREATE).await[0];
    assert_eq!(
        created.headers.get("authorization").unwrap(),
        "Bearer access-1"
    );
    let body: Value = created.body_json().unwrap();
    assert_eq!(body["repo"], BRAND_DID);
    assert_eq!(body["collection"], "app.bsky.feed.post");
    assert_eq!(body["record"]["text"], "We're on it");
    assert_eq!(
        body["record"]["reply"]["root"],
        json!({"uri": "at://did:plc:northwind7q2/app.bsky.feed.post/3lroot", "cid": "bafyroot"})
    );
    assert_eq!(
        body["record"]["reply"]["parent"],
        json!({"uri": "at://did:plc:cust1/app.bsky.feed.post/3lcust", "cid": "bafyparent"})
    );
    let login: Value = requests_to(&server, BSKY_LOGIN).await[0]
        .body_json()
        .unwrap();
    assert_eq!(
        login,
        json!({"identifier": "northwind.example", "password": "app-pass-word"})
    );

    client
        .reply(&bsky_post(), "Still on it", "k2")
        .await
        .unwrap();
    assert_eq!(
        requests_to(&server, BSKY_LOGIN).await.len(),
        1,
        "the session is reused"
    );
}

/// A Bluesky thread whose first post attempt is refused for an expired token.
async fn bluesky_with_expired_token() -> MockServer {
    let server = MockServer::start().await;
    bluesky_thread(&server).await;
    let refusal = bsky_error("ExpiredToken", "Token has expired");
    fails_once(&server, BSKY_CREATE, 400, refusal).await;
    server
}

#[tokio::test]
async fn bluesky_expired_token_is_refreshed_once_and_the_reply_posted() {
    let server = bluesky_with_expired_token().await;
    then_answers(&server, "POST", BSKY_REFRESH, 200, bsky_session("access-2")).await;
    then_answers(&server, "POST", BSKY_CREATE, 200, bsky_created()).await;
    let published = reply_to(&server, &bsky_post()).await.unwrap();
    assert!(matches!(published, Published::Posted(_)));
    let refresh = &requests_to(&server, BSKY_REFRESH).await[0];
    assert_eq!(
        refresh.headers.get("authorization").unwrap(),
        "Bearer refresh-access-1"
    );
    let creates = requests_to(&server, BSKY_CREATE).await;
    assert_eq!(creates.len(), 2);
    assert_eq!(
        creates[1].headers.get("authorization").unwrap(),
        "Bearer access-2"
    );
}

#[tokio::test]
async fn bluesky_refused_refresh_logs_in_again() {
    let server = bluesky_with_expired_token().await;
    then_answers(
        &server,
        "POST",
        BSKY_REFRESH,
        400,
        bsky_error("ExpiredToken", "Token has been revoked"),
    )
    .await;
    then_answers(&server, "POST", BSKY_CREATE, 200, bsky_created()).await;
    let published = reply_to(&server, &bsky_post()).await.unwrap();
    assert!(matches!(published, Published::Posted(_)));
    assert_eq!(requests_to(&server, BSKY_LOGIN).await.len(), 2);
}

#[tokio::test]
async fn bluesky_wrong_app_password_is_a_token_error_not_retried() {
    let server = MockServer::start().await;
    then_answers(
        &server,
        "POST",
        BSKY_LOGIN,
        401,
        bsky_error("AuthenticationRequired", "Invalid identifier or password"),
    )
    .await;
    let err = reply_to(&server, &bsky_post()).await.unwrap_err();
    assert!(
        matches!(err, PublishError::Token { status: 401, .. }),
        "{err:?}"
    );
    assert_eq!(requests_to(&server, BSKY_LOGIN).await.len(), 1);
    assert!(requests_to(&server, BSKY_CREATE).await.is_empty());
}

// ---------------------------------------------------------------- Mastodon

const MASTO_ROUTE: &str = "/api/v1/statuses";
const MASTO_SEARCH: &str = "/api/v2/search";

fn masto_status(id: &str) -> Value {
    json!({
        "id": id, "created_at": "2026-12-05T22:00:01.000Z", "in_reply_to_id": "113000000000000001",
        "visibility": "public", "uri": format!("https://social.example/users/northwind/statuses/{id}"),
        "url": format!("https://social.example/@northwind/{id}"), "content": "<p>We're on it</p>",
        "account": {"id": "1", "username": "northwind", "acct": "northwind"}
    })
}

/// A post from another server, as the brand's server finds it.
fn masto_remote_post() -> Mention {
    post(
        Platform::Mastodon,
        "other.example/users/dana/statuses/555",
        "dana@other.example",
    )
}

/// A post on the brand's own server (the one `server` plays).
fn masto_local_post(server: &MockServer) -> Mention {
    let host = server.uri().trim_start_matches("http://").to_owned();
    post(
        Platform::Mastodon,
        &format!("{host}/users/dana/statuses/4242"),
        "dana",
    )
}

#[tokio::test]
async fn mastodon_reply_resolves_a_remote_post_mentions_its_author_and_sends_a_key() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MASTO_SEARCH))
        .and(query_param(
            "q",
            "https://other.example/users/dana/statuses/555",
        ))
        .and(query_param("resolve", "true"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "accounts": [], "hashtags": [], "statuses": [masto_status("113000000000000001")]
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(MASTO_ROUTE))
        .and(header("idempotency-key", "reply-abc-1"))
        .and(header("authorization", "Bearer masto-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(masto_status("113000000000000777")))
        .expect(1)
        .mount(&server)
        .await;
    assert_posted_as(
        &replies(&server),
        &masto_remote_post(),
        "reply-abc-1",
        "https://social.example/users/northwind/statuses/113000000000000777",
        "https://social.example/@northwind/113000000000000777",
    )
    .await;
    let sent: Value = requests_to(&server, MASTO_ROUTE).await[0]
        .body_json()
        .unwrap();
    assert_eq!(sent["in_reply_to_id"], "113000000000000001");
    assert_eq!(sent["status"], "@dana@other.example We're on it");
    assert_eq!(sent["visibility"], "public");
}

#[tokio::test]
async fn mastodon_posts_on_its_own_server_need_no_search() {
    let server = MockServer::start().await;
    then_answers(&server, "POST", MASTO_ROUTE, 200, masto_status("9")).await;
    let local = masto_local_post(&server);
    reply_to(&server, &local).await.unwrap();
    assert!(requests_to(&server, MASTO_SEARCH).await.is_empty());
    let sent: Value = requests_to(&server, MASTO_ROUTE).await[0]
        .body_json()
        .unwrap();
    assert_eq!(sent["in_reply_to_id"], "4242");
}

#[tokio::test]
async fn mastodon_invalid_token_is_not_retried() {
    let server = MockServer::start().await;
    let local = masto_local_post(&server);
    then_answers(
        &server,
        "POST",
        MASTO_ROUTE,
        401,
        json!({"error": "The access token is invalid"}),
    )
    .await;
    let err = reply_to(&server, &local).await.unwrap_err();
    assert_eq!(
        err,
        PublishError::Token {
            platform: Platform::Mastodon,
            status: 401,
            detail: "The access token is invalid".into()
        }
    );
    assert_eq!(requests_to(&server, MASTO_ROUTE).await.len(), 1);
}

#[tokio::test]
async fn mastodon_server_errors_retry_with_the_same_key() {
    let server = MockServer::start().await;
    let local = masto_local_post(&server);
    let refusal = json!({"error": "Service Unavailable"});
    fails_once(&server, MASTO_ROUTE, 503, refusal).await;
    then_answers(&server, "POST", MASTO_ROUTE, 200, masto_status("9")).await;
    let published = replies(&server)
        .reply(&local, "We're on it", "same-key")
        .await
        .unwrap();
    assert!(matches!(published, Published::Posted(_)));
    let attempts = requests_to(&server, MASTO_ROUTE).await;
    assert_eq!(attempts.len(), 2);
    assert!(
        attempts
            .iter()
            .all(|r| r.headers.get("idempotency-key").unwrap() == "same-key")
    );
}

// ---------------------------------------------------------------- Meta

const FB_ROUTE: &str = "/v21.0/1234567890_987654321/comments";
const IG_ROUTE: &str = "/v21.0/17865799348089039/replies";

fn graph_error(message: &str, kind: &str, code: u64) -> Value {
    json!({"error": {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEf123"}})
}

fn facebook_comment() -> Mention {
    post(Platform::Facebook, "1234567890_987654321", "Dana K")
}

fn instagram_comment() -> Mention {
    post(Platform::Instagram, "17865799348089039", "dana.k")
}

#[tokio::test]
async fn facebook_and_instagram_comments_are_answered_on_their_own_edges() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(FB_ROUTE))
        .and(body_string_contains("message=We%27re+on+it"))
        .and(header("authorization", "Bearer page-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "987654321_111"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(IG_ROUTE))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "17858893269000001"})))
        .expect(1)
        .mount(&server)
        .await;
    let client = replies(&server);
    assert_posted_as(
        &client,
        &facebook_comment(),
        "k",
        "987654321_111",
        "https://www.facebook.com/987654321_111",
    )
    .await;
    let Published::Posted(on_instagram) = client
        .reply(&instagram_comment(), "We're on it", "k")
        .await
        .unwrap()
    else {
        panic!("not posted");
    };
    assert_eq!(
        on_instagram.platform_id.as_deref(),
        Some("17858893269000001")
    );
}

#[tokio::test]
async fn meta_duplicate_message_counts_as_already_posted() {
    let server = MockServer::start().await;
    then_answers(
        &server,
        "POST",
        FB_ROUTE,
        400,
        graph_error("Duplicate status message", "FacebookApiException", 506),
    )
    .await;
    let published = reply_to(&server, &facebook_comment()).await.unwrap();
    assert_eq!(published, Published::AlreadyThere);
}

// ---------------------------------------------------------------- every platform

/// The post each platform's reply route answers and that route, with
/// whatever the route reads first (Bluesky's session and thread) mounted.
async fn reply_route(server: &MockServer, platform: Platform) -> (Mention, &'static str) {
    match platform {
        Platform::X => (post(Platform::X, "1", "dana_k"), X_ROUTE),
        Platform::Bluesky => {
            bluesky_thread(server).await;
            (bsky_post(), BSKY_CREATE)
        }
        Platform::Mastodon => (masto_local_post(server), MASTO_ROUTE),
        Platform::Facebook => (facebook_comment(), FB_ROUTE),
        Platform::Instagram => (instagram_comment(), IG_ROUTE),
        other => panic!("no reply route for {other:?}"),
    }
}

#[tokio::test]
async fn refused_tokens_and_missing_permissions_are_not_retried() {
    let expired = "Error validating access token: Session has expired";
    let no_permission = "(#200) Requires pages_manage_engagement permission";
    let refusals = [
        (
            Platform::X,
            401,
            x_problem(401, "Unauthorized", "Unauthorized"),
        ),
        (Platform::X, 403, x_problem(403, "Forbidden", "Forbidden")),
        (
            Platform::Facebook,
            400,
            graph_error(expired, "OAuthException", 190),
        ),
        (
            Platform::Facebook,
            403,
            graph_error(no_permission, "OAuthException", 200),
        ),
    ];
    for (platform, status, body) in refusals {
        let server = MockServer::start().await;
        let (to, route) = reply_route(&server, platform).await;
        then_answers(&server, "POST", route, status, body).await;
        let err = reply_to(&server, &to).await.unwrap_err();
        assert!(
            matches!(err, PublishError::Token { platform: p, status: s, .. } if p == platform && s == status),
            "{err:?}"
        );
        assert!(!err.is_retryable());
        let tries = requests_to(&server, route).await.len();
        assert_eq!(tries, 1, "{platform:?} HTTP {status}");
    }
}

#[tokio::test]
async fn rate_limits_are_tried_once_more_then_reported() {
    let too_many = "Too Many Requests";
    let limits = [
        (Platform::X, 429, x_problem(429, too_many, too_many)),
        (
            Platform::Bluesky,
            429,
            bsky_error("RateLimitExceeded", "Rate Limit Exceeded"),
        ),
        (
            Platform::Mastodon,
            429,
            json!({"error": "Too many requests"}),
        ),
        (
            Platform::Instagram,
            400,
            graph_error(
                "(#4) Application request limit reached",
                "OAuthException",
                4,
            ),
        ),
    ];
    for (platform, status, body) in limits {
        let server = MockServer::start().await;
        let (to, route) = reply_route(&server, platform).await;
        then_answers(&server, "POST", route, status, body).await;
        let err = reply_to(&server, &to).await.unwrap_err();
        assert_rate_limited(&err, platform);
        assert_eq!(requests_to(&server, route).await.len(), 2, "{platform:?}");
    }
}

#[tokio::test]
async fn a_server_error_then_success_posts_once() {
    let unavailable = "Service Unavailable";
    let failures = [
        (
            Platform::X,
            (503, x_problem(503, unavailable, unavailable)),
            (201, x_created()),
        ),
        (
            Platform::Bluesky,
            (
                502,
                bsky_error("InternalServerError", "Internal Server Error"),
            ),
            (200, bsky_created()),
        ),
        (
            Platform::Facebook,
            (
                500,
                graph_error("An unknown error has occurred.", "OAuthException", 1),
            ),
            (200, json!({"id": "987654321_112"})),
        ),
    ];
    for (platform, (status, refusal), (created_status, created)) in failures {
        let server = MockServer::start().await;
        let (to, route) = reply_route(&server, platform).await;
        fails_once(&server, route, status, refusal).await;
        then_answers(&server, "POST", route, created_status, created).await;
        let published = reply_to(&server, &to).await.unwrap();
        assert!(matches!(published, Published::Posted(_)), "{platform:?}");
        assert_eq!(requests_to(&server, route).await.len(), 2, "{platform:?}");
    }
}

// ---------------------------------------------------------------- routing

#[tokio::test]
async fn platforms_without_credentials_or_support_say_so_without_calling_anyone() {
    let server = MockServer::start().await;
    let bare = PlatformReplies::new(
        ReplyHttp::new().unwrap(),
        ReplyEndpoints {
            x: server.uri(),
            bluesky_pds: server.uri(),
            mastodon: server.uri(),
            meta_graph: server.uri(),
        },
        ReplyCredentials::default(),
    );
    let err = bare
        .reply(&post(Platform::X, "1", "d"), "On it", "k")
        .await
        .unwrap_err();
    assert_eq!(err, PublishError::NotConfigured(Platform::X));
    let err = bare
        .reply(&post(Platform::Reddit, "t3_abc", "d"), "On it", "k")
        .await
        .unwrap_err();
    assert_eq!(err, PublishError::NotSupported(Platform::Reddit));
    assert!(server.received_requests().await.unwrap().is_empty());
}
