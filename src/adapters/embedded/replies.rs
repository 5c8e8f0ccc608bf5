//! Public replies on SQLite: one row per (alert, template), claimed inside
//! an IMMEDIATE transaction as DynamoDB claims it by a conditional write.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{EmbeddedStore, claim_row, corrupt, sort_key, unavailable};
use crate::domain::MentionId;
use crate::ports::{PostedReply, ReplyClaim, ReplyLedger, ReplyOutcome, StoreError};

/// Added tables only, so stores written before them open unchanged.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS public_replies (
    mention_id  TEXT NOT NULL,
    template    INTEGER NOT NULL,
    status      TEXT NOT NULL,    -- posting | posted | failed
    lease_until INTEGER NOT NULL,
    reply       TEXT,             -- JSON PostedReply once posted
    error       TEXT,
    updated_at  TEXT,
    PRIMARY KEY (mention_id, template)
);
";

#[async_trait]
impl ReplyLedger for EmbeddedStore {
    async fn claim_reply(
        &self,
        mention: &MentionId,
        template: u32,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<ReplyClaim, StoreError> {
        let mut conn = self.conn();
        let (tx, current) = claim_row(
            &mut conn,
            "SELECT status, lease_until, reply FROM public_replies
             WHERE mention_id = ?1 AND template = ?2",
            params![mention.as_str(), template],
        )?;
        let claim = match current {
            Some((status, _, reply)) if status == "posted" => {
                let reply: PostedReply =
                    serde_json::from_str(reply.as_deref().unwrap_or("null")).map_err(corrupt)?;
                ReplyClaim::Posted(reply)
            }
            Some((status, lease, _)) if status == "posting" && lease >= now.timestamp() => {
                ReplyClaim::InFlight
            }
            _ => ReplyClaim::Granted,
        };
        if claim == ReplyClaim::Granted {
            tx.execute(
                "INSERT INTO public_replies (mention_id, template, status, lease_until, updated_at)
                 VALUES (?1, ?2, 'posting', ?3, ?4)
                 ON CONFLICT (mention_id, template)
                 DO UPDATE SET status = 'posting', lease_until = ?3, updated_at = ?4",
                params![
                    mention.as_str(),
                    template,
                    lease_until.timestamp(),
                    sort_key(now)
                ],
            )
            .map_err(unavailable)?;
        }
        tx.commit().map_err(unavailable)?;
        Ok(claim)
    }

    async fn record_reply(
        &self,
        mention: &MentionId,
        template: u32,
        outcome: &ReplyOutcome,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (status, reply, error) = match outcome {
            ReplyOutcome::Posted(reply) => (
                "posted",
                Some(serde_json::to_string(reply).map_err(corrupt)?),
                None,
            ),
            ReplyOutcome::Failed { reason } => ("failed", None, Some(reason.as_str())),
        };
        self.conn()
            .execute(
                "UPDATE public_replies SET status = ?3, reply = ?4, error = ?5, updated_at = ?6
                 WHERE mention_id = ?1 AND template = ?2",
                params![
                    mention.as_str(),
                    template,
                    status,
                    reply,
                    error,
                    sort_key(at)
                ],
            )
            .map_err(unavailable)?;
        Ok(())
    }
}
