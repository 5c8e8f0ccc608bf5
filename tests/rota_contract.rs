//! The rota: the embedded SQLite store and DynamoDB (on a real moto
//! server) keep rotations, overrides and shift notices the same way.

use crate::builders;
use crate::support;

use support::{KIM, LEE, SAM, at, contract, phone};

use chrono::NaiveDate;
use earshot::domain::rota::{Handover, RotaOverride, Rotation};
use earshot::ports::RotaStore;

fn weekly(tier: u8, people: &[&str], handover: &str, zone: &str, from: &str) -> Rotation {
    Rotation::new(
        tier,
        people.iter().map(|p| phone(p)).collect(),
        Handover::parse(handover).unwrap(),
        zone,
        from.parse::<NaiveDate>().unwrap(),
    )
    .unwrap()
}

fn cover(tier: u8, who: &str, from: &str, until: &str) -> RotaOverride {
    RotaOverride::new(tier, phone(who), at(from), at(until), at(from)).unwrap()
}

async fn rotations_are_kept_per_tier_and_replaced<S: RotaStore>(store: &S) {
    let now = at("2026-03-20T12:00:00Z");
    assert!(store.rota(now).await.unwrap().is_empty());
    let first = weekly(1, &[SAM, KIM], "Mon 09:00", "Europe/London", "2026-03-16");
    let second = weekly(2, &[LEE], "Fri 17:00", "America/New_York", "2026-03-20");
    store.put_rotation(&second).await.unwrap();
    store.put_rotation(&first).await.unwrap();
    assert_eq!(
        store.rota(now).await.unwrap().rotations,
        vec![first, second.clone()]
    );
    let reordered = weekly(1, &[KIM, SAM], "Tue 08:00", "Europe/London", "2026-03-17");
    store.put_rotation(&reordered).await.unwrap();
    assert_eq!(
        store.rota(now).await.unwrap().rotations,
        vec![reordered.clone(), second]
    );
    assert!(store.remove_rotation(2).await.unwrap());
    assert!(!store.remove_rotation(2).await.unwrap());
    assert_eq!(store.rota(now).await.unwrap().rotations, vec![reordered]);
}

async fn overrides_are_kept_once_by_start_until_they_end<S: RotaStore>(store: &S) {
    let later = cover(1, LEE, "2026-03-21T08:00:00Z", "2026-03-21T20:00:00Z");
    let sooner = cover(2, KIM, "2026-03-20T18:00:00Z", "2026-03-22T18:00:00Z");
    assert!(store.add_override(&later).await.unwrap());
    assert!(store.add_override(&sooner).await.unwrap());
    assert!(!store.add_override(&later).await.unwrap());
    let now = at("2026-03-20T12:00:00Z");
    assert_eq!(
        store.rota(now).await.unwrap().overrides,
        vec![sooner.clone(), later.clone()]
    );
    // Once an override is over it is no longer part of the rota.
    let after_later = at("2026-03-21T20:00:00Z");
    assert_eq!(
        store.rota(after_later).await.unwrap().overrides,
        vec![sooner.clone()]
    );
    assert!(store.remove_override(&sooner.id).await.unwrap());
    assert!(!store.remove_override(&sooner.id).await.unwrap());
    assert_eq!(store.rota(now).await.unwrap().overrides, vec![later]);
}

async fn the_stored_rota_hands_over_at_local_time_across_a_dst_change<S: RotaStore>(store: &S) {
    // London moves to summer time on Sunday 29 March 2026: the Monday
    // 09:00 hand-over is then at 08:00 UTC.
    store
        .put_rotation(&weekly(
            1,
            &[SAM, KIM],
            "Mon 09:00",
            "Europe/London",
            "2026-03-16",
        ))
        .await
        .unwrap();
    let rota = store.rota(at("2026-03-30T07:00:00Z")).await.unwrap();
    let before = rota.on_shift(1, at("2026-03-30T07:59:00Z")).unwrap();
    let after = rota.on_shift(1, at("2026-03-30T08:00:00Z")).unwrap();
    assert_eq!(before.phone, phone(KIM));
    assert_eq!(after.phone, phone(SAM));
    assert_eq!(after.starts, at("2026-03-30T08:00:00Z"));
    // The shift that starts then is announced once.
    assert!(store.claim_shift_notice(&after).await.unwrap());
    assert!(!store.claim_shift_notice(&after).await.unwrap());
    assert!(store.claim_shift_notice(&before).await.unwrap());
}

async fn one_of_many_concurrent_claims_announces_a_shift<S: RotaStore + Clone + 'static>(
    store: &S,
) {
    store
        .put_rotation(&weekly(1, &[SAM], "Mon 09:00", "UTC", "2026-03-16"))
        .await
        .unwrap();
    let now = at("2026-03-17T10:00:00Z");
    let shift = store.rota(now).await.unwrap().on_shift(1, now).unwrap();
    let won = support::concurrent_wins(6, || {
        let store = store.clone();
        let shift = shift.clone();
        async move { store.claim_shift_notice(&shift).await.unwrap() }
    })
    .await;
    assert_eq!(won, 1);
}

builders::on_both_stores!(
    "rota",
    [
        rotations_are_kept_per_tier_and_replaced,
        overrides_are_kept_once_by_start_until_they_end,
        the_stored_rota_hands_over_at_local_time_across_a_dst_change,
        one_of_many_concurrent_claims_announces_a_shift,
    ]
);
