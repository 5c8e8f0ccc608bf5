//! `REPLY <code> <n>` end to end on DynamoDB and SNS (a real moto server),
//! with X answered by a loopback server: a page, then a public reply from
//! the pager.

use crate::support;

use std::sync::Arc;

use earshot::adapters::Deps;
use earshot::config::Secret;
use earshot::domain::Clock;
use earshot::domain::reply_template::ReplyTemplate;
use earshot::domain::{Account, Watch};
use earshot::domain::{MentionId, Platform, Voice};
use earshot::platforms::reply::{PlatformReplies, ReplyCredentials, ReplyEndpoints, ReplyHttp};
use earshot::sms_reply::{ReplySummary, SmsReplies};
use serde_json::{Value, json};
use support::{KIM, Moto, SAM};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "reply-secret";
const BRAND_ACCOUNT: &str = "1597000000000000001";
const REPLY_ID: &str = "1864771234567890123";

struct Stack {
    moto: Moto,
    deps: Deps,
    x: MockServer,
    replies: SmsReplies,
}

/// Sam may post public replies; Kim is on call but not allowed to post.
async fn start() -> Stack {
    let moto = Moto::start();
    let deps = moto.deps("reply").await;
    let mut sam = support::on_call("Sam", SAM, 1);
    sam.can_reply = true;
    for contact in [sam, support::on_call("Kim", KIM, 1)] {
        deps.roster.put_contact(&contact).await.unwrap();
    }
    let added = "2026-11-24T08:00:00Z".parse().unwrap();
    // The urgent sample names its brand NorthwindAir.
    let mut watch = Watch::new(
        "NorthwindAir",
        "northwind",
        vec![],
        vec![Account::parse(&format!("x:{BRAND_ACCOUNT}")).unwrap()],
        added,
    )
    .unwrap();
    watch.reply_templates = vec![
        ReplyTemplate::new(
            1,
            "We're so sorry, {first_name}. Someone from our team is on it now and will DM you within 15 minutes.",
            15,
            added,
        )
        .unwrap(),
    ];
    deps.watches.put_watch(&watch).await.unwrap();

    let x = MockServer::start().await;
    let platforms = Arc::new(PlatformReplies::new(
        ReplyHttp::new().unwrap(),
        ReplyEndpoints {
            x: x.uri(),
            bluesky_pds: x.uri(),
            mastodon: x.uri(),
            meta_graph: x.uri(),
        },
        ReplyCredentials {
            x_token: Some(Secret::new("x-user-token")),
            ..ReplyCredentials::default()
        },
    ));
    let urgent = support::payload("x-urgent-complaint.json");
    let response = support::deliver_x(&deps, SECRET, Clock::System, urgent).await;
    assert_eq!(response.status_code, 200, "{}", response.body);
    let replies = deps.sms_replies(Clock::System, platforms).unwrap();
    Stack {
        moto,
        deps,
        x,
        replies,
    }
}

async fn x_answers(server: &MockServer, status: u16, body: Value, times: Option<u64>) {
    let mock = Mock::given(method("POST"))
        .and(path(support::X_POSTS_ROUTE))
        .respond_with(ResponseTemplate::new(status).set_body_json(body));
    match times {
        Some(times) => mock.up_to_n_times(times).with_priority(1),
        None => mock,
    }
    .mount(server)
    .await;
}

fn created() -> Value {
    json!({"data": {"id": REPLY_ID, "text": "We're so sorry, Dana.", "edit_history_tweet_ids": [REPLY_ID]}})
}

fn unavailable() -> Value {
    json!({"title": "Service Unavailable", "detail": "Service Unavailable", "type": "about:blank", "status": 503})
}

impl Stack {
    async fn text(&self, from: &str, body: &str, inbound_id: &str) -> ReplySummary {
        support::text(&self.replies, from, body, inbound_id).await
    }

    fn code(&self) -> String {
        self.moto.alert_code_sent_to(SAM)
    }

    /// `from` texts `REPLY <code> 1` for the urgent sample's alert, as
    /// inbound message `inbound_id`.
    async fn reply_with_template_one(&self, from: &str, inbound_id: &str) -> ReplySummary {
        let reply = format!("REPLY {} 1", self.code());
        self.text(from, &reply, inbound_id).await
    }

    async fn posts_to_x(&self) -> Vec<Value> {
        self.x
            .received_requests()
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.url.path() == support::X_POSTS_ROUTE)
            .map(|r| r.body_json().unwrap())
            .collect()
    }

    /// Sam texts `REPLY <code> 1`; X must then have been asked `posts`
    /// times since it was last reset. Sam's answer.
    async fn sam_replies(&self, inbound_id: &str, posts: usize) -> String {
        self.reply_with_template_one(SAM, inbound_id).await;
        assert_eq!(self.posts_to_x().await.len(), posts, "posts to X");
        self.last_sms_to(SAM)
    }

    /// Sam's `REPLY <code> 1` is posted, after `posts` requests to X in
    /// all, and Sam is told so.
    async fn assert_sam_posts(&self, inbound_id: &str, posts: usize) {
        let answer = self.sam_replies(inbound_id, posts).await;
        assert!(answer.contains("Posted reply 1"), "{answer}");
    }

    /// X takes every reply from now on.
    async fn x_accepts(&self) {
        x_answers(&self.x, 201, created(), None).await;
    }

    fn last_sms_to(&self, phone: &str) -> String {
        self.moto.sms_to(phone).pop().unwrap_or_default()
    }

    /// The last SMS to `phone` says `expected`.
    fn assert_last_sms_to(&self, phone: &str, expected: &str) {
        let last = self.last_sms_to(phone);
        assert!(last.contains(expected), "expected {expected:?} in {last:?}");
    }
}

#[tokio::test]
async fn reply_posts_the_template_under_the_post_and_texts_its_link() {
    let stack = start().await;
    stack.x_accepts().await;
    let code = stack.code();
    stack.text(SAM, &format!("reply {code} 1"), "in-1").await;

    let posts = stack.posts_to_x().await;
    assert_eq!(
        posts,
        vec![json!({
            "text": "We're so sorry, Dana. Someone from our team is on it now and will DM you within 15 minutes.",
            "reply": {"in_reply_to_tweet_id": support::URGENT_X_POST}
        })]
    );
    let answer = stack.last_sms_to(SAM);
    assert!(
        answer.contains(&format!("x.com/i/web/status/{REPLY_ID}")),
        "{answer}"
    );
    assert!(answer.contains("Reminder in 15 min"), "{answer}");

    // Kept as the brand's reply in the thread...
    let reply = stack
        .deps
        .store
        .get_mention(&MentionId::new(Platform::X, REPLY_ID))
        .await
        .unwrap()
        .expect("the reply is stored");
    assert_eq!(reply.mention.voice, Voice::Brand);
    assert_eq!(
        reply.mention.in_reply_to,
        Some(MentionId::new(Platform::X, support::URGENT_X_POST))
    );
    // ...and the promise timer runs: Sam holds the alert, reminded in 15
    // minutes rather than hours.
    let post = MentionId::new(Platform::X, support::URGENT_X_POST);
    let owner = stack.deps.follow_up.owner(&post).await.unwrap().unwrap();
    assert_eq!(owner.name, "Sam");
    let soon = chrono::Utc::now() + chrono::Duration::minutes(16);
    let due = stack.deps.store.reminders_due(soon, 10).await.unwrap();
    assert!(
        due.iter().any(|r| r.mention.id == post),
        "the reminder falls within the template's window"
    );
}

#[tokio::test]
async fn the_same_reply_sent_twice_posts_once() {
    let stack = start().await;
    stack.x_accepts().await;
    stack.reply_with_template_one(SAM, "in-1").await;
    // The same SMS redelivered, then typed again.
    let redelivered = stack.reply_with_template_one(SAM, "in-1").await;
    assert_eq!(redelivered.duplicates, 1);
    stack.reply_with_template_one(SAM, "in-2").await;

    assert_eq!(stack.posts_to_x().await.len(), 1);
    let answer = stack.last_sms_to(SAM);
    assert!(answer.contains("already posted"), "{answer}");
    assert!(answer.contains(REPLY_ID), "{answer}");
}

#[tokio::test]
async fn only_people_allowed_to_reply_can_post() {
    let stack = start().await;
    stack.x_accepts().await;
    stack.reply_with_template_one(KIM, "in-1").await;
    assert!(stack.posts_to_x().await.is_empty());
    stack.assert_last_sms_to(KIM, "--can-reply");
}

#[tokio::test]
async fn bad_codes_unknown_templates_and_free_text_post_nothing() {
    let stack = start().await;
    stack.x_accepts().await;
    let code = stack.code();

    stack.text(SAM, "REPLY 0000 1", "in-1").await;
    stack.assert_last_sms_to(SAM, "not an alert code");
    stack.text(SAM, "REPLY AAAA 1", "in-2").await;
    stack.assert_last_sms_to(SAM, "No alert AAAA");
    stack.text(SAM, &format!("REPLY {code} 7"), "in-3").await;
    stack.assert_last_sms_to(SAM, "no reply 7");
    stack
        .text(SAM, &format!("REPLY {code} so sorry about that!"), "in-4")
        .await;
    stack.assert_last_sms_to(SAM, "never posted");
    assert!(stack.posts_to_x().await.is_empty());
}

#[tokio::test]
async fn a_platform_failure_is_retried_once_and_explained_by_sms() {
    let stack = start().await;
    x_answers(&stack.x, 503, unavailable(), None).await;
    let code = stack.code();
    // Two posts: the first try and one retry.
    let answer = stack.sam_replies("in-1", 2).await;
    assert!(answer.contains("NOT posted"), "{answer}");
    assert!(
        answer.contains(&format!("REPLY {code} 1 again")),
        "{answer}"
    );

    // The failure freed the reply: sent again once X is back, it posts.
    stack.x.reset().await;
    stack.x_accepts().await;
    stack.assert_sam_posts("in-2", 1).await;
}

#[tokio::test]
async fn a_server_error_then_success_posts_once_and_confirms() {
    let stack = start().await;
    x_answers(&stack.x, 503, unavailable(), Some(1)).await;
    stack.x_accepts().await;
    stack.assert_sam_posts("in-1", 2).await;
}

#[tokio::test]
async fn a_refused_token_is_not_retried_and_the_sender_is_told_to_renew_it() {
    let stack = start().await;
    x_answers(
        &stack.x,
        401,
        json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}),
        None,
    )
    .await;
    let answer = stack.sam_replies("in-1", 1).await;
    assert!(answer.contains("token needs renewing"), "{answer}");
}
