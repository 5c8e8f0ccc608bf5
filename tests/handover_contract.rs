//! PASS offers, owner transfers and chain notices: the embedded SQLite
//! store and DynamoDB (on a real moto server) keep them the same way.

use crate::builders;
use crate::support;

use support::at;
use support::contract;

use earshot::domain::{MentionId, PhoneNumber, Platform};
use earshot::ports::{Acknowledged, ChainNews, FollowUpStore, HandOverStore, Offer, Ownership};

fn person(name: &str, phone: &str, when: &str) -> Ownership {
    Ownership {
        name: name.into(),
        phone: PhoneNumber::parse(phone).unwrap(),
        at: at(when),
    }
}

fn sam() -> Ownership {
    person("Sam", "+15555550100", "2026-11-24T10:01:00Z")
}

fn kim() -> Ownership {
    person("Kim", "+15555550101", "2026-11-24T10:05:00Z")
}

async fn an_offer_is_kept_per_alert_and_a_newer_one_replaces_it<S: HandOverStore>(store: &S) {
    let mention = MentionId::new(Platform::X, "1");
    assert_eq!(store.offer_of(&mention).await.unwrap(), None);
    let to_kim = Offer {
        mention: mention.clone(),
        to: kim().phone,
        from: sam(),
        at: at("2026-11-24T10:02:00Z"),
    };
    store.offer(&to_kim).await.unwrap();
    assert_eq!(
        store.offer_of(&mention).await.unwrap(),
        Some(to_kim.clone())
    );
    let to_lee = Offer {
        to: PhoneNumber::parse("+15555550102").unwrap(),
        at: at("2026-11-24T10:03:00Z"),
        ..to_kim
    };
    store.offer(&to_lee).await.unwrap();
    assert_eq!(store.offer_of(&mention).await.unwrap(), Some(to_lee));
    let other = MentionId::new(Platform::X, "2");
    assert_eq!(store.offer_of(&other).await.unwrap(), None);
}

async fn an_alert_moves_only_from_its_current_owner<S: HandOverStore + FollowUpStore>(store: &S) {
    let mention = MentionId::new(Platform::X, "1");
    // Nobody owns it yet: nothing to move.
    assert!(!store.transfer(&mention, &sam(), &kim()).await.unwrap());
    assert_eq!(
        store.acknowledge(&mention, &sam()).await.unwrap(),
        Acknowledged::Won
    );
    store
        .offer(&Offer {
            mention: mention.clone(),
            to: kim().phone,
            from: sam(),
            at: at("2026-11-24T10:02:00Z"),
        })
        .await
        .unwrap();
    assert!(store.transfer(&mention, &sam(), &kim()).await.unwrap());
    assert_eq!(store.owner(&mention).await.unwrap(), Some(kim()));
    // The offer is used up, and Sam no longer holds the alert to pass it.
    assert_eq!(store.offer_of(&mention).await.unwrap(), None);
    let lee = person("Lee", "+15555550102", "2026-11-24T10:06:00Z");
    assert!(!store.transfer(&mention, &sam(), &lee).await.unwrap());
    assert_eq!(store.owner(&mention).await.unwrap(), Some(kim()));
}

async fn the_chain_hears_each_news_once<S: HandOverStore>(store: &S) {
    // (alert, news, whether this claim is the one that tells the chain)
    let claims = [
        ("1", ChainNews::Taken, true),
        ("1", ChainNews::Taken, false),
        ("1", ChainNews::Closed, true),
        ("2", ChainNews::Taken, true),
    ];
    for (alert, news, tells) in claims {
        let mention = MentionId::new(Platform::X, alert);
        assert_eq!(
            store.claim_chain_news(&mention, news).await.unwrap(),
            tells,
            "alert {alert}, {news:?}"
        );
    }
}

builders::on_both_stores!(
    "handover",
    [
        an_offer_is_kept_per_alert_and_a_newer_one_replaces_it,
        an_alert_moves_only_from_its_current_owner,
        the_chain_hears_each_news_once,
    ]
);
