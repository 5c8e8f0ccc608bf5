//! The watch list, cached for the functions that read it on every delivery.

use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};

use crate::domain::Watch;
use crate::domain::triage::TriageSettings;
use crate::ports::{StoreError, WatchStore};

/// How long the watch list is reused before it is read again.
const WATCH_CACHE_TTL: Duration = Duration::seconds(60);

/// When the watch list was read, and what it held.
type ReadWatches = (DateTime<Utc>, Arc<Vec<Watch>>);

/// The watches, read from the store at most once a minute, so the webhook
/// and the ingest path do not query them for every delivery and post. A
/// watch added or changed applies within the minute.
pub struct WatchCache {
    store: Arc<dyn WatchStore>,
    cached: Mutex<Option<ReadWatches>>,
}

impl WatchCache {
    pub fn new(store: Arc<dyn WatchStore>) -> Self {
        Self {
            store,
            cached: Mutex::new(None),
        }
    }

    /// Every watch, as read within the last minute.
    pub async fn all(&self, now: DateTime<Utc>) -> Result<Arc<Vec<Watch>>, StoreError> {
        if let Some((read_at, watches)) = self.lock().as_ref()
            && now - *read_at < WATCH_CACHE_TTL
        {
            return Ok(watches.clone());
        }
        let watches = Arc::new(self.store.watches().await?);
        *self.lock() = Some((now, watches.clone()));
        Ok(watches)
    }

    /// The brand's own triage settings, if its watch has any.
    pub async fn triage_settings(
        &self,
        brand: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<TriageSettings>, StoreError> {
        Ok(self
            .all(now)
            .await?
            .iter()
            .find(|watch| watch.brand == brand)
            .and_then(|watch| watch.triage.clone()))
    }

    fn lock(&self) -> MutexGuard<'_, Option<ReadWatches>> {
        self.cached
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// Counts reads, so the test can see when the cache goes to the store.
    struct CountingWatches {
        reads: std::sync::atomic::AtomicUsize,
        watches: Vec<Watch>,
    }

    #[async_trait::async_trait]
    impl WatchStore for CountingWatches {
        async fn put_watch(&self, _: &Watch) -> Result<(), StoreError> {
            unreachable!("the cache only reads")
        }
        async fn watches(&self) -> Result<Vec<Watch>, StoreError> {
            self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(self.watches.clone())
        }
        async fn watch(&self, _: &str) -> Result<Option<Watch>, StoreError> {
            unreachable!("the cache reads the whole list")
        }
        async fn remove_watch(&self, _: &str) -> Result<bool, StoreError> {
            unreachable!("the cache only reads")
        }
    }

    #[tokio::test]
    async fn the_watch_list_is_read_once_a_minute_and_serves_settings() {
        let mut tuned = Watch::new(
            "Northwind",
            "northwind",
            vec![],
            vec![],
            at("2026-11-24T08:00:00Z"),
        )
        .unwrap();
        tuned.triage = Some(TriageSettings {
            vip_authors: vec!["dana".into()],
            ..TriageSettings::default()
        });
        let store = Arc::new(CountingWatches {
            reads: Default::default(),
            watches: vec![tuned],
        });
        let cache = WatchCache::new(store.clone());
        let t0 = at("2026-11-24T10:00:00Z");
        assert_eq!(cache.all(t0).await.unwrap().len(), 1);
        let settings = cache
            .triage_settings("Northwind", t0 + Duration::seconds(30))
            .await
            .unwrap();
        assert_eq!(settings.unwrap().vip_authors, vec!["dana"]);
        assert_eq!(
            cache
                .triage_settings("Other", t0 + Duration::seconds(59))
                .await
                .unwrap(),
            None
        );
        assert_eq!(store.reads.load(std::sync::atomic::Ordering::SeqCst), 1);
        cache.all(t0 + Duration::seconds(60)).await.unwrap();
        assert_eq!(
            store.reads.load(std::sync::atomic::Ordering::SeqCst),
            2,
            "read again after a minute"
        );
    }
}
