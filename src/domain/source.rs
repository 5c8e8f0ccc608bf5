//! The health of each source that feeds a watch: one source per watch and
//! polled platform, with its cursor, its failures and its alarm.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::Platform;

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

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }
}
