//! The firehose function: Bluesky's Jetstream read by a scheduled run
//! instead of an always-on server. Each run reads from the stored cursor
//! (unix µs, rewound a few seconds as Jetstream advises) until its
//! deadline, matches every post against the watches, hands matches to the
//! one ingest path, applies edits and deletions to stored posts, and saves
//! the cursor after each batch.
//!
//! No post is lost and none is stored twice: the cursor only moves past
//! frames that were fully handled, a disconnect fails over to the next
//! endpoint from the cursor minus the rewind, and ingest stores each post
//! once however often it is replayed. A cursor that falls behind by more
//! than the configured minutes raises the source-health alarm, once.

pub mod matcher;
pub mod stream;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use thiserror::Error;
use tracing::{debug, error, info, warn};

use crate::adapters::Deps;
use crate::config::{self, ConfigError, FunctionBudget};
use crate::domain::{Alarm, Clock, MentionId, Platform, SourceKey, SourceState};
use crate::ingest::Ingestor;
use crate::pager::AlarmChange;
use crate::platforms::bluesky_profiles::BlueskyProfiles;
use crate::platforms::jetstream::{
    DEFAULT_ENDPOINTS, Event, PostEvent, frame_position, micros, parse_frame, time_of,
};
use crate::ports::{MentionRevisions, Revision, SourceStore, StoreError};
use crate::revision::remove_mention;
use crate::sms::texts;

pub use matcher::WatchMatcher;
pub use stream::{Connector, FrameStream, Next, ReplayConnector, StreamError, WebSocketConnector};

/// The stream's state is kept as a source whose brand no watch can have
/// (brands never contain `#`): one cursor for every watch.
pub const STREAM_BRAND: &str = "#jetstream";

/// The source-state key of the Jetstream cursor.
pub fn stream_key() -> SourceKey {
    SourceKey {
        brand: STREAM_BRAND.to_owned(),
        platform: Platform::Bluesky,
    }
}

/// How far back stored Bluesky posts are remembered, so an edit or a
/// deletion on the stream touches the store only for a post it holds.
const KNOWN_WINDOW: Duration = Duration::hours(48);
const KNOWN_LIMIT: usize = 5_000;
/// How long a matched post waits for its author's profile. Matches are
/// rare and profiles are kept, so this is paid once per new author.
const PROFILE_TIMEOUT: StdDuration = StdDuration::from_secs(2);

#[derive(Debug, Clone)]
pub struct FirehoseSettings {
    /// Off: the run reads nothing and Bluesky is searched instead.
    pub enabled: bool,
    /// Jetstream `/subscribe` URLs, tried in order; the next one takes
    /// over when one fails or drops the connection.
    pub endpoints: Vec<String>,
    /// How far before the cursor a reconnection starts.
    pub rewind: StdDuration,
    /// The lag that raises the source-health alarm.
    pub lag_alarm_after: Duration,
    /// The cursor is saved after this many frames...
    pub save_every: usize,
    /// ...or this much time, whichever comes first.
    pub save_interval: StdDuration,
    pub connect_timeout: StdDuration,
    /// Connections one run may open, counting reconnections.
    pub max_connections: u32,
    /// Reading stops this long before the deadline, to save and report.
    pub margin: StdDuration,
}

impl Default for FirehoseSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            endpoints: DEFAULT_ENDPOINTS.iter().map(|e| (*e).to_owned()).collect(),
            rewind: StdDuration::from_secs(5),
            lag_alarm_after: Duration::minutes(config::DEFAULT_FIREHOSE_LAG_ALARM_MINUTES),
            save_every: 1_000,
            save_interval: StdDuration::from_secs(5),
            connect_timeout: StdDuration::from_secs(10),
            max_connections: 8,
            margin: StdDuration::from_secs(5),
        }
    }
}

impl FirehoseSettings {
    /// The switch from `EARSHOT_BLUESKY_FIREHOSE`, endpoints from
    /// `EARSHOT_JETSTREAM_ENDPOINTS` (comma-separated) and the lag alarm
    /// from `EARSHOT_FIREHOSE_LAG_ALARM_MINUTES`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut settings = Self {
            enabled: config::bluesky_firehose_on()?,
            lag_alarm_after: config::firehose_lag_alarm()?,
            ..Self::default()
        };
        if let Some(endpoints) = config::jetstream_endpoints()? {
            settings.endpoints = endpoints;
        }
        Ok(settings)
    }
}

#[derive(Debug, Error)]
pub enum FirehoseError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a run stopped reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// Its time was up: the usual ending.
    #[default]
    Deadline,
    /// The source has nothing more (a replay file's end).
    Exhausted,
    /// Every connection attempt of the run was used up.
    Unreachable,
    /// A post could not be stored; the next run reads it again.
    IngestFailed,
    /// The cursor could not be saved.
    StoreFailed,
    /// No watch listens on Bluesky.
    NoWatches,
    /// The firehose is switched off (Bluesky is searched instead).
    Disabled,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FirehoseSummary {
    pub ended: Ending,
    pub frames: u64,
    pub posts: u64,
    pub matched: u64,
    pub stored: u64,
    pub duplicates: u64,
    /// Stored posts edited or removed.
    pub revised: u64,
    /// Frames that could not be read; the cursor moves past them.
    pub rejected: u64,
    pub connections: u32,
    pub failed_connections: u32,
    /// Where the next run starts (unix µs).
    pub cursor: Option<i64>,
    /// How far behind real time the cursor is, at the end of the run.
    pub lag_seconds: Option<i64>,
    pub health_sms: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

pub struct Firehose {
    pub sources: Arc<dyn SourceStore>,
    pub revisions: Arc<dyn MentionRevisions>,
    pub ingestor: Ingestor,
    pub connector: Arc<dyn Connector>,
    pub settings: FirehoseSettings,
    /// Where a matched post's author is looked up (handle, name, reach)
    /// before triage; without it, the stream's DID is all that is known.
    pub profiles: Option<BlueskyProfiles>,
}

impl Firehose {
    /// A firehose over `store` (which keeps the cursor) that ingests
    /// through `deps`.
    pub fn new<S, F>(
        deps: &Deps<F>,
        store: S,
        connector: Arc<dyn Connector>,
        settings: FirehoseSettings,
        clock: Clock,
    ) -> Self
    where
        S: SourceStore + 'static,
    {
        Self {
            sources: Arc::new(store),
            revisions: deps.revisions.clone(),
            // A page claimed in a run is held as long as the run may last.
            ingestor: deps.ingestor(clock, FunctionBudget::Firehose),
            connector,
            settings,
            profiles: None,
        }
    }

    /// Looks up each matched post's author in `profiles` before triage.
    pub fn with_profiles(self, profiles: BlueskyProfiles) -> Self {
        Self {
            profiles: Some(profiles),
            ..self
        }
    }
}

/// What one run carries between frames.
struct Run {
    matcher: WatchMatcher,
    /// Stored Bluesky posts, for edits and deletions.
    known: HashSet<MentionId>,
    /// Every frame up to here is handled (unix µs); `None` until the
    /// first frame of a stream that has never been read.
    position: Option<i64>,
    unsaved_frames: usize,
    saved_at: Instant,
    summary: FirehoseSummary,
}

/// How reading one connection ended.
enum Disconnect {
    /// Reconnect (to the next endpoint).
    Dropped(String),
    Stop(Ending),
}

impl Firehose {
    /// Reads the stream until `deadline` (less the margin).
    #[tracing::instrument(skip_all)]
    pub async fn run(&self, deadline: Instant) -> Result<FirehoseSummary, FirehoseError> {
        let started = self.ingestor.clock.now();
        if !self.settings.enabled {
            info!("firehose switched off; Bluesky is searched instead");
            return Ok(FirehoseSummary {
                ended: Ending::Disabled,
                ..FirehoseSummary::default()
            });
        }
        let now = self.ingestor.clock.now();
        let watches = self.ingestor.watches.all(now).await?;
        let matcher = WatchMatcher::new(&watches);
        if matcher.is_empty() {
            info!("no watch listens on Bluesky; firehose not read");
            return Ok(FirehoseSummary {
                ended: Ending::NoWatches,
                ..FirehoseSummary::default()
            });
        }
        let key = stream_key();
        let mut state = self
            .sources
            .source(&key)
            .await?
            .unwrap_or_else(|| SourceState::new(key));
        let known = self
            .ingestor
            .store
            .recent_mentions(now - KNOWN_WINDOW, now, KNOWN_LIMIT)
            .await?
            .into_iter()
            .filter(|record| record.mention.platform == Platform::Bluesky)
            .map(|record| record.mention.id)
            .collect();
        let position = state.cursor.as_deref().and_then(|c| c.parse().ok());
        let mut run = Run {
            matcher,
            known,
            position,
            unsaved_frames: 0,
            saved_at: Instant::now(),
            summary: FirehoseSummary::default(),
        };
        run.summary.ended = self.read(&mut run, &mut state, deadline).await;

        let now = self.ingestor.clock.now();
        let summary = &mut run.summary;
        match summary.ended {
            Ending::Unreachable | Ending::IngestFailed | Ending::StoreFailed => {
                let reason = summary.error.clone().unwrap_or_default();
                warn!(error = %reason, "firehose run failed");
                state.failed(&reason, now);
            }
            _ => state.succeeded(now),
        }
        state.saw_new_mentions(summary.stored, now);
        // A first run reads live; if it read nothing, the next one starts
        // from when this one did.
        let position = run.position.unwrap_or_else(|| micros(started));
        state.cursor = Some(position.to_string());
        if let Err(err) = self.sources.save_source(&state).await {
            error!(error = %err, "firehose cursor not saved");
            summary
                .error
                .get_or_insert_with(|| "cursor not saved".into());
        }
        summary.cursor = Some(position);
        let lag = now - time_of(position);
        summary.lag_seconds = Some(lag.num_seconds());
        summary.health_sms = self.judge_lag(&state, lag, now).await;
        info!(
            ended = ?summary.ended,
            frames = summary.frames,
            matched = summary.matched,
            stored = summary.stored,
            lag_seconds = lag.num_seconds(),
            "firehose run finished"
        );
        Ok(run.summary)
    }

    /// Connects, fails over and reconnects until the run must end.
    async fn read(&self, run: &mut Run, state: &mut SourceState, deadline: Instant) -> Ending {
        let endpoints = &self.settings.endpoints;
        if endpoints.is_empty() {
            run.summary.error = Some("no Jetstream endpoint configured".into());
            return Ending::Unreachable;
        }
        let mut next_endpoint = 0;
        loop {
            let Some(left) = self.time_left(deadline) else {
                return Ending::Deadline;
            };
            let attempts = run.summary.connections + run.summary.failed_connections;
            if attempts >= self.settings.max_connections {
                return Ending::Unreachable;
            }
            if attempts > 0 {
                // A short, growing pause, so a failing endpoint is not
                // hammered; capped well inside a run.
                let pause = StdDuration::from_millis(250 * u64::from(attempts.min(8)));
                tokio::time::sleep(pause.min(left)).await;
            }
            let endpoint = &endpoints[next_endpoint % endpoints.len()];
            next_endpoint += 1;
            let from = run.position.map(|at| at - micros_of(self.settings.rewind));
            let timeout = self.settings.connect_timeout.min(left);
            let mut stream = match self.connector.connect(endpoint, from, timeout).await {
                Ok(stream) => stream,
                Err(err) => {
                    warn!(endpoint = %endpoint, error = %err, "Jetstream connection failed");
                    run.summary.failed_connections += 1;
                    run.summary.error = Some(err.to_string());
                    continue;
                }
            };
            run.summary.connections += 1;
            info!(endpoint = %endpoint, cursor = ?from, "Jetstream connected");
            match self.drain(stream.as_mut(), run, state, deadline).await {
                Disconnect::Dropped(reason) => {
                    warn!(endpoint = %endpoint, reason = %reason, "Jetstream connection dropped");
                    run.summary.error = Some(reason);
                }
                Disconnect::Stop(ending) => {
                    if matches!(ending, Ending::Deadline | Ending::Exhausted) {
                        run.summary.error = None;
                    }
                    return ending;
                }
            }
        }
    }

    /// Handles frames from one connection until it drops or the run ends.
    async fn drain(
        &self,
        stream: &mut dyn FrameStream,
        run: &mut Run,
        state: &mut SourceState,
        deadline: Instant,
    ) -> Disconnect {
        loop {
            let Some(left) = self.time_left(deadline) else {
                return self.checkpoint(run, state, Ending::Deadline).await;
            };
            let text = match tokio::time::timeout(left, stream.next()).await {
                Err(_) => return self.checkpoint(run, state, Ending::Deadline).await,
                Ok(Err(err)) => return self.dropped(run, state, err.to_string()).await,
                Ok(Ok(Next::Closed)) => {
                    return self
                        .dropped(run, state, "closed by the server".into())
                        .await;
                }
                Ok(Ok(Next::Exhausted)) => {
                    return self.checkpoint(run, state, Ending::Exhausted).await;
                }
                Ok(Ok(Next::Frame(text))) => text,
            };
            match self.handle(&text, run).await {
                Ok(Some(at)) => run.position = run.position.max(Some(at)),
                Ok(None) => {}
                Err(reason) => {
                    run.summary.error = Some(reason);
                    return self.checkpoint(run, state, Ending::IngestFailed).await;
                }
            }
            run.unsaved_frames += 1;
            let batch_done = run.unsaved_frames >= self.settings.save_every
                || run.saved_at.elapsed() >= self.settings.save_interval;
            if batch_done && let Err(ending) = self.save(run, state).await {
                return Disconnect::Stop(ending);
            }
        }
    }

    async fn dropped(&self, run: &mut Run, state: &mut SourceState, reason: String) -> Disconnect {
        match self.save(run, state).await {
            Ok(()) => Disconnect::Dropped(reason),
            Err(ending) => Disconnect::Stop(ending),
        }
    }

    async fn checkpoint(
        &self,
        run: &mut Run,
        state: &mut SourceState,
        ending: Ending,
    ) -> Disconnect {
        match self.save(run, state).await {
            Ok(()) => Disconnect::Stop(ending),
            Err(failed) => Disconnect::Stop(failed),
        }
    }

    /// Saves the cursor: everything before it is handled.
    async fn save(&self, run: &mut Run, state: &mut SourceState) -> Result<(), Ending> {
        let Some(position) = run.position else {
            return Ok(());
        };
        state.cursor = Some(position.to_string());
        run.unsaved_frames = 0;
        run.saved_at = Instant::now();
        match self.sources.save_source(state).await {
            Ok(()) => {
                debug!(cursor = position, "firehose cursor saved");
                Ok(())
            }
            Err(err) => {
                error!(error = %err, "firehose cursor not saved");
                run.summary.error = Some(format!("cursor not saved: {err}"));
                Err(Ending::StoreFailed)
            }
        }
    }

    /// Handles one frame; returns its position, or why it must be read
    /// again (a post that could not be stored).
    async fn handle(&self, text: &str, run: &mut Run) -> Result<Option<i64>, String> {
        run.summary.frames += 1;
        let event = match parse_frame(text) {
            Ok(event) => event,
            Err(err) => {
                debug!(error = %err, "frame not read");
                run.summary.rejected += 1;
                return Ok(frame_position(text));
            }
        };
        let at = event.time_us();
        match event {
            Event::Post(post) => {
                run.summary.posts += 1;
                self.post(&post, run).await?;
            }
            Event::Deleted { id, .. } if run.known.contains(&id) => {
                let now = self.ingestor.clock.now();
                match remove_mention(self.revisions.as_ref(), &self.ingestor, &id, now).await {
                    Ok(true) => run.summary.revised += 1,
                    Ok(false) => {}
                    Err(err) => return Err(format!("removal not stored: {err}")),
                }
            }
            Event::Deleted { .. } | Event::Passed { .. } => {}
        }
        Ok(Some(at))
    }

    async fn post(&self, post: &PostEvent, run: &mut Run) -> Result<(), String> {
        let now = self.ingestor.clock.now();
        let id = post.id();
        if post.edited && run.known.contains(&id) {
            let edit = Revision::Edited {
                text: post.text(),
                at: now,
            };
            match self.revisions.revise_mention(&id, &edit).await {
                Ok(true) => {
                    run.summary.revised += 1;
                    return Ok(());
                }
                Ok(false) => {}
                Err(err) => return Err(format!("edit not stored: {err}")),
            }
        }
        let Some(found) = run.matcher.find(post) else {
            return Ok(());
        };
        run.summary.matched += 1;
        let mut mention = post.mention(found.brand, found.voice, now);
        if let Some(profiles) = &self.profiles {
            // The stream names the author by DID only; reach, handle and
            // name are known before triage and the SMS, or not at all.
            profiles
                .complete(std::slice::from_mut(&mut mention), PROFILE_TIMEOUT)
                .await;
        }
        match self.ingestor.ingest(mention).await {
            Ok(outcome) if outcome.duplicate => run.summary.duplicates += 1,
            Ok(_) => run.summary.stored += 1,
            Err(err) if err.is_retryable() => {
                error!(error = %err, mention = %id, "ingest failed");
                return Err(format!("ingest failed: {err}"));
            }
            Err(err) => {
                // Retrying cannot help this post; do not hold the stream.
                warn!(error = %err, mention = %id, "post dropped");
                run.summary.rejected += 1;
            }
        }
        run.known.insert(id);
        Ok(())
    }

    /// Raises the lag alarm (one SMS to the first tier) or clears it.
    async fn judge_lag(&self, state: &SourceState, lag: Duration, now: DateTime<Utc>) -> usize {
        let lagging = lag > self.settings.lag_alarm_after;
        let (change, text) = match (lagging, state.alarm) {
            (true, None) => {
                warn!(lag_minutes = lag.num_minutes(), "firehose behind real time");
                (
                    AlarmChange::Raise(Alarm::Lagging),
                    texts::firehose_lagging(lag.num_minutes()),
                )
            }
            (false, Some(Alarm::Lagging)) => (AlarmChange::Clear, texts::firehose_caught_up()),
            _ => return 0,
        };
        self.ingestor
            .pager
            .change_source_alarm(self.sources.as_ref(), &state.key, change, now, &text)
            .await
    }

    /// The time a read may wait, or `None` once the run must stop.
    fn time_left(&self, deadline: Instant) -> Option<StdDuration> {
        deadline
            .checked_duration_since(Instant::now())
            .and_then(|left| left.checked_sub(self.settings.margin))
            .filter(|left| !left.is_zero())
    }
}

fn micros_of(duration: StdDuration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}
