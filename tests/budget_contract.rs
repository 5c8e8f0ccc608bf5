//! The SMS budget and held alerts: the embedded SQLite store and DynamoDB
//! (on a real moto server) count and hold the same way.

use crate::builders;
use crate::support;

use support::contract;
use support::{at, phone};

use earshot::domain::{AlertCode, MentionId, Platform, Priority};
use earshot::ports::{HeldAlert, HoldReason, SmsBudget, SmsLimits, Spend};

const LIMITS: SmsLimits = SmsLimits {
    per_phone_hourly: 2,
    daily: 3,
};

async fn each_phone_gets_its_hourly_share_and_no_more<S: SmsBudget>(store: &S) {
    let sam = phone("+15555550100");
    let kim = phone("+15555550101");
    let ten = at("2026-11-24T10:05:00Z");
    let eleven = at("2026-11-24T11:00:00Z");
    let tomorrow = at("2026-11-25T00:00:01Z");
    let steps = [
        (&sam, ten, Spend::Granted),
        (&sam, ten, Spend::Granted),
        (&sam, ten, Spend::PhoneCap),
        // A refused SMS counts against nothing: the deployment has room for one.
        (&kim, ten, Spend::Granted),
        // The next clock hour is a new share, but the day is spent.
        (&sam, eleven, Spend::DailyCap),
        // A new UTC day starts afresh.
        (&sam, tomorrow, Spend::Granted),
    ];
    for (step, (who, when, expected)) in steps.into_iter().enumerate() {
        let spent = store.spend(who, when, LIMITS).await.unwrap();
        assert_eq!(spent, expected, "step {step}");
    }
}

async fn concurrent_spending_never_passes_a_cap<S: SmsBudget + Clone + 'static>(store: &S) {
    let now = at("2026-11-24T10:05:00Z");
    let limits = SmsLimits {
        per_phone_hourly: 3,
        daily: 100,
    };
    let tries: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.spend(&phone("+15555550100"), now, limits).await })
        })
        .collect();
    let mut granted = 0;
    for attempt in tries {
        if attempt.await.unwrap().unwrap() == Spend::Granted {
            granted += 1;
        }
    }
    assert_eq!(granted, 3);
}

fn held(phone_raw: &str, post: &str, minute: u32) -> HeldAlert {
    HeldAlert {
        phone: phone(phone_raw),
        mention: MentionId::new(Platform::X, post),
        code: AlertCode::candidate(post, 0),
        priority: Priority::P1,
        handle: format!("author_{post}"),
        reason: HoldReason::QuietHours,
        at: at(&format!("2026-11-24T03:{minute:02}:00Z")),
    }
}

async fn held_alerts_are_kept_once_listed_in_order_and_released<S: SmsBudget>(store: &S) {
    assert!(store.held().await.unwrap().is_empty());
    let first = held("+15555550100", "1", 10);
    let second = held("+15555550100", "2", 20);
    let other_phone = held("+15555550101", "1", 15);
    for alert in [&second, &first, &other_phone] {
        store.hold(alert).await.unwrap();
    }
    // Held again later (the next run): still once, with its first time.
    store.hold(&held("+15555550100", "1", 40)).await.unwrap();
    assert_eq!(
        store.held().await.unwrap(),
        vec![first.clone(), other_phone.clone(), second.clone()]
    );
    assert_eq!(
        store
            .release(&[first.clone(), second.clone()])
            .await
            .unwrap(),
        vec![first.clone(), second.clone()]
    );
    assert_eq!(store.held().await.unwrap(), vec![other_phone]);
    // A second release (a run beside the first) forgets nothing more.
    assert!(store.release(&[first, second]).await.unwrap().is_empty());
}

builders::on_both_stores!(
    "budget",
    [
        each_phone_gets_its_hourly_share_and_no_more,
        concurrent_spending_never_passes_a_cap,
        held_alerts_are_kept_once_listed_in_order_and_released,
    ]
);
