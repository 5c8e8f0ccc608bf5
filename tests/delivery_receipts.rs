//! The delivery function's handler on CloudWatch Logs subscription events
//! (base64 of gzipped JSON), over the embedded store and DynamoDB on moto.

use crate::builders;
use crate::support;

use support::at;
use support::contract;

use std::sync::Arc;

use earshot::delivery::{
    DATA_MESSAGE, DeliveryReceipts, DeliverySummary, LogLine, LogsBatch, LogsEvent,
    delivery_log_line,
};
use earshot::domain::{MentionId, PhoneNumber, Platform};
use earshot::ports::{Delivery, MentionStore, ReceiptStatus, ReceiptStore};

fn sam() -> PhoneNumber {
    PhoneNumber::parse("+15555550100").unwrap()
}

fn line(id: &str, message: String) -> LogLine {
    LogLine {
        id: id.into(),
        timestamp: 1_795_000_000_000,
        message,
    }
}

fn batch(message_type: &str, lines: Vec<LogLine>) -> LogsEvent {
    LogsEvent::encode(&LogsBatch {
        message_type: message_type.into(),
        log_group: "sns/us-east-1/123456789012/DirectPublishToPhoneNumber/Failure".into(),
        log_events: lines,
    })
}

async fn a_failed_alert_sms_is_marked_once_however_often_the_batch_comes<S>(store: &S)
where
    S: MentionStore + ReceiptStore + Clone + 'static,
{
    let mention = MentionId::new(Platform::X, "1");
    let sent_at = at("2026-11-24T10:00:00Z");
    let sent = Delivery::Sent {
        message_id: "alert-msg".into(),
    };
    support::record_alert_sms(store, &mention, &sam(), &sent, sent_at).await;
    let unreachable = "Phone is currently unreachable/unavailable";
    let failure = delivery_log_line("alert-msg", &sam(), false, unreachable, sent_at, 2_000);
    let reminder = delivery_log_line(
        "reminder-msg",
        &sam(),
        true,
        "Message has been accepted by phone",
        sent_at,
        900,
    );
    let event = batch(
        DATA_MESSAGE,
        vec![
            line("1001", failure.clone()),
            // The same log event twice in one batch.
            line("1001", failure),
            line("1002", reminder),
            line("1003", "not a receipt".into()),
        ],
    );
    let handler = DeliveryReceipts {
        receipts: Arc::new(store.clone()),
    };
    assert_eq!(
        handler.handle(&event).await.unwrap(),
        DeliverySummary {
            lines: 4,
            delivered: 1,
            failed: 1,
            repeats: 1,
            not_alerts: 1,
            unreadable: 1,
            refused: 0,
        }
    );
    let sms = store.alert_sms(&mention).await.unwrap();
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0].receipt, Some(ReceiptStatus::Failed));
    assert_eq!(sms[0].reason.as_deref(), Some(unreachable));
    assert_eq!(sms[0].receipt_at, Some(at("2026-11-24T10:00:02Z")));
    // Lambda retries the whole batch: nothing more is counted.
    let again = handler.handle(&event).await.unwrap();
    assert_eq!((again.failed, again.delivered, again.repeats), (0, 0, 3));
    let health = store.phone_health().await.unwrap();
    // The reminder's delivery came after the failure in the batch: the run
    // of failures is over.
    assert_eq!(health[0].failures, 0);
}

async fn control_messages_and_garbled_events_change_nothing<S>(store: &S)
where
    S: ReceiptStore + Clone + 'static,
{
    let handler = DeliveryReceipts {
        receipts: Arc::new(store.clone()),
    };
    let probe = batch(
        "CONTROL_MESSAGE",
        vec![line(
            "1",
            "CWL CONTROL MESSAGE: Checking health of destination".into(),
        )],
    );
    assert_eq!(
        handler.handle(&probe).await.unwrap(),
        DeliverySummary::default()
    );
    let garbled: LogsEvent =
        serde_json::from_str(r#"{"awslogs":{"data":"bm90IGd6aXA="}}"#).unwrap();
    assert_eq!(handler.handle(&garbled).await.unwrap().unreadable, 1);
    assert!(store.phone_health().await.unwrap().is_empty());
}

#[test]
fn the_sample_event_is_a_failure_receipt_as_cloudwatch_logs_sends_it() {
    let event: LogsEvent = serde_json::from_str(
        &std::fs::read_to_string(support::repo_path("events/delivery-failure.json")).unwrap(),
    )
    .unwrap();
    let batch = event.decode().unwrap();
    assert_eq!(batch.message_type, DATA_MESSAGE);
    let receipt = earshot::delivery::parse_receipt(&batch.log_events[0].message).unwrap();
    assert_eq!(receipt.status, ReceiptStatus::Failed);
    assert_eq!(receipt.phone.as_str(), "+15555550123");
}

builders::on_both_stores!(
    "delivery",
    [
        a_failed_alert_sms_is_marked_once_however_often_the_batch_comes,
        control_messages_and_garbled_events_change_nothing,
    ]
);
