//! Who is on call, as paging sees it: the roster with each rotating tier
//! given to whoever is on shift. A warm instance reuses what it read for a
//! few seconds, so an urgent post costs no roster or rota reads while posts
//! keep coming.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Duration, Utc};

use crate::domain::OnCallContact;
use crate::domain::rota::Rota;
use crate::ports::{RosterStore, RotaStore, StoreError};

/// How long a read of the roster and rota is reused. A change (a STOP, a
/// phone added, a rota override) reaches paging within this time; the
/// carrier itself refuses SMS to a number that opted out.
const REUSE_FOR: Duration = Duration::seconds(10);

/// The roster as paging sees it at `now`, read afresh: each tier with a
/// rota is whoever is on shift. For what must see a change at once (reach,
/// escalation, staff replies).
pub async fn on_call_at(
    roster: &dyn RosterStore,
    rota: &dyn RotaStore,
    now: DateTime<Utc>,
) -> Result<Vec<OnCallContact>, StoreError> {
    let contacts = roster.contacts().await?;
    Ok(rota.rota(now).await?.assign(&contacts, now))
}

/// The roster and rota as one instance last read them.
#[derive(Default)]
pub struct OnCallCache(Mutex<Option<OnCallRead>>);

#[derive(Clone)]
struct OnCallRead {
    at: DateTime<Utc>,
    contacts: Arc<Vec<OnCallContact>>,
    rota: Arc<Rota>,
}

impl OnCallCache {
    /// The on-call contacts at `now`, from a read at most [`REUSE_FOR`] old.
    pub async fn on_call_at(
        &self,
        roster: &dyn RosterStore,
        rota: &dyn RotaStore,
        now: DateTime<Utc>,
    ) -> Result<Vec<OnCallContact>, StoreError> {
        let read = match self.fresh_at(now) {
            Some(read) => read,
            None => {
                let read = OnCallRead {
                    at: now,
                    contacts: Arc::new(roster.contacts().await?),
                    rota: Arc::new(rota.rota(now).await?),
                };
                *self.lock() = Some(read.clone());
                read
            }
        };
        Ok(read.rota.assign(&read.contacts, now))
    }

    fn fresh_at(&self, now: DateTime<Utc>) -> Option<OnCallRead> {
        // A clock that went back (a test, a replay) reads again too.
        self.lock()
            .as_ref()
            .filter(|read| now >= read.at && now - read.at < REUSE_FOR)
            .cloned()
    }

    fn lock(&self) -> MutexGuard<'_, Option<OnCallRead>> {
        // The slot holds a plain value: one a panicking writer left is whole.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(all(test, feature = "embedded"))]
mod tests {
    use super::*;
    use crate::adapters::embedded::EmbeddedStore;
    use crate::domain::PhoneNumber;

    fn contact(name: &str, phone: &str) -> OnCallContact {
        let added_at = "2026-11-24T09:00:00Z".parse().unwrap();
        OnCallContact::new(name, PhoneNumber::parse(phone).unwrap(), added_at)
    }

    /// Who joins the roster (name, phone), the time paging looks, whom it
    /// sees, and why.
    type Step = (
        Option<(&'static str, &'static str)>,
        &'static str,
        &'static [&'static str],
        &'static str,
    );

    #[tokio::test]
    async fn a_roster_change_reaches_paging_within_seconds() {
        let store = EmbeddedStore::in_memory().unwrap();
        let cache = OnCallCache::default();
        let steps: [Step; 4] = [
            (
                Some(("Sam", "+15555550100")),
                "10:00:00",
                &["Sam"],
                "first read",
            ),
            (
                Some(("Kim", "+15555550101")),
                "10:00:09",
                &["Sam"],
                "reused for ten seconds",
            ),
            (None, "10:00:10", &["Kim", "Sam"], "read again after them"),
            (
                Some(("Ana", "+15555550102")),
                "10:00:05",
                &["Ana", "Kim", "Sam"],
                "a clock that went back reads again",
            ),
        ];
        for (joins, time, expected, why) in steps {
            if let Some((name, phone)) = joins {
                store.put_contact(&contact(name, phone)).await.unwrap();
            }
            let now = format!("2026-11-24T{time}Z").parse().unwrap();
            let on_call = cache.on_call_at(&store, &store, now).await.unwrap();
            let mut names: Vec<_> = on_call.into_iter().map(|c| c.name).collect();
            names.sort();
            assert_eq!(names, expected, "{why}");
        }
    }
}
