//! Later changes to stored posts, whichever source reports them.

use chrono::{DateTime, Utc};
use tracing::info;

use crate::domain::MentionId;
use crate::ingest::Ingestor;
use crate::ports::{MentionRevisions, Revision, StoreError};

/// Marks the post removed; false if it is not stored. An alert nobody has
/// taken stops climbing the tiers: the first responders have it, but a
/// deleted post is not worth paging managers for. A taken alert stays
/// with its owner.
pub async fn remove_mention(
    revisions: &dyn MentionRevisions,
    ingestor: &Ingestor,
    id: &MentionId,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    if !revisions
        .revise_mention(id, &Revision::Removed { at })
        .await?
    {
        return Ok(false);
    }
    let record = ingestor.store.get_mention(id).await?;
    let paged = record.is_some_and(|r| r.alert_code.is_some());
    if paged && ingestor.follow_up.owner(id).await?.is_none() {
        info!(mention = %id, "post removed before anyone took it; escalation stopped");
        ingestor.store.settle_alert(id).await?;
    }
    Ok(true)
}
