//! Flood control on DynamoDB and SNS (a real moto server): a burst of
//! similar urgent complaints pages twice on its own, once as an incident,
//! then folds, with an update at ten posts; unrelated posts page as usual.

use crate::support;

use chrono::{DateTime, Duration, Utc};
use earshot::config::Secret;
use earshot::domain::Clock;
use earshot::domain::MentionId;
use earshot::webhook::{Webhook, WebhookSecrets};
use serde_json::Value;
use support::Moto;

const SECRET: &str = "incident-secret";

fn t0() -> DateTime<Utc> {
    "2026-11-24T09:45:00Z".parse().unwrap()
}

/// The sample urgent complaint, as if another passenger on the same
/// tarmac had posted it.
fn passenger_post(n: u32) -> String {
    support::payload("x-urgent-complaint.json")
        .replace("1862511734012345678", &format!("18625117340123{n:05}"))
        .replace("731200000000000042", &format!("7312000000000{n:05}"))
        .replace("dana_rivers", &format!("passenger_{n}"))
}

async fn deliver(moto_deps: &earshot::adapters::Deps, body: String, minute: i64) -> Value {
    let request = support::signed_x_delivery(SECRET, body);
    let webhook = Webhook::new(
        WebhookSecrets::x_only(Secret::new(SECRET)),
        moto_deps,
        Clock::Fixed(t0() + Duration::minutes(minute)),
    )
    .unwrap();
    let response = webhook.handle(&request).await;
    assert_eq!(response.status_code, 200, "{}", response.body);
    serde_json::from_str(&response.body).unwrap()
}

/// The newest SMS text, once exactly `count` have been sent.
fn latest_sms(moto: &Moto, count: usize) -> String {
    let sms = moto.sms_sent();
    assert_eq!(sms.len(), count, "{sms:?}");
    sms[count - 1].1.clone()
}

#[tokio::test]
async fn a_burst_pages_as_one_incident_and_folds_the_rest() {
    let moto = Moto::start();
    let deps = moto.deps("incident").await;
    deps.roster
        .put_contact(&support::on_call("Sam", "+15555550100", 1))
        .await
        .unwrap();

    let mut alerts = Vec::new();
    for n in 1..=4 {
        let body = deliver(&deps, passenger_post(n), i64::from(n)).await;
        alerts.push(body["mentions"][0]["alert"].as_str().unwrap().to_owned());
    }
    assert_eq!(alerts, ["sent", "sent", "sent", "folded"]);
    let incident_text = latest_sms(&moto, 3);
    assert!(
        incident_text.starts_with("INCIDENT NorthwindAir: 3 similar P1 posts in 2 min"),
        "{incident_text}"
    );
    assert!(
        incident_text.contains("posts in 2 min (nw418, flight, tarmac)\nLatest @passenger_3: \""),
        "{incident_text}"
    );

    // The folded post is stored, linked to the burst's first post.
    let folded = deps
        .store
        .get_mention(&MentionId::parse("x:1862511734012300004").unwrap())
        .await
        .unwrap()
        .expect("stored");
    let incident = folded.incident.expect("part of the incident");
    assert_eq!(incident.lead.as_str(), "x:1862511734012300001");
    assert_eq!(incident.posts, 4);
    assert!(folded.alert_code.is_none());

    // Posts five to nine fold; the tenth pages an update.
    for n in 5..=10 {
        deliver(&deps, passenger_post(n), 5).await;
    }
    let update_text = latest_sms(&moto, 4);
    assert!(
        update_text.starts_with("INCIDENT update NorthwindAir: 10 similar P1 posts"),
        "{update_text}"
    );

    // A different urgent complaint about the brand pages on its own.
    let other = support::payload("x-activity-mention.json");
    let body = deliver(&deps, other, 6).await;
    assert_eq!(body["mentions"][0]["alert"], "sent");
    assert!(latest_sms(&moto, 5).starts_with("P1 "));
}
