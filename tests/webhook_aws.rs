//! The webhook handler end to end on DynamoDB and SNS (a real moto server):
//! what is stored, what is sent, and what happens when parts fail.

use crate::support;

use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use earshot::adapters::Deps;
use earshot::adapters::dynamo::DynamoStore;
use earshot::adapters::sns::SnsSms;
use earshot::config::Secret;
use earshot::domain::Clock;
use earshot::domain::{AlertState, MentionId, Platform};
use earshot::http::{HttpRequest, HttpResponse};
use earshot::ports::{MentionStore, SmsSender};

use earshot::webhook::{Webhook, WebhookSecrets};
use support::Moto;

const SECRET: &str = "moto-test-consumer-secret";
const ON_CALL: [&str; 2] = ["+15555550100", "+15555550101"];

struct Stack {
    moto: Moto,
    store: DynamoStore,
    table: String,
}

impl Stack {
    async fn start() -> Self {
        let moto = Moto::start();
        let table = support::unique_table("webhook");
        let store = moto.dynamo_store(&table).await;
        let people = [("Sam", ON_CALL[0], 1), ("Kim", ON_CALL[1], 1)];
        support::seat_on_call(&store, &people).await;
        Self { moto, store, table }
    }

    fn webhook_with(&self, sms: Arc<dyn SmsSender>) -> Webhook {
        let deps = Deps::on_store(self.store.clone(), sms);
        Webhook::new(
            WebhookSecrets::x_only(Secret::new(SECRET)),
            &deps,
            Clock::System,
        )
        .unwrap()
    }

    async fn webhook(&self) -> Webhook {
        self.webhook_with(Arc::new(self.moto.sns().await))
    }

    /// The answer of the webhook (SMS through moto) to `payload` signed
    /// with `secret`.
    async fn deliver(&self, payload: &str, secret: &str) -> HttpResponse {
        self.webhook().await.handle(&signed(payload, secret)).await
    }

    /// The urgent sample's stored record.
    async fn urgent_record(&self) -> earshot::domain::MentionRecord {
        let stored = self.store.get_mention(&urgent_id()).await.unwrap();
        stored.expect("the urgent mention is stored")
    }

    /// The stored mention's item, read straight through the SDK.
    async fn raw_item(
        &self,
        id: &MentionId,
    ) -> Option<std::collections::HashMap<String, AttributeValue>> {
        let client = aws_sdk_dynamodb::Client::new(&self.moto.sdk_config().await);
        client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(format!("MENTION#{id}")))
            .key("sk", AttributeValue::S("MENTION".into()))
            .send()
            .await
            .unwrap()
            .item
    }
}

/// The urgent sample's mention.
fn urgent_id() -> MentionId {
    MentionId::new(Platform::X, support::URGENT_X_POST)
}

/// `payload`, signed with `secret` as X signs deliveries.
fn signed(payload: &str, secret: &str) -> HttpRequest {
    support::signed_x_delivery(secret, support::payload(payload))
}

fn body_json(response: &HttpResponse) -> serde_json::Value {
    serde_json::from_str(&response.body).expect("JSON body")
}

#[tokio::test]
async fn duplicate_delivery_stores_one_mention_and_sends_one_sms_per_phone() {
    let stack = Stack::start().await;
    let webhook = stack.webhook().await;
    let delivery = signed("x-urgent-complaint.json", SECRET);

    let first = webhook.handle(&delivery).await;
    assert_eq!(first.status_code, 200, "{}", first.body);
    assert_eq!(body_json(&first)["stored"], 1);
    let again = webhook.handle(&delivery).await;
    assert_eq!(again.status_code, 200, "{}", again.body);
    assert_eq!(body_json(&again)["duplicates"], 1);

    let sms = stack.moto.sms_sent();
    let mut phones: Vec<_> = sms.iter().map(|(phone, _)| phone.as_str()).collect();
    phones.sort();
    assert_eq!(phones, ON_CALL, "one SMS to each on-call phone, none twice");
    assert!(
        sms[0].1.starts_with("P1 X @dana_rivers 45k"),
        "{}",
        sms[0].1
    );

    let record = stack.urgent_record().await;
    assert!(
        matches!(record.alert, AlertState::Sent { recipients: 2, .. }),
        "{:?}",
        record.alert
    );
    assert!(
        record.mention.text.ends_with("Flight NW418."),
        "full text from extended_tweet"
    );
}

#[tokio::test]
async fn a_stored_mention_carries_its_retention_ttl() {
    let stack = Stack::start().await;
    let response = stack.deliver("x-mild-complaint.json", SECRET).await;
    assert_eq!(response.status_code, 200, "{}", response.body);
    let item = stack
        .raw_item(&MentionId::new(Platform::X, "1862512678012345601"))
        .await
        .expect("item stored");
    let expires_at: i64 = item["expires_at"].as_n().unwrap().parse().unwrap();
    let thirty_days = chrono::Utc::now().timestamp() + 30 * 24 * 3600;
    assert!(
        (thirty_days - 120..=thirty_days + 120).contains(&expires_at),
        "{expires_at}"
    );
    assert!(
        stack.moto.sms_sent().is_empty(),
        "a P2 complaint pages nobody"
    );
}

#[tokio::test]
async fn a_bad_signature_is_refused_and_nothing_is_stored() {
    let stack = Stack::start().await;
    let response = stack
        .deliver("x-urgent-complaint.json", "someone-elses-secret")
        .await;
    assert_eq!(response.status_code, 401);
    assert!(stack.raw_item(&urgent_id()).await.is_none());
    assert!(stack.moto.sms_sent().is_empty());
}

#[tokio::test]
async fn sns_failure_answers_5xx_and_the_retried_delivery_sends_once() {
    let stack = Stack::start().await;
    let delivery = signed("x-urgent-complaint.json", SECRET);

    // SNS unreachable: the mention is stored, the alert is not lost.
    let broken_sns = SnsSms::new(
        aws_sdk_sns::Client::new(&support::unreachable_sdk_config().await),
        None,
        None,
    );
    let failed = stack
        .webhook_with(Arc::new(broken_sns))
        .handle(&delivery)
        .await;
    assert_eq!(failed.status_code, 502, "{}", failed.body);
    let record = stack.urgent_record().await;
    assert!(
        matches!(record.alert, AlertState::Failed { .. }),
        "{:?}",
        record.alert
    );
    assert!(stack.moto.sms_sent().is_empty());

    // X retries the delivery once SNS is back: each phone gets it once.
    let webhook = stack.webhook().await;
    let retried = webhook.handle(&delivery).await;
    assert_eq!(retried.status_code, 200, "{}", retried.body);
    assert_eq!(body_json(&retried)["sms_sent"], 2);
    let again = webhook.handle(&delivery).await;
    assert_eq!(body_json(&again)["sms_sent"], 0);
    assert_eq!(stack.moto.sms_sent().len(), 2);
}

#[tokio::test]
async fn concurrent_duplicate_deliveries_send_one_sms_per_phone() {
    let stack = Stack::start().await;
    let webhook = stack.webhook().await;
    let delivery = signed("x-activity-mention.json", SECRET);
    let (a, b, c) = tokio::join!(
        webhook.handle(&delivery),
        webhook.handle(&delivery),
        webhook.handle(&delivery)
    );
    for response in [&a, &b, &c] {
        assert!(
            response.status_code == 200 || response.status_code == 502,
            "{}",
            response.body
        );
    }
    assert_eq!(stack.moto.sms_sent().len(), ON_CALL.len());
}

#[tokio::test]
async fn a_delivery_with_one_malformed_post_stores_the_good_ones() {
    let stack = Stack::start().await;
    let mut payload: serde_json::Value =
        serde_json::from_str(&support::payload("x-mild-complaint.json")).unwrap();
    let good = payload["tweet_create_events"][0].clone();
    payload["tweet_create_events"] =
        serde_json::json!([{"id_str": "1", "text": "no author, no date"}, good]);
    let response = stack
        .webhook()
        .await
        .handle(&support::signed_x_delivery(SECRET, payload.to_string()))
        .await;
    assert_eq!(response.status_code, 200, "{}", response.body);
    let body = body_json(&response);
    assert_eq!(body["stored"], 1);
    assert_eq!(body["rejected"][0]["index"], 0);
    assert!(
        stack
            .raw_item(&MentionId::new(Platform::X, "1862512678012345601"))
            .await
            .is_some()
    );
    let brand_only = MentionId::new(Platform::X, "1");
    assert!(
        stack
            .store
            .get_mention(&brand_only)
            .await
            .unwrap()
            .is_none()
    );
}
