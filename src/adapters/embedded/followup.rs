//! Staff replies on SQLite: each promise is a primary key, as in DynamoDB.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::{EmbeddedStore, corrupt, unavailable};
use crate::domain::{AlertCode, MentionId, PhoneNumber};
use crate::ports::{Acknowledged, FollowUpStore, Ownership, StoreError};

impl EmbeddedStore {
    fn follow_up_of(
        &self,
        mention: &MentionId,
        kind: &str,
    ) -> Result<Option<Ownership>, StoreError> {
        self.json_of(
            "SELECT owner FROM follow_ups WHERE mention_id = ?1 AND kind = ?2",
            params![mention.as_str(), kind],
        )
    }

    /// Inserts `(mention, kind)` unless present; returns the stored owner
    /// when it was already there.
    fn claim_follow_up(
        &self,
        mention: &MentionId,
        kind: &str,
        owner: &Ownership,
    ) -> Result<Option<Ownership>, StoreError> {
        let conn = self.conn();
        let json = serde_json::to_string(owner).map_err(corrupt)?;
        let inserted = conn
            .execute(
                "INSERT INTO follow_ups (mention_id, kind, owner) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                params![mention.as_str(), kind, json],
            )
            .map_err(unavailable)?;
        if inserted == 1 {
            return Ok(None);
        }
        let existing: String = conn
            .query_row(
                "SELECT owner FROM follow_ups WHERE mention_id = ?1 AND kind = ?2",
                params![mention.as_str(), kind],
                |row| row.get(0),
            )
            .map_err(unavailable)?;
        serde_json::from_str(&existing).map(Some).map_err(corrupt)
    }
}

/// The phone's latest alert: a bare ACK from it means `code`.
pub(super) fn remember_latest_alert(
    conn: &Connection,
    phone: &PhoneNumber,
    code: &AlertCode,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO latest_alerts (phone, code) VALUES (?1, ?2) ON CONFLICT (phone) DO UPDATE SET code = ?2",
        params![phone.as_str(), code.as_str()],
    )
    .map_err(unavailable)?;
    Ok(())
}

#[async_trait]
impl FollowUpStore for EmbeddedStore {
    async fn mention_for_code(&self, code: &AlertCode) -> Result<Option<MentionId>, StoreError> {
        let id = self.text_of(
            "SELECT mention_id FROM alert_codes WHERE code = ?1",
            [code.as_str()],
        )?;
        id.map(|id| MentionId::parse(&id).ok_or_else(|| corrupt(format!("bad mention id {id}"))))
            .transpose()
    }

    async fn set_latest_alert(
        &self,
        phone: &PhoneNumber,
        code: &AlertCode,
    ) -> Result<(), StoreError> {
        remember_latest_alert(&self.conn(), phone, code)
    }

    async fn latest_alert(&self, phone: &PhoneNumber) -> Result<Option<AlertCode>, StoreError> {
        let code = self.text_of(
            "SELECT code FROM latest_alerts WHERE phone = ?1",
            [phone.as_str()],
        )?;
        Ok(code.and_then(|c| AlertCode::parse(&c)))
    }

    async fn first_sight_of_inbound(
        &self,
        message_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let inserted = self
            .conn()
            .execute(
                "INSERT INTO inbound_seen (message_id, seen_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![message_id, at.to_rfc3339()],
            )
            .map_err(unavailable)?;
        Ok(inserted == 1)
    }

    async fn acknowledge(
        &self,
        mention: &MentionId,
        owner: &Ownership,
    ) -> Result<Acknowledged, StoreError> {
        Ok(match self.claim_follow_up(mention, "owner", owner)? {
            None => Acknowledged::Won,
            Some(existing) => Acknowledged::AlreadyOwned(existing),
        })
    }

    async fn owner(&self, mention: &MentionId) -> Result<Option<Ownership>, StoreError> {
        self.follow_up_of(mention, "owner")
    }

    async fn closed(&self, mention: &MentionId) -> Result<Option<Ownership>, StoreError> {
        self.follow_up_of(mention, "done")
    }

    async fn close(
        &self,
        mention: &MentionId,
        by: &Ownership,
    ) -> Result<Option<Ownership>, StoreError> {
        self.claim_follow_up(mention, "done", by)
    }

    async fn record_noise(&self, mention: &MentionId, by: &Ownership) -> Result<(), StoreError> {
        self.claim_follow_up(mention, &format!("noise:{}", by.phone), by)?;
        Ok(())
    }

    async fn noise_reported(&self, mention: &MentionId) -> Result<bool, StoreError> {
        self.conn()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM follow_ups WHERE mention_id = ?1 AND kind LIKE 'noise:%')",
                params![mention.as_str()],
                |row| row.get(0),
            )
            .map_err(unavailable)
    }

    async fn set_opted_out(
        &self,
        phone: &PhoneNumber,
        opted_out: bool,
    ) -> Result<bool, StoreError> {
        let updated = self
            .conn()
            .execute(
                "UPDATE roster SET contact = json_set(contact, '$.opted_out', json(?2)) WHERE phone = ?1",
                params![phone.as_str(), if opted_out { "true" } else { "false" }],
            )
            .map_err(unavailable)?;
        Ok(updated > 0)
    }
}
