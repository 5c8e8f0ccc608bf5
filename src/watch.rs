//! Watches (the brands Earshot listens for) and the health of each source
//! that feeds them: one source per watch and polled platform.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::domain::Platform;
use crate::domain::reply_template::ReplyTemplate;
use crate::domain::triage::TriageSettings;
use crate::ports::{StoreError, WatchStore};

/// The platforms Earshot can poll by search. Facebook and Instagram only
/// arrive by webhook.
pub const POLLED_PLATFORMS: [Platform; 4] = [
    Platform::X,
    Platform::Bluesky,
    Platform::Mastodon,
    Platform::Reddit,
];

pub fn parse_platform(raw: &str) -> Option<Platform> {
    let raw = raw.trim().to_ascii_lowercase();
    [
        Platform::X,
        Platform::Bluesky,
        Platform::Mastodon,
        Platform::Reddit,
        Platform::Facebook,
        Platform::Instagram,
    ]
    .into_iter()
    .find(|p| p.key() == raw)
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum WatchError {
    #[error("brand name must be 1 to 64 characters without `#`")]
    BadBrand,
    #[error("the search query must not be empty")]
    EmptyQuery,
    #[error("`{0}` is not a platform Earshot polls (x, bluesky, mastodon, reddit)")]
    NotPolled(String),
    #[error("`{0}` is not an account: write <platform>:<id>, e.g. x:2244994945")]
    BadAccount(String),
}

/// One of the brand's own accounts: its posts are the brand's voice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub platform: Platform,
    /// The platform's id or handle for the account (X user id, Bluesky DID
    /// or handle, Mastodon acct, Reddit username, Facebook Page or
    /// Instagram account id).
    pub id: String,
}

impl Account {
    pub fn parse(raw: &str) -> Result<Self, WatchError> {
        let bad = || WatchError::BadAccount(raw.to_owned());
        let (platform, id) = raw.split_once(':').ok_or_else(bad)?;
        let platform = parse_platform(platform).ok_or_else(bad)?;
        let id = id.trim().trim_start_matches('@');
        if id.is_empty() {
            return Err(bad());
        }
        Ok(Self {
            platform,
            id: id.to_owned(),
        })
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.platform, self.id)
    }
}

/// A brand Earshot listens for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Watch {
    pub brand: String,
    /// The search terms, passed to each platform's search as written.
    pub query: String,
    /// Where the brand is polled.
    pub platforms: Vec<Platform>,
    pub accounts: Vec<Account>,
    pub created_at: DateTime<Utc>,
    /// The brand's own triage settings (urgent terms, VIP authors, reach
    /// and P1 thresholds); the defaults without them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage: Option<TriageSettings>,
    /// The public holding replies the team approved, by number.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reply_templates: Vec<ReplyTemplate>,
}

impl Watch {
    pub fn new(
        brand: &str,
        query: &str,
        platforms: Vec<Platform>,
        accounts: Vec<Account>,
        created_at: DateTime<Utc>,
    ) -> Result<Self, WatchError> {
        let brand = brand.trim();
        if brand.is_empty() || brand.chars().count() > 64 || brand.contains('#') {
            return Err(WatchError::BadBrand);
        }
        if query.trim().is_empty() {
            return Err(WatchError::EmptyQuery);
        }
        if let Some(p) = platforms.iter().find(|p| !POLLED_PLATFORMS.contains(p)) {
            return Err(WatchError::NotPolled(p.key().to_owned()));
        }
        let mut unique = Vec::new();
        for platform in platforms {
            if !unique.contains(&platform) {
                unique.push(platform);
            }
        }
        Ok(Self {
            brand: brand.to_owned(),
            query: query.trim().to_owned(),
            platforms: unique,
            accounts,
            created_at,
            triage: None,
            reply_templates: Vec::new(),
        })
    }

    /// Whether an author is one of the brand's own accounts, by id or
    /// handle (case-insensitive).
    pub fn is_own(&self, platform: Platform, author_id: &str, handle: &str) -> bool {
        self.accounts.iter().any(|a| {
            a.platform == platform
                && (a.id.eq_ignore_ascii_case(author_id) || a.id.eq_ignore_ascii_case(handle))
        })
    }

    pub fn polls(&self, platform: Platform) -> bool {
        self.platforms.contains(&platform)
    }

    pub fn reply_template(&self, number: u32) -> Option<&ReplyTemplate> {
        self.reply_templates.iter().find(|t| t.number == number)
    }
}

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

/// One source: a watch on one platform.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SourceKey {
    pub brand: String,
    pub platform: Platform,
}

impl fmt::Display for SourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.brand, self.platform)
    }
}

/// Paging in progress: where to carry on, and the cursor to save once the
/// last page is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    /// The platform's token for the next (older) page.
    pub page: String,
    /// The newest position seen on the first page.
    pub newest: Option<String>,
}

/// Why a source's health alarm is raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alarm {
    /// Too many failed runs in a row.
    Failing,
    /// No new mention for far longer than usual.
    Silent,
}

impl Alarm {
    pub fn label(self) -> &'static str {
        match self {
            Alarm::Failing => "failing",
            Alarm::Silent => "silent",
        }
    }
}

/// What Earshot remembers about one source between runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceState {
    pub key: SourceKey,
    /// Everything up to this position is stored; the next run reads what
    /// is newer. Its meaning is the platform's (a post id, a time).
    pub cursor: Option<String>,
    #[serde(default)]
    pub resume: Option<Resume>,
    /// Rate limited: no request before this time.
    #[serde(default)]
    pub not_before: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_success: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub last_error_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub consecutive_failures: u32,
    /// When the newest new mention was received from this source.
    #[serde(default)]
    pub last_mention_at: Option<DateTime<Utc>>,
    /// New mentions received so far (for the usual rate).
    #[serde(default)]
    pub mentions_seen: u64,
    /// The usual time between new mentions, in seconds, smoothed.
    #[serde(default)]
    pub usual_gap_secs: Option<i64>,
    /// The raised alarm, if any; set only through the store's conditional
    /// raise/clear so one SMS goes out per change.
    #[serde(default)]
    pub alarm: Option<Alarm>,
}

impl SourceState {
    pub fn new(key: SourceKey) -> Self {
        Self {
            key,
            cursor: None,
            resume: None,
            not_before: None,
            last_success: None,
            last_error: None,
            last_error_at: None,
            consecutive_failures: 0,
            last_mention_at: None,
            mentions_seen: 0,
            usual_gap_secs: None,
            alarm: None,
        }
    }

    /// Counts new mentions received at `at`, updating the usual gap.
    pub fn saw_new_mentions(&mut self, count: u64, at: DateTime<Utc>) {
        if count == 0 {
            return;
        }
        if let Some(last) = self.last_mention_at {
            // The gap since the previous batch, spread over this batch.
            let gap = ((at - last).num_seconds().max(0) / count as i64).max(1);
            self.usual_gap_secs = Some(match self.usual_gap_secs {
                Some(usual) => (usual * 3 + gap) / 4,
                None => gap,
            });
        }
        self.last_mention_at = Some(at);
        self.mentions_seen += count;
    }

    pub fn succeeded(&mut self, at: DateTime<Utc>) {
        self.last_success = Some(at);
        self.consecutive_failures = 0;
    }

    pub fn failed(&mut self, reason: &str, at: DateTime<Utc>) {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        // Errors are stored and texted; keep them short.
        self.last_error = Some(reason.chars().take(300).collect());
        self.last_error_at = Some(at);
    }
}

/// When a source's alarm goes up and comes down.
#[derive(Debug, Clone, Copy)]
pub struct HealthPolicy {
    pub failures_before_alarm: u32,
    /// Silence counts once this many mentions set the usual rate.
    pub min_mentions_for_silence: u64,
    /// Silent when no new mention came for this many usual gaps...
    pub silence_factor: i64,
    /// ...and for at least this long.
    pub min_silence: Duration,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        Self {
            failures_before_alarm: 5,
            min_mentions_for_silence: 10,
            silence_factor: 20,
            min_silence: Duration::hours(6),
        }
    }
}

impl HealthPolicy {
    /// The alarm this state calls for at `now`, if any.
    pub fn assess(&self, state: &SourceState, now: DateTime<Utc>) -> Option<Alarm> {
        if state.consecutive_failures >= self.failures_before_alarm {
            return Some(Alarm::Failing);
        }
        let (Some(last), Some(gap)) = (state.last_mention_at, state.usual_gap_secs) else {
            return None;
        };
        if state.mentions_seen < self.min_mentions_for_silence {
            return None;
        }
        let limit =
            Duration::seconds(gap.saturating_mul(self.silence_factor)).max(self.min_silence);
        (now - last > limit).then_some(Alarm::Silent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn watches_refuse_bad_names_queries_and_platforms() {
        let now = at("2026-11-24T10:00:00Z");
        assert_eq!(
            Watch::new("a#b", "q", vec![], vec![], now).unwrap_err(),
            WatchError::BadBrand
        );
        assert_eq!(
            Watch::new("Northwind", " ", vec![], vec![], now).unwrap_err(),
            WatchError::EmptyQuery
        );
        assert_eq!(
            Watch::new("Northwind", "q", vec![Platform::Facebook], vec![], now).unwrap_err(),
            WatchError::NotPolled("facebook".into())
        );
    }

    #[test]
    fn own_accounts_match_by_id_or_handle() {
        let watch = Watch::new(
            "Northwind",
            "northwind",
            vec![Platform::X, Platform::X],
            vec![
                Account::parse("x:900").unwrap(),
                Account::parse("bluesky:@northwind.example").unwrap(),
            ],
            at("2026-11-24T10:00:00Z"),
        )
        .unwrap();
        assert_eq!(watch.platforms, vec![Platform::X]);
        assert!(watch.is_own(Platform::X, "900", "someone"));
        assert!(watch.is_own(Platform::Bluesky, "did:plc:zz", "Northwind.example"));
        assert!(!watch.is_own(Platform::Mastodon, "900", "northwind.example"));
        assert!(Account::parse("myspace:1").is_err());
        assert!(Account::parse("x:").is_err());
    }

    #[test]
    fn five_failures_in_a_row_raise_the_failing_alarm() {
        let policy = HealthPolicy::default();
        let now = at("2026-11-24T10:00:00Z");
        let mut state = SourceState::new(SourceKey {
            brand: "Northwind".into(),
            platform: Platform::X,
        });
        for _ in 0..4 {
            state.failed("HTTP 503", now);
        }
        assert_eq!(policy.assess(&state, now), None);
        state.failed("HTTP 503", now);
        assert_eq!(policy.assess(&state, now), Some(Alarm::Failing));
        state.succeeded(now);
        assert_eq!(policy.assess(&state, now), None);
    }

    #[test]
    fn silence_counts_only_against_an_established_rate() {
        let policy = HealthPolicy::default();
        let mut state = SourceState::new(SourceKey {
            brand: "Northwind".into(),
            platform: Platform::Reddit,
        });
        let start = at("2026-11-24T00:00:00Z");
        state.saw_new_mentions(1, start);
        assert_eq!(policy.assess(&state, start + Duration::days(3)), None);
        for minute in 1..=12 {
            state.saw_new_mentions(1, start + Duration::minutes(minute));
        }
        let last = start + Duration::minutes(12);
        assert_eq!(state.usual_gap_secs, Some(60));
        assert_eq!(policy.assess(&state, last + Duration::hours(5)), None);
        assert_eq!(
            policy.assess(&state, last + Duration::hours(7)),
            Some(Alarm::Silent)
        );
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
