//! The poll function: for every watch and platform it is enabled on, read
//! what is new since the saved cursor, page by the platform's rules, and
//! ingest each post through the same path as webhooks.
//!
//! No mention is lost: a cursor moves only once every post up to it is
//! stored, and paging in progress is saved page by page, so a crash, a
//! timeout or a 5xx means the next run reads the same posts again and
//! dedupe absorbs them. A rate-limited source waits for its reset while the
//! others go on, and the run starts nothing new close to its deadline.

pub mod setup;

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;
use tracing::{error, info, warn};

use crate::domain::{HealthPolicy, Resume, SourceKey, SourceState, Watch};
use crate::domain::{Mention, Platform};
use crate::ingest::Ingestor;
use crate::ports::{SourceStore, StoreError, WatchStore};
use crate::sms::texts;

pub use crate::ports::search::{FetchError, Page, PageRequest, SearchSource};

/// How far back the first run of a new source reads.
pub const FIRST_RUN_LOOKBACK: Duration = Duration::hours(24);
/// Pages one source may read in one run, so one busy source cannot use up
/// the run; the rest is picked up next run from the saved position.
pub const MAX_PAGES_PER_RUN: usize = 10;
/// Time kept free before the deadline: no new request starts inside it.
pub const DEADLINE_MARGIN: StdDuration = StdDuration::from_secs(3);
pub use crate::platforms::http::DEFAULT_BACKOFF;

#[derive(Debug, Error)]
pub enum PollError {
    #[error("the event is not a schedule or a {{\"watch\": \"<brand>\"}} request")]
    BadEvent,
    #[error("no watch named {0:?}")]
    UnknownWatch(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a run was asked to do.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PollRequest {
    /// Only this watch; all of them when `None`.
    pub watch: Option<String>,
}

impl PollRequest {
    /// Reads the Lambda event: an EventBridge Scheduler input (any object,
    /// usually `{}`), an EventBridge rule's `Scheduled Event`, or
    /// `{"watch": "<brand>"}` to poll one watch.
    pub fn from_event(event: &Value) -> Result<Self, PollError> {
        let Value::Object(fields) = event else {
            return match event {
                Value::Null => Ok(Self::default()),
                _ => Err(PollError::BadEvent),
            };
        };
        match fields.get("watch") {
            None | Some(Value::Null) => Ok(Self::default()),
            Some(Value::String(brand)) if !brand.trim().is_empty() => Ok(Self {
                watch: Some(brand.trim().to_owned()),
            }),
            Some(_) => Err(PollError::BadEvent),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceStatus {
    /// Read up to the newest post.
    Done,
    /// Pages remain; the position is saved for the next run.
    More,
    /// Waiting for the platform's rate-limit reset.
    Limited,
    Failed,
    /// Not started: the run was close to its deadline.
    Deferred,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    pub brand: String,
    pub platform: Platform,
    pub status: SourceStatus,
    pub pages: usize,
    pub stored: usize,
    pub duplicates: usize,
    pub rejected: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PollSummary {
    pub sources: Vec<SourceReport>,
    /// Health SMS handed to the carrier in this run.
    pub health_sms: usize,
    /// True when the deadline stopped the run before every source was done.
    pub cut_short: bool,
}

pub struct Poller {
    pub watches: Arc<dyn WatchStore>,
    pub sources: Arc<dyn SourceStore>,
    pub ingestor: Ingestor,
    pub platforms: Vec<Arc<dyn SearchSource>>,
    pub health: HealthPolicy,
}

/// How a source's run ended, before health is judged.
enum Ending {
    Done,
    More,
    Limited(DateTime<Utc>),
    Failed(String),
    Deferred,
}

impl Poller {
    /// Polls every source once, or until `deadline` is near.
    #[tracing::instrument(skip_all, fields(watch = ?request.watch))]
    pub async fn run(
        &self,
        request: &PollRequest,
        deadline: Instant,
    ) -> Result<PollSummary, PollError> {
        let watches = match &request.watch {
            Some(brand) => vec![
                self.watches
                    .watch(brand)
                    .await?
                    .ok_or_else(|| PollError::UnknownWatch(brand.clone()))?,
            ],
            None => self.watches.watches().await?,
        };
        let mut work = Vec::new();
        for watch in &watches {
            for source in &self.platforms {
                if !watch.polls(source.platform()) {
                    continue;
                }
                let key = SourceKey {
                    brand: watch.brand.clone(),
                    platform: source.platform(),
                };
                let state = self
                    .sources
                    .source(&key)
                    .await?
                    .unwrap_or_else(|| SourceState::new(key));
                work.push((watch, source.clone(), state));
            }
        }
        // The source that waited longest goes first, so a slow one cannot
        // starve the others run after run.
        work.sort_by_key(|(_, _, state)| last_attempt(state));

        let mut summary = PollSummary::default();
        for (watch, source, state) in work {
            let report = self
                .poll_source(watch, source.as_ref(), state, deadline, &mut summary)
                .await;
            if report.status == SourceStatus::Deferred {
                summary.cut_short = true;
            }
            summary.sources.push(report);
        }
        info!(
            sources = summary.sources.len(),
            cut_short = summary.cut_short,
            health_sms = summary.health_sms,
            "poll finished"
        );
        Ok(summary)
    }

    #[tracing::instrument(skip_all, fields(source = %state.key))]
    async fn poll_source(
        &self,
        watch: &Watch,
        source: &dyn SearchSource,
        mut state: SourceState,
        deadline: Instant,
        summary: &mut PollSummary,
    ) -> SourceReport {
        let mut report = SourceReport {
            brand: watch.brand.clone(),
            platform: source.platform(),
            status: SourceStatus::Done,
            pages: 0,
            stored: 0,
            duplicates: 0,
            rejected: 0,
            error: None,
            not_before: None,
        };
        let now = self.ingestor.clock.now();
        if let Some(until) = state.not_before.filter(|until| *until > now) {
            report.status = SourceStatus::Limited;
            report.not_before = Some(until);
            return report;
        }
        state.not_before = None;

        let ending = self
            .read_pages(watch, source, &mut state, deadline, &mut report)
            .await;
        let now = self.ingestor.clock.now();
        report.status = match &ending {
            Ending::Done => SourceStatus::Done,
            Ending::More => SourceStatus::More,
            Ending::Limited(_) => SourceStatus::Limited,
            Ending::Failed(_) => SourceStatus::Failed,
            Ending::Deferred => SourceStatus::Deferred,
        };
        match ending {
            Ending::Done | Ending::More => state.succeeded(now),
            Ending::Limited(until) => {
                state.not_before = Some(until);
                report.not_before = Some(until);
            }
            Ending::Failed(reason) => {
                warn!(error = %reason, failures = state.consecutive_failures + 1, "source failed");
                state.failed(&reason, now);
                report.error = Some(reason);
            }
            Ending::Deferred => {}
        }
        if report.stored > 0 {
            state.saw_new_mentions(report.stored as u64, now);
        }
        if let Err(err) = self.sources.save_source(&state).await {
            error!(error = %err, "source state not saved");
            report.status = SourceStatus::Failed;
            report.error = Some("source state not saved".into());
            return report;
        }
        if report.status != SourceStatus::Deferred {
            summary.health_sms += self.judge_health(&state, now).await;
        }
        report
    }

    /// Reads and stores pages until the source is done, limited, failing,
    /// or the run must stop. Saves the position after every stored page.
    async fn read_pages(
        &self,
        watch: &Watch,
        source: &dyn SearchSource,
        state: &mut SourceState,
        deadline: Instant,
        report: &mut SourceReport,
    ) -> Ending {
        for _ in 0..MAX_PAGES_PER_RUN {
            let Some(timeout) = time_left(deadline) else {
                return Ending::Deferred;
            };
            let now = self.ingestor.clock.now();
            let request = PageRequest {
                watch,
                cursor: state.cursor.as_deref(),
                page: state.resume.as_ref().map(|r| r.page.as_str()),
                horizon: now - FIRST_RUN_LOOKBACK,
                now,
                timeout,
            };
            let page = match source.fetch(&request).await {
                Ok(page) => page,
                Err(FetchError::RateLimited { until }) => return Ending::Limited(until),
                Err(FetchError::Timeout) if time_left(deadline).is_none() => {
                    return Ending::Deferred;
                }
                Err(err) => {
                    // A page token the platform no longer accepts: start
                    // again from the cursor, which has not moved.
                    if matches!(
                        err,
                        FetchError::Status {
                            status: 400..=410,
                            ..
                        }
                    ) {
                        state.resume = None;
                    }
                    return Ending::Failed(err.to_string());
                }
            };
            report.pages += 1;
            report.rejected += page.rejected;
            if let Err(reason) = self.ingest_page(page.mentions, report).await {
                return Ending::Failed(reason);
            }
            let newest = match &state.resume {
                Some(resume) => resume.newest.clone(),
                None => page.newest.clone(),
            };
            match page.next {
                Some(next) => {
                    state.resume = Some(Resume { page: next, newest });
                }
                None => {
                    if newest.is_some() {
                        state.cursor = newest;
                    }
                    state.resume = None;
                }
            }
            if let Some(until) = page.exhausted_until {
                return Ending::Limited(until);
            }
            if state.resume.is_none() {
                return Ending::Done;
            }
            // Keep the position: a crash now re-reads from this page.
            if let Err(err) = self.sources.save_source(state).await {
                return Ending::Failed(format!("position not saved: {err}"));
            }
        }
        Ending::More
    }

    /// Ingests every post on the page; fails if any could not be stored or
    /// alerted, after trying all of them.
    async fn ingest_page(
        &self,
        mentions: Vec<Mention>,
        report: &mut SourceReport,
    ) -> Result<(), String> {
        let mut failure = None;
        for mention in mentions {
            match self.ingestor.ingest(mention).await {
                Ok(outcome) if outcome.duplicate => report.duplicates += 1,
                Ok(_) => report.stored += 1,
                Err(err) => {
                    error!(error = %err, "ingest failed");
                    failure.get_or_insert_with(|| format!("ingest failed: {err}"));
                }
            }
        }
        failure.map_or(Ok(()), Err)
    }

    /// Raises or clears the source's alarm and texts the roster once per
    /// change; returns the SMS sent.
    async fn judge_health(&self, state: &SourceState, now: DateTime<Utc>) -> usize {
        let wanted = self.health.assess(state, now);
        let key = &state.key;
        let text = match (wanted, state.alarm) {
            (Some(alarm), None) => match self.sources.raise_alarm(key, alarm, now).await {
                Ok(true) => {
                    // The deployment counts this line as the source-health metric.
                    warn!(brand = %key.brand, platform = %key.platform, "source health alarm raised");
                    texts::source_alarm(state, alarm)
                }
                Ok(false) => return 0,
                Err(err) => {
                    error!(error = %err, "alarm not raised");
                    return 0;
                }
            },
            (None, Some(_)) => match self.sources.clear_alarm(key).await {
                Ok(true) => {
                    info!(brand = %key.brand, platform = %key.platform, "source health alarm cleared");
                    texts::source_recovered(key)
                }
                Ok(false) => return 0,
                Err(err) => {
                    error!(error = %err, "alarm not cleared");
                    return 0;
                }
            },
            _ => return 0,
        };
        self.ingestor.pager.tell_first_tier(&text).await
    }
}

fn last_attempt(state: &SourceState) -> Option<DateTime<Utc>> {
    state.last_success.max(state.last_error_at)
}

/// The time a new request may take, or `None` if none should start.
fn time_left(deadline: Instant) -> Option<StdDuration> {
    deadline
        .checked_duration_since(Instant::now())
        .and_then(|left| left.checked_sub(DEADLINE_MARGIN))
        .filter(|left| !left.is_zero())
}

/// The Lambda deadline as an `Instant`.
pub fn deadline_from(at: std::time::SystemTime) -> Instant {
    let left = at
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    Instant::now() + left
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schedules_and_single_watch_requests_are_accepted() {
        assert_eq!(
            PollRequest::from_event(&json!({})).unwrap(),
            PollRequest::default()
        );
        let rule = json!({"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
        assert_eq!(
            PollRequest::from_event(&rule).unwrap(),
            PollRequest::default()
        );
        assert_eq!(
            PollRequest::from_event(&json!({"watch": "Northwind"})).unwrap(),
            PollRequest {
                watch: Some("Northwind".into())
            }
        );
        assert!(PollRequest::from_event(&json!({"watch": 3})).is_err());
        assert!(PollRequest::from_event(&json!([1])).is_err());
    }

    #[test]
    fn nothing_starts_inside_the_margin() {
        assert!(time_left(Instant::now()).is_none());
        assert!(time_left(Instant::now() + DEADLINE_MARGIN).is_none());
        assert!(time_left(Instant::now() + StdDuration::from_secs(60)).is_some());
    }
}
