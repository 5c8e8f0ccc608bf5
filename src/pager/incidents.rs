//! Bursts: where an urgent post stands among the brand's recent similar
//! urgent posts, so that a flood pages once as an incident. Judged against
//! the brand's burst log: one conditional write when this instance wrote
//! it last or the brand has none, two otherwise, whatever the traffic.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tracing::warn;

use super::Pager;
use crate::domain::Mention;
pub use crate::domain::incident::Burst;
use crate::domain::incident::topic_words;
use crate::ports::{Saved, StoreError, VersionedLog};

/// Writers racing for one brand's log at once: past this many, the post
/// pages on its own rather than wait.
const LOG_TRIES: usize = 5;

/// The burst logs this warm instance last wrote, by brand: a write that
/// starts from one needs no read first while no other instance wrote since
/// (the version check tells).
#[derive(Default)]
pub struct LastWritten(Mutex<HashMap<String, VersionedLog>>);

impl LastWritten {
    fn get(&self, brand: &str) -> Option<VersionedLog> {
        self.lock().get(brand).cloned()
    }

    fn keep(&self, brand: &str, written: VersionedLog) {
        self.lock().insert(brand.to_owned(), written);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, VersionedLog>> {
        // The map holds plain values: one a panicking writer left is whole.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Pager {
    /// Alone, the one that makes (or updates) an incident, or one more
    /// folded into it. A retry of the same post gets the same answer.
    pub async fn burst_of(
        &self,
        mention: &Mention,
        reasons: &[String],
    ) -> Result<Burst, StoreError> {
        let now = self.clock.now();
        let brand = &mention.brand;
        let words = topic_words(&mention.text, brand);
        // What this instance wrote last, or a guess that the brand has no
        // log yet; a stale guess is answered with the stored log.
        let mut read = self.last_written_bursts.get(brand).unwrap_or_default();
        for _ in 0..LOG_TRIES {
            // Admitted already, by an earlier attempt whose answer was lost.
            if let Some(burst) = read.log.verdict_of(&mention.id) {
                return Ok(burst.clone());
            }
            let mut next = read.clone();
            let burst = next.log.admit(&mention.id, now, words.clone(), reasons);
            match self.bursts.save_burst_log(brand, &next).await? {
                Saved::Written => {
                    next.version += 1;
                    self.last_written_bursts.keep(brand, next);
                    return Ok(burst);
                }
                // Another writer got there first (or wrote since this
                // instance did): start again from what is stored.
                Saved::Stale(stored) => read = stored,
            }
        }
        // Paging one post too many beats holding an urgent one back.
        warn!(%brand, "burst log busy; the post pages on its own");
        Ok(Burst::Alone)
    }
}

#[cfg(all(test, feature = "embedded"))]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;
    use chrono::{DateTime, Duration, Utc};

    use super::*;
    use crate::adapters::embedded::{EmbeddedStore, OutboxSms};
    use crate::domain::{Author, Clock, MentionId, Platform, Voice};
    use crate::ports::{BurstLogStore, SmsLimits};

    /// The embedded store, counting the burst-log calls made to it.
    struct Counting {
        store: EmbeddedStore,
        calls: AtomicUsize,
    }

    #[async_trait]
    impl BurstLogStore for Counting {
        async fn save_burst_log(
            &self,
            brand: &str,
            read: &VersionedLog,
        ) -> Result<Saved, StoreError> {
            self.calls.fetch_add(1, Ordering::Relaxed);
            self.store.save_burst_log(brand, read).await
        }
    }

    fn counted() -> (EmbeddedStore, Arc<Counting>) {
        let store = EmbeddedStore::in_memory().unwrap();
        let bursts = Arc::new(Counting {
            store: store.clone(),
            calls: AtomicUsize::new(0),
        });
        (store, bursts)
    }

    fn now() -> DateTime<Utc> {
        "2026-11-24T09:00:00Z".parse().unwrap()
    }

    /// A pager of its own, as each warm instance has, over shared stores.
    fn instance(store: &EmbeddedStore, bursts: &Arc<Counting>) -> Pager {
        let clock = Clock::Fixed(now());
        Pager {
            store: Arc::new(store.clone()),
            roster: Arc::new(store.clone()),
            rota: Arc::new(store.clone()),
            on_call: Default::default(),
            follow_up: Arc::new(store.clone()),
            sms: Arc::new(OutboxSms::new(store.clone(), false, clock)),
            budget: Arc::new(store.clone()),
            limits: SmsLimits::default(),
            bursts: bursts.clone(),
            last_written_bursts: Default::default(),
            delivery_lease: Duration::seconds(15),
            clock,
        }
    }

    fn stranded(n: u32) -> Mention {
        Mention {
            id: MentionId::new(Platform::X, &n.to_string()),
            platform: Platform::X,
            url: format!("https://x.com/p/status/{n}"),
            author: Author {
                id: n.to_string(),
                handle: format!("passenger{n}"),
                display_name: None,
                followers: None,
            },
            text: format!("flight NW418 cancelled, stranded at gate B12 overnight ({n})"),
            created_at: now(),
            received_at: now(),
            in_reply_to: None,
            quotes: None,
            brand: "NorthwindAir".into(),
            voice: Voice::Customer,
        }
    }

    #[tokio::test]
    async fn each_post_costs_one_write_while_this_instance_wrote_the_log_last() {
        let (store, bursts) = counted();
        let pager = instance(&store, &bursts);
        assert_eq!(
            pager.burst_of(&stranded(1), &[]).await.unwrap(),
            Burst::Alone
        );
        assert_eq!(
            pager.burst_of(&stranded(2), &[]).await.unwrap(),
            Burst::Alone
        );
        assert!(matches!(
            pager.burst_of(&stranded(3), &[]).await.unwrap(),
            Burst::Page(_)
        ));
        assert_eq!(
            bursts.calls.load(Ordering::Relaxed),
            3,
            "one write a post, none read"
        );
    }

    #[tokio::test]
    async fn a_log_another_instance_wrote_since_is_read_again_and_nothing_is_lost() {
        let (store, bursts) = counted();
        let (one, other) = (instance(&store, &bursts), instance(&store, &bursts));
        one.burst_of(&stranded(1), &[]).await.unwrap();
        other.burst_of(&stranded(2), &[]).await.unwrap();
        // `one` last wrote version 1; the log is at 2 now, with both posts.
        let third = one.burst_of(&stranded(3), &[]).await.unwrap();
        let Burst::Page(incident) = third else {
            panic!("the third similar post is the incident: {third:?}");
        };
        assert_eq!(incident.posts, 3);
        // 1 for the first post; 2 for each of the others, whose first
        // write was stale and answered with the stored log.
        assert_eq!(bursts.calls.load(Ordering::Relaxed), 5);
        // A retry of a post either instance admitted gets its first answer.
        assert_eq!(
            other.burst_of(&stranded(1), &[]).await.unwrap(),
            Burst::Alone
        );
    }
}
