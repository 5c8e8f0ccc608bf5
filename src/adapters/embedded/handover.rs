//! PASS offers, owner transfers and chain notices on SQLite. A transfer
//! rewrites the owner row only while it still holds the expected owner.

use async_trait::async_trait;
use rusqlite::params;

use super::{EmbeddedStore, corrupt, unavailable};
use crate::domain::MentionId;
use crate::ports::{ChainNews, HandOverStore, Offer, Ownership, StoreError};

/// Added tables only, so stores written before them open unchanged.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS alert_offers (
    mention_id  TEXT PRIMARY KEY,
    offer       TEXT NOT NULL      -- JSON Offer
);
CREATE TABLE IF NOT EXISTS chain_news (
    mention_id  TEXT NOT NULL,
    news        TEXT NOT NULL,     -- taken | closed
    PRIMARY KEY (mention_id, news)
);
";

#[async_trait]
impl HandOverStore for EmbeddedStore {
    async fn offer(&self, offer: &Offer) -> Result<(), StoreError> {
        self.put_json(
            "INSERT INTO alert_offers (mention_id, offer) VALUES (?1, ?2)
             ON CONFLICT (mention_id) DO UPDATE SET offer = ?2",
            offer.mention.as_str(),
            offer,
        )
    }

    async fn offer_of(&self, mention: &MentionId) -> Result<Option<Offer>, StoreError> {
        self.json_of(
            "SELECT offer FROM alert_offers WHERE mention_id = ?1",
            [mention.as_str()],
        )
    }

    async fn transfer(
        &self,
        mention: &MentionId,
        from: &Ownership,
        to: &Ownership,
    ) -> Result<bool, StoreError> {
        let conn = self.conn();
        let moved = conn
            .execute(
                "UPDATE follow_ups SET owner = ?2
                 WHERE mention_id = ?1 AND kind = 'owner'
                   AND json_extract(owner, '$.phone') = ?3 AND json_extract(owner, '$.at') = ?4",
                params![
                    mention.as_str(),
                    serde_json::to_string(to).map_err(corrupt)?,
                    from.phone.as_str(),
                    serde_json::to_value(from.at)
                        .map_err(corrupt)?
                        .as_str()
                        .unwrap_or_default()
                ],
            )
            .map_err(unavailable)?;
        if moved == 1 {
            conn.execute(
                "DELETE FROM alert_offers WHERE mention_id = ?1",
                [mention.as_str()],
            )
            .map_err(unavailable)?;
        }
        Ok(moved == 1)
    }

    async fn claim_chain_news(
        &self,
        mention: &MentionId,
        news: ChainNews,
    ) -> Result<bool, StoreError> {
        let claimed = self
            .conn()
            .execute(
                "INSERT INTO chain_news (mention_id, news) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![mention.as_str(), news.key()],
            )
            .map_err(unavailable)?;
        Ok(claimed == 1)
    }
}
