//! The Meta and Mastodon webhook routes, end to end through the handler:
//! handshakes, signatures, every change of a delivery, edits and removals
//! applied in place, and no SMS twice. Each case runs on the embedded store
//! and on DynamoDB and SNS (a real moto server).

use crate::support;

use chrono::Utc;
use earshot::adapters::Deps;
use earshot::adapters::embedded::EmbeddedStore;
use earshot::config::Secret;
use earshot::domain::Clock;
use earshot::domain::{Account, Watch};
use earshot::domain::{MentionId, Platform, Voice};
use earshot::http::{HttpRequest, HttpResponse};
use earshot::platforms::http::Http;
use earshot::platforms::meta::GraphClient;
use earshot::ports::Revision;
use earshot::signature::hex_signature;
use earshot::webhook::{
    MASTODON_PATH, MASTODON_SIGNATURE_HEADER, META_PATH, META_SIGNATURE_HEADER, Webhook,
    WebhookSecrets,
};
use serde_json::Value;
use support::{Moto, contract};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const X_SECRET: &str = "x-secret";
const META_SECRET: &str = "meta-app-secret";
const VERIFY_TOKEN: &str = "meta-verify-token";
const MASTODON_SECRET: &str = "mastodon-webhook-secret";
const PAGE: &str = "104200000000777";
const INSTAGRAM: &str = "17841400000000777";

/// One backend: its ports and a way to count the SMS it sent.
struct Stack {
    deps: Deps,
    sent: SentSms,
}

enum SentSms {
    Outbox(EmbeddedStore),
    Moto(Moto),
}

impl Stack {
    fn sms_sent(&self) -> usize {
        match &self.sent {
            SentSms::Outbox(store) => store.outbox().unwrap().len(),
            SentSms::Moto(moto) => moto.sms_sent().len(),
        }
    }

    async fn with_watch(self) -> Self {
        self.deps
            .roster
            .put_contact(&support::on_call("Sam", "+15555550100", 1))
            .await
            .unwrap();
        let accounts = [
            format!("facebook:{PAGE}"),
            format!("instagram:{INSTAGRAM}"),
            "mastodon:NorthwindAir".into(),
        ]
        .iter()
        .map(|raw| Account::parse(raw).unwrap())
        .collect();
        let watch = Watch::new("NorthwindAir", "northwind", vec![], accounts, Utc::now()).unwrap();
        self.deps.watches.put_watch(&watch).await.unwrap();
        self
    }

    fn webhook(&self) -> Webhook {
        let secrets = WebhookSecrets {
            meta_app_secret: Some(Secret::new(META_SECRET)),
            meta_verify_token: Some(Secret::new(VERIFY_TOKEN)),
            mastodon_webhook_secret: Some(Secret::new(MASTODON_SECRET)),
            ..WebhookSecrets::x_only(Secret::new(X_SECRET))
        };
        Webhook::new(secrets, &self.deps, Clock::System).unwrap()
    }

    /// The stored record of mention `id`, which must be there.
    async fn record(&self, id: &str) -> earshot::domain::MentionRecord {
        let parsed = MentionId::parse(id).unwrap();
        let record = self.deps.store.get_mention(&parsed).await.unwrap();
        record.unwrap_or_else(|| panic!("{id} is stored"))
    }

    async fn stored_text(&self, id: &str) -> Option<String> {
        let id = MentionId::parse(id).unwrap();
        let record = self.deps.store.get_mention(&id).await.unwrap()?;
        Some(record.mention.text)
    }
}

async fn embedded() -> (tempfile::TempDir, Stack) {
    let home = tempfile::tempdir().unwrap();
    let (deps, store) = Deps::embedded(home.path(), false, Clock::System).unwrap();
    let stack = Stack {
        deps,
        sent: SentSms::Outbox(store),
    };
    (home, stack.with_watch().await)
}

async fn aws() -> ((), Stack) {
    let moto = Moto::start();
    let deps = moto.deps("hooks").await;
    let stack = Stack {
        deps,
        sent: SentSms::Moto(moto),
    };
    ((), stack.with_watch().await)
}

fn signed(path: &str, header: &str, secret: &str, body: &str) -> HttpRequest {
    let signature = hex_signature(secret.as_bytes(), body.as_bytes());
    let headers = [(header, signature.as_str())];
    HttpRequest::new("POST", path, "", &headers, Some(body.to_owned()))
}

/// `body` as Meta delivers it, signed with our app secret.
fn meta_body(body: &str) -> HttpRequest {
    signed(META_PATH, META_SIGNATURE_HEADER, META_SECRET, body)
}

/// `body` as a Mastodon server delivers it, signed with our webhook secret.
fn mastodon_body(body: &str) -> HttpRequest {
    signed(
        MASTODON_PATH,
        MASTODON_SIGNATURE_HEADER,
        MASTODON_SECRET,
        body,
    )
}

/// The sample delivery `payload`, from Meta.
fn meta(payload: &str) -> HttpRequest {
    meta_body(&support::payload(payload))
}

/// The sample delivery `payload`, from a Mastodon server.
fn mastodon(payload: &str) -> HttpRequest {
    mastodon_body(&support::payload(payload))
}

fn json(response: &HttpResponse) -> Value {
    serde_json::from_str(&response.body).expect("a JSON body")
}

const COMMENT: &str = "facebook:880012_990045";

async fn a_page_comment_is_stored_under_its_brand_and_paged_once(stack: &Stack) {
    let webhook = stack.webhook();
    let response = webhook.handle(&meta("meta-page-comment.json")).await;
    assert_eq!(response.status_code, 200, "{}", response.body);
    let body = json(&response);
    assert_eq!(body["stored"], 1);
    assert_eq!(body["ignored"][0], "feed reaction add");
    assert_eq!(stack.sms_sent(), 1, "a stranded elderly passenger is a P1");

    let record = stack.record(COMMENT).await;
    assert_eq!(record.mention.brand, "NorthwindAir");
    assert_eq!(record.mention.platform, Platform::Facebook);
    assert_eq!(record.mention.voice, Voice::Customer);

    // Meta retries deliveries: the same one again sends nothing new.
    let again = webhook.handle(&meta("meta-page-comment.json")).await;
    assert_eq!(json(&again)["duplicates"], 1);
    assert_eq!(stack.sms_sent(), 1);
}

async fn edits_and_removals_change_the_stored_comment_in_place(stack: &Stack) {
    let webhook = stack.webhook();
    webhook.handle(&meta("meta-page-comment.json")).await;
    let open = stack
        .deps
        .store
        .open_alerts(Utc::now() + chrono::Duration::hours(1), 10)
        .await
        .unwrap();
    assert_eq!(
        open.len(),
        1,
        "the urgent comment paged and waits for an ACK"
    );
    let edited = webhook.handle(&meta("meta-page-comment-edited.json")).await;
    assert_eq!(edited.status_code, 200);
    assert_eq!(json(&edited)["revised"], 1);
    assert_eq!(json(&edited)["stored"], 0);
    let text = stack.stored_text(COMMENT).await.unwrap();
    assert!(text.ends_with("3 hours now."), "{text}");

    let removed = webhook
        .handle(&meta("meta-page-comment-removed.json"))
        .await;
    assert_eq!(json(&removed)["revised"], 1);
    let revision = stack
        .deps
        .revisions
        .mention_revision(&MentionId::parse(COMMENT).unwrap())
        .await
        .unwrap();
    assert!(matches!(revision, Some(Revision::Removed { .. })));
    assert_eq!(stack.sms_sent(), 1, "edits and removals page nobody");
    // Removed before anyone took it: the alert no longer climbs the tiers.
    let later = Utc::now() + chrono::Duration::hours(1);
    let open = stack.deps.store.open_alerts(later, 10).await.unwrap();
    assert!(
        open.iter().all(|r| r.mention.id.as_str() != COMMENT),
        "{open:?}"
    );
}

async fn an_edit_heard_first_stores_the_post(stack: &Stack) {
    let response = stack
        .webhook()
        .handle(&meta("meta-page-comment-edited.json"))
        .await;
    assert_eq!(json(&response)["stored"], 1);
    let text = stack
        .stored_text(COMMENT)
        .await
        .expect("stored by the edit");
    assert!(text.ends_with("3 hours now."));
}

async fn the_older_sender_shape_and_instagram_comments_are_stored(stack: &Stack) {
    let webhook = stack.webhook();
    let legacy = webhook.handle(&meta("meta-page-mention-legacy.json")).await;
    assert_eq!(json(&legacy)["stored"], 1, "{}", legacy.body);
    let record = stack.record("facebook:6610000000031_447700").await;
    assert_eq!(record.mention.author.id, "6610000000031");
    assert_eq!(
        record.mention.author.display_name.as_deref(),
        Some("Mark Osei")
    );

    let comment = webhook.handle(&meta("instagram-comment.json")).await;
    assert_eq!(json(&comment)["stored"], 1);
    let text = stack.stored_text("instagram:17900000000012345").await;
    assert!(text.unwrap().starts_with("Two weeks and still no refund"));
}

async fn bad_meta_deliveries_are_refused_and_store_nothing(stack: &Stack) {
    let webhook = stack.webhook();
    let body = support::payload("meta-page-comment.json");
    // Signed with another secret, with the legacy SHA-1 header only, and
    // with a body changed after signing.
    let wrong = signed(META_PATH, META_SIGNATURE_HEADER, "not-the-secret", &body);
    assert_eq!(webhook.handle(&wrong).await.status_code, 401);
    let legacy_only = HttpRequest::new(
        "POST",
        META_PATH,
        "",
        &[("x-hub-signature", "sha1=0123456789abcdef")],
        Some(body.clone()),
    );
    assert_eq!(webhook.handle(&legacy_only).await.status_code, 401);
    let mut tampered = meta("meta-page-comment.json");
    tampered.body = Some(body.replace("since 6am", "since 5am"));
    assert_eq!(webhook.handle(&tampered).await.status_code, 401);

    let not_meta = meta_body(r#"{"object":"user","entry":[]}"#);
    let response = webhook.handle(&not_meta).await;
    assert_eq!(response.status_code, 400);
    assert!(
        json(&response)["error"]
            .as_str()
            .unwrap()
            .contains("object")
    );
    let broken = meta_body("{\"object\":");
    assert_eq!(webhook.handle(&broken).await.status_code, 400);

    assert_eq!(stack.stored_text(COMMENT).await, None);
    assert_eq!(stack.sms_sent(), 0);
}

async fn mastodon_statuses_are_stored_updated_and_filtered(stack: &Stack) {
    let webhook = stack.webhook();
    let created = webhook
        .handle(&mastodon("mastodon-status-created.json"))
        .await;
    assert_eq!(created.status_code, 200, "{}", created.body);
    assert_eq!(json(&created)["stored"], 1);
    assert_eq!(stack.sms_sent(), 1, "an allergic child is a P1");
    let id = "mastodon:social.example/users/ana/statuses/113540000000000123";
    let text = stack.stored_text(id).await.unwrap();
    assert!(
        text.starts_with("@NorthwindAir my daughter"),
        "HTML became text: {text}"
    );
    assert!(text.contains("& NOW"), "entities decoded: {text}");

    let updated = webhook
        .handle(&mastodon("mastodon-status-updated.json"))
        .await;
    assert_eq!(json(&updated)["revised"], 1);
    assert!(
        stack
            .stored_text(id)
            .await
            .unwrap()
            .ends_with("She is having a reaction.")
    );
    assert_eq!(stack.sms_sent(), 1);

    // The server fires for every local status; most are about nobody.
    let unrelated = support::payload("mastodon-status-created.json")
        .replace("NorthwindAir", "SomeoneElse")
        .replace("113540000000000123", "113540000000000999");
    let response = webhook.handle(&mastodon_body(&unrelated)).await;
    assert_eq!(json(&response)["stored"], 0);
    assert_eq!(
        json(&response)["ignored"][0],
        "status mentions no watched brand"
    );

    let report = mastodon_body(
        r#"{"event":"report.created","created_at":"2026-11-24T10:00:00Z","object":{"id":"7"}}"#,
    );
    let response = webhook.handle(&report).await;
    assert_eq!(response.status_code, 200);
    assert_eq!(json(&response)["ignored"][0], "report.created");

    let wrong = signed(
        MASTODON_PATH,
        MASTODON_SIGNATURE_HEADER,
        "not-the-secret",
        &support::payload("mastodon-status-created.json"),
    );
    assert_eq!(webhook.handle(&wrong).await.status_code, 401);
    let not_a_status = mastodon_body(r#"{"event":"status.created","object":{"id":"1"}}"#);
    assert_eq!(webhook.handle(&not_a_status).await.status_code, 400);
}

macro_rules! all_cases {
    ($backend:ident, $open:expr) => {
        contract!(
            $backend,
            $open,
            [
                a_page_comment_is_stored_under_its_brand_and_paged_once,
                edits_and_removals_change_the_stored_comment_in_place,
                an_edit_heard_first_stores_the_post,
                the_older_sender_shape_and_instagram_comments_are_stored,
                bad_meta_deliveries_are_refused_and_store_nothing,
                mastodon_statuses_are_stored_updated_and_filtered,
            ]
        );
    };
}

all_cases!(on_embedded, embedded().await);

all_cases!(on_aws, aws().await);

#[tokio::test]
async fn the_meta_handshake_echoes_the_challenge_only_for_our_token() {
    let (_home, stack) = embedded().await;
    let webhook = stack.webhook();
    let verify = |query: &str| HttpRequest::new("GET", META_PATH, query, &[], None);

    let ok = webhook
        .handle(&verify(&format!(
            "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={VERIFY_TOKEN}"
        )))
        .await;
    assert_eq!(ok.status_code, 200);
    assert_eq!(ok.body, "1158201444");

    let wrong = webhook
        .handle(&verify(
            "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess",
        ))
        .await;
    assert_eq!(wrong.status_code, 403);
    assert!(!wrong.body.contains("1158201444"));

    let no_challenge = webhook
        .handle(&verify(&format!(
            "hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}"
        )))
        .await;
    assert_eq!(no_challenge.status_code, 400);
    let wrong_mode = webhook
        .handle(&verify(&format!(
            "hub.mode=unsubscribe&hub.challenge=1&hub.verify_token={VERIFY_TOKEN}"
        )))
        .await;
    assert_eq!(wrong_mode.status_code, 400);
}

#[tokio::test]
async fn routes_without_their_secret_are_off() {
    let (_home, stack) = embedded().await;
    let webhook = Webhook::new(
        WebhookSecrets::x_only(Secret::new(X_SECRET)),
        &stack.deps,
        Clock::System,
    )
    .unwrap();
    let response = webhook.handle(&meta("meta-page-comment.json")).await;
    assert_eq!(response.status_code, 404);
    assert!(json(&response)["error"].as_str().unwrap().contains("Meta"));
    let response = webhook
        .handle(&mastodon("mastodon-status-created.json"))
        .await;
    assert_eq!(response.status_code, 404);
    let response = webhook
        .handle(&HttpRequest::new("GET", MASTODON_PATH, "", &[], None))
        .await;
    assert_eq!(response.status_code, 405);
    assert_eq!(stack.sms_sent(), 0);
}

/// Instagram's `mentions` change carries only ids; the words come from
/// the Graph API, replayed here in its format.
#[tokio::test]
async fn instagram_mentions_are_read_through_the_graph_api_and_retried() {
    let (_home, stack) = embedded().await;
    let graph = MockServer::start().await;
    let lookup = || {
        Mock::given(method("GET"))
            .and(path(format!("/{INSTAGRAM}")))
            .and(query_param(
                "fields",
                "mentioned_comment.comment_id(17900000000012399){id,text,timestamp,username}",
            ))
            .and(header("authorization", "Bearer graph-token"))
    };
    // The first attempt fails; Meta retries the delivery.
    lookup()
        .respond_with(ResponseTemplate::new(500).set_body_string(
            r#"{"error":{"message":"An unexpected error has occurred.","type":"OAuthException","code":2}}"#,
        ))
        .up_to_n_times(1)
        .mount(&graph)
        .await;
    lookup()
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"{"mentioned_comment":{"id":"17900000000012399","text":"@northwindair the pilot says we are stuck on the runway for another 2 hours, my son needs his insulin from the hold","timestamp":"2026-11-24T09:58:02+0000","username":"k.osei"},"id":"17841400000000777"}"#,
        ))
        .mount(&graph)
        .await;
    let webhook = stack.webhook().with_graph(GraphClient::new(
        Http::new().unwrap(),
        graph.uri(),
        Secret::new("graph-token"),
    ));

    let first = webhook.handle(&meta("instagram-mention.json")).await;
    assert_eq!(first.status_code, 502, "{}", first.body);
    assert_eq!(stack.stored_text("instagram:17900000000012399").await, None);

    let retry = webhook.handle(&meta("instagram-mention.json")).await;
    assert_eq!(retry.status_code, 200, "{}", retry.body);
    let record = stack.record("instagram:17900000000012399").await;
    assert!(record.mention.text.contains("insulin"));
    assert_eq!(record.mention.author.handle, "k.osei");
    assert_eq!(record.mention.brand, "NorthwindAir");
    assert_eq!(
        record.mention.created_at.to_rfc3339(),
        "2026-11-24T09:58:02+00:00"
    );
    assert_eq!(stack.sms_sent(), 1);
}

#[tokio::test]
async fn without_a_graph_token_an_instagram_mention_is_kept_by_its_ids() {
    let (_home, stack) = embedded().await;
    let response = stack
        .webhook()
        .handle(&meta("instagram-mention.json"))
        .await;
    assert_eq!(response.status_code, 200);
    let record = stack.record("instagram:17900000000012399").await;
    assert!(record.mention.text.is_empty());
    assert_eq!(stack.sms_sent(), 0);
}
