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
    if ingestor.pager.stand_down_if_unowned(id).await? {
        info!(mention = %id, "post removed before anyone took it; escalation stopped");
    }
    Ok(true)
}
