//! The one path every mention takes, whatever brought it in: triage, store
//! once, and hand urgent complaints to the [`Pager`], which pages the
//! on-call roster at least once and never late (see the pager).

use std::sync::Arc;

use chrono::Duration;
use thiserror::Error;
use tracing::info;

use crate::domain::{
    AlertState, Clock, Mention, MentionRecord, Priority, Triage, TriageContext, Voice,
};
use crate::pager::{Burst, Pager, PagerError, Stored};
use crate::ports::{AuthorKey, MentionStore, StoreError};
use crate::triage::TriageSettings;
use crate::watch::WatchCache;

/// How far back an author's earlier posts count towards urgency.
const AUTHOR_WINDOW: Duration = Duration::hours(1);
/// How long after an alert a new post by its author reaches the owner.
const FOLLOW_UP_WINDOW: Duration = Duration::hours(48);
const HISTORY_LIMIT: usize = 20;

fn triage_context(
    mention: &Mention,
    history: &[MentionRecord],
    settings: Option<TriageSettings>,
) -> TriageContext {
    let since = mention.created_at - AUTHOR_WINDOW;
    TriageContext {
        recent_posts: history
            .iter()
            .filter(|r| r.mention.created_at >= since)
            .count(),
        window_minutes: AUTHOR_WINDOW.num_minutes(),
        author_handle: Some(mention.author.handle.clone()),
        // A reply in a thread is spoken to the brand whatever its text says.
        addressed: mention.in_reply_to.is_some().then_some(true),
        settings,
    }
}

#[derive(Debug, Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Paging(#[from] PagerError),
}

impl IngestError {
    /// Whether the platform should deliver the same post again.
    pub fn is_retryable(&self) -> bool {
        match self {
            IngestError::Store(err) => err.is_retryable(),
            IngestError::Paging(err) => err.is_retryable(),
        }
    }
}

/// What happened to one mention.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Outcome {
    pub id: String,
    pub duplicate: bool,
    pub priority: Option<Priority>,
    pub alert: &'static str,
    /// SMS handed to the carrier by this call.
    pub sms_sent: usize,
}

/// Stores and triages each mention, then hands it to the pager.
pub struct Ingestor {
    pub store: Arc<dyn MentionStore>,
    pub triage: Arc<dyn Triage>,
    /// The watches, for each brand's triage settings.
    pub watches: Arc<WatchCache>,
    pub pager: Pager,
    pub clock: Clock,
}

impl Ingestor {
    #[tracing::instrument(skip_all, fields(mention = %mention.id, platform = %mention.platform))]
    pub async fn ingest(&self, mention: Mention) -> Result<Outcome, IngestError> {
        let history = self.author_history(&mention).await?;
        // Someone already has this author's complaint: the new post goes to
        // them, once, and is not paged to the roster as well.
        let owned = self.pager.owned_alert_of(&history).await;
        let record = self.assess(mention, &history, owned.is_some()).await?;
        let record = match self.pager.insert(record).await? {
            Stored::New(record) => {
                info!(priority = ?record.assessment.as_ref().map(|a| a.priority), "mention stored");
                match record.mention.voice {
                    Voice::Customer => {
                        if let Some((code, owner)) = &owned {
                            self.pager
                                .tell_owner_they_posted_again(&record, code, owner)
                                .await
                        }
                    }
                    Voice::Brand => {
                        self.pager
                            .hold_the_brand_to_its_promise(&record.mention)
                            .await?
                    }
                }
                record
            }
            Stored::Existing(stored) => {
                info!(alert = stored.alert.label(), "duplicate delivery");
                return self.finish_outstanding(stored, true).await;
            }
        };
        self.finish_outstanding(record, false).await
    }

    /// Triage and, for an urgent complaint nobody has taken yet, a pending
    /// alert (its reply code comes as the pager stores it). With `owned`,
    /// the author's earlier complaint has an owner, who hears of this post
    /// instead of the roster.
    async fn assess(
        &self,
        mention: Mention,
        history: &[MentionRecord],
        owned: bool,
    ) -> Result<MentionRecord, IngestError> {
        if mention.voice == Voice::Brand {
            return Ok(MentionRecord {
                mention,
                assessment: None,
                alert: AlertState::None,
                alert_code: None,
                incident: None,
            });
        }
        let settings = self
            .watches
            .triage_settings(&mention.brand, self.clock.now())
            .await?;
        let context = triage_context(&mention, history, settings);
        let assessment = self.triage.assess(&mention, &context);
        if owned {
            info!(priority = ?assessment.priority, "the author's complaint has an owner; not paged again");
            return Ok(MentionRecord {
                mention,
                assessment: Some(assessment),
                alert: AlertState::None,
                alert_code: None,
                incident: None,
            });
        }
        let burst = if assessment.priority == Priority::P1 {
            self.pager.burst_of(&mention, &assessment.reasons).await?
        } else {
            Burst::Alone
        };
        let (alert, incident) = match (assessment.priority, burst) {
            (Priority::P1, Burst::Alone) => (AlertState::Pending, None),
            (Priority::P1, Burst::Page(incident)) => (AlertState::Pending, Some(incident)),
            (_, Burst::Fold(incident)) => {
                info!(lead = %incident.lead, posts = incident.posts, "folded into an incident");
                (AlertState::None, Some(incident))
            }
            _ => (AlertState::None, None),
        };
        Ok(MentionRecord {
            mention,
            assessment: Some(assessment),
            alert,
            // The pager gives an alert its code as it stores it.
            alert_code: None,
            incident,
        })
    }

    /// How often the author has posted about the brand lately: the third
    /// post in forty minutes is more urgent than the first.
    /// The author's earlier posts about the brand in the follow-up window,
    /// newest first.
    async fn author_history(&self, mention: &Mention) -> Result<Vec<MentionRecord>, IngestError> {
        if mention.voice == Voice::Brand {
            return Ok(Vec::new());
        }
        let since = mention.created_at - FOLLOW_UP_WINDOW;
        let mut history = self
            .store
            .author_mentions(&AuthorKey::of(mention), since, HISTORY_LIMIT)
            .await?;
        history
            .retain(|r| r.mention.id != mention.id && r.mention.created_at <= mention.created_at);
        Ok(history)
    }

    async fn finish_outstanding(
        &self,
        record: MentionRecord,
        duplicate: bool,
    ) -> Result<Outcome, IngestError> {
        let (alert, sms_sent) = self.pager.page(&record).await?;
        Ok(Outcome {
            id: record.mention.id.to_string(),
            duplicate,
            priority: record.assessment.as_ref().map(|a| a.priority),
            alert: if record.is_folded() {
                "folded"
            } else {
                alert.label()
            },
            sms_sent,
        })
    }
}
