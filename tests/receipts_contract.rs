//! Delivery receipts and phone health: the embedded SQLite store and
//! DynamoDB (on a real moto server) record them the same way.

use crate::builders;
use crate::support;

use support::{KIM, SAM, at, contract, phone};

use earshot::domain::{MentionId, Platform};
use earshot::ports::{
    Delivery, Marked, MentionStore, Receipt, ReceiptStatus, ReceiptStore, SentSms,
};

fn receipt(message_id: &str, to: &str, status: ReceiptStatus, when: &str) -> Receipt {
    Receipt {
        message_id: message_id.into(),
        phone: phone(to),
        status,
        reason: match status {
            ReceiptStatus::Delivered => "Message has been accepted by phone".into(),
            ReceiptStatus::Failed => "Phone is currently unreachable/unavailable".into(),
        },
        at: at(when),
    }
}

/// Records one alert SMS as sent, as the pager does.
async fn send<S: MentionStore>(store: &S, mention: &MentionId, to: &str, message_id: &str) {
    let sent = Delivery::Sent {
        message_id: message_id.into(),
    };
    support::record_alert_sms(
        store,
        mention,
        &phone(to),
        &sent,
        at("2026-11-24T10:00:00Z"),
    )
    .await;
}

async fn a_receipt_finds_its_alert_sms_and_counts_once<S: MentionStore + ReceiptStore>(store: &S) {
    let mention = MentionId::new(Platform::X, "1");
    send(store, &mention, SAM, "msg-sam").await;
    send(store, &mention, KIM, "msg-kim").await;
    let failed = receipt(
        "msg-sam",
        SAM,
        ReceiptStatus::Failed,
        "2026-11-24T10:00:04Z",
    );
    let Marked::First { alert: Some(alert) } = store.record_receipt(&failed).await.unwrap() else {
        panic!("the first receipt of an alert SMS names the alert");
    };
    assert_eq!((&alert.mention, &alert.phone), (&mention, &phone(SAM)));
    assert_eq!(alert.sent_at, at("2026-11-24T10:00:00Z"));
    // The log delivered twice: the second copy changes nothing.
    assert_eq!(store.record_receipt(&failed).await.unwrap(), Marked::Repeat);
    let delivered = receipt(
        "msg-sam",
        SAM,
        ReceiptStatus::Delivered,
        "2026-11-24T10:00:09Z",
    );
    assert_eq!(
        store.record_receipt(&delivered).await.unwrap(),
        Marked::Repeat
    );
    assert_eq!(
        store.alert_sms(&mention).await.unwrap(),
        vec![
            SentSms {
                mention: mention.clone(),
                phone: phone(SAM),
                message_id: "msg-sam".into(),
                sent_at: at("2026-11-24T10:00:00Z"),
                receipt: Some(ReceiptStatus::Failed),
                reason: Some("Phone is currently unreachable/unavailable".into()),
                receipt_at: Some(at("2026-11-24T10:00:04Z")),
            },
            SentSms {
                mention: mention.clone(),
                phone: phone(KIM),
                message_id: "msg-kim".into(),
                sent_at: at("2026-11-24T10:00:00Z"),
                receipt: None,
                reason: None,
                receipt_at: None,
            },
        ]
    );
}

async fn a_receipt_for_another_sms_counts_once_without_an_alert<S: ReceiptStore>(store: &S) {
    let reminder = receipt(
        "msg-reminder",
        SAM,
        ReceiptStatus::Delivered,
        "2026-11-24T10:00:04Z",
    );
    assert_eq!(
        store.record_receipt(&reminder).await.unwrap(),
        Marked::First { alert: None }
    );
    assert_eq!(
        store.record_receipt(&reminder).await.unwrap(),
        Marked::Repeat
    );
}

async fn only_sms_that_went_out_are_listed<S: MentionStore + ReceiptStore>(store: &S) {
    let mention = MentionId::new(Platform::X, "2");
    let now = at("2026-11-24T10:00:00Z");
    for (to, outcome) in [
        (
            SAM,
            Delivery::Failed {
                reason: "throttled".into(),
            },
        ),
        (
            KIM,
            Delivery::Held {
                reason: earshot::ports::HoldReason::QuietHours,
            },
        ),
    ] {
        support::record_alert_sms(store, &mention, &phone(to), &outcome, now).await;
    }
    assert_eq!(store.alert_sms(&mention).await.unwrap(), vec![]);
}

async fn a_phone_failing_three_times_is_warned_about_once<S: ReceiptStore>(store: &S) {
    let mut health = None;
    for (i, minute) in ["01", "02", "03"].iter().enumerate() {
        let failed = receipt(
            &format!("m{i}"),
            SAM,
            ReceiptStatus::Failed,
            &format!("2026-11-24T10:{minute}:00Z"),
        );
        let noted = store.note_phone_outcome(&failed).await.unwrap();
        assert_eq!(noted.failures, i as u32 + 1);
        assert_eq!(noted.needs_warning(), i == 2);
        health = Some(noted);
    }
    let health = health.unwrap();
    assert_eq!(
        health.last_reason.as_deref(),
        Some("Phone is currently unreachable/unavailable")
    );
    assert_eq!(health.last_at, at("2026-11-24T10:03:00Z"));
    assert!(store.claim_phone_warning(&phone(SAM)).await.unwrap());
    assert!(!store.claim_phone_warning(&phone(SAM)).await.unwrap());
    let listed = store.phone_health().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].warned && !listed[0].needs_warning());
    // A delivery ends the run: a later run of failures is reported again.
    let delivered = receipt("m4", SAM, ReceiptStatus::Delivered, "2026-11-24T11:00:00Z");
    let recovered = store.note_phone_outcome(&delivered).await.unwrap();
    assert_eq!((recovered.failures, recovered.warned), (0, false));
    // A phone never noted cannot be claimed.
    assert!(!store.claim_phone_warning(&phone(KIM)).await.unwrap());
}

async fn concurrent_copies_of_a_receipt_count_once<S: ReceiptStore + Clone + 'static>(store: &S) {
    let first = support::concurrent_wins(6, || {
        let store = store.clone();
        async move {
            let copy = receipt("msg-1", SAM, ReceiptStatus::Failed, "2026-11-24T10:00:04Z");
            matches!(
                store.record_receipt(&copy).await.unwrap(),
                Marked::First { .. }
            )
        }
    })
    .await;
    assert_eq!(first, 1);
}

async fn each_phone_is_called_once_per_alert<S: ReceiptStore>(store: &S) {
    let first = MentionId::new(Platform::X, "1");
    let second = MentionId::new(Platform::X, "2");
    assert!(store.claim_call(&first, &phone(SAM)).await.unwrap());
    assert!(!store.claim_call(&first, &phone(SAM)).await.unwrap());
    assert!(store.claim_call(&first, &phone(KIM)).await.unwrap());
    assert!(store.claim_call(&second, &phone(SAM)).await.unwrap());
}

builders::on_both_stores!(
    "receipts",
    [
        a_receipt_finds_its_alert_sms_and_counts_once,
        a_receipt_for_another_sms_counts_once_without_an_alert,
        only_sms_that_went_out_are_listed,
        a_phone_failing_three_times_is_warned_about_once,
        concurrent_copies_of_a_receipt_count_once,
        each_phone_is_called_once_per_alert,
    ]
);
