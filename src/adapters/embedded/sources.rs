//! Watches, source state and mention revisions on SQLite. The alarm is its
//! own column, changed only by conditional updates, as in DynamoDB.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{EmbeddedStore, corrupt, unavailable};
use crate::domain::MentionId;
use crate::domain::{Alarm, SourceKey, SourceState, Watch};
use crate::ports::{MentionRevisions, Revision, SourceStore, StoreError, WatchStore};

/// Added tables only, so stores written before them open unchanged.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS watches (
    brand       TEXT PRIMARY KEY,
    watch       TEXT NOT NULL     -- JSON Watch
);
CREATE TABLE IF NOT EXISTS sources (
    brand       TEXT NOT NULL,
    platform    TEXT NOT NULL,
    state       TEXT NOT NULL,    -- JSON SourceState, alarm left out
    alarm       TEXT,             -- failing | silent | lagging, or NULL
    alarm_at    TEXT,
    PRIMARY KEY (brand, platform)
);
CREATE TABLE IF NOT EXISTS mention_revisions (
    mention_id  TEXT PRIMARY KEY,
    revision    TEXT NOT NULL     -- JSON Revision
);
";

fn alarm_text(alarm: Alarm) -> &'static str {
    alarm.label()
}

fn parse_alarm(raw: Option<String>) -> Result<Option<Alarm>, StoreError> {
    match raw.as_deref() {
        None => Ok(None),
        Some("failing") => Ok(Some(Alarm::Failing)),
        Some("silent") => Ok(Some(Alarm::Silent)),
        Some("lagging") => Ok(Some(Alarm::Lagging)),
        Some(other) => Err(corrupt(format!("unknown alarm {other:?}"))),
    }
}

fn state_from(json: &str, alarm: Option<String>) -> Result<SourceState, StoreError> {
    let mut state: SourceState = serde_json::from_str(json).map_err(corrupt)?;
    state.alarm = parse_alarm(alarm)?;
    Ok(state)
}

#[async_trait]
impl WatchStore for EmbeddedStore {
    async fn put_watch(&self, watch: &Watch) -> Result<(), StoreError> {
        self.put_json(
            "INSERT INTO watches (brand, watch) VALUES (?1, ?2)
             ON CONFLICT (brand) DO UPDATE SET watch = excluded.watch",
            &watch.brand,
            watch,
        )
    }

    async fn watches(&self) -> Result<Vec<Watch>, StoreError> {
        self.json_rows("SELECT watch FROM watches ORDER BY brand", [])
    }

    async fn watch(&self, brand: &str) -> Result<Option<Watch>, StoreError> {
        let json: Option<String> = self
            .conn()
            .query_row(
                "SELECT watch FROM watches WHERE brand = ?1",
                params![brand],
                |row| row.get(0),
            )
            .optional()
            .map_err(unavailable)?;
        json.map(|j| serde_json::from_str(&j).map_err(corrupt))
            .transpose()
    }

    async fn remove_watch(&self, brand: &str) -> Result<bool, StoreError> {
        let removed = self
            .conn()
            .execute("DELETE FROM watches WHERE brand = ?1", params![brand])
            .map_err(unavailable)?;
        Ok(removed == 1)
    }
}

#[async_trait]
impl SourceStore for EmbeddedStore {
    async fn source(&self, key: &SourceKey) -> Result<Option<SourceState>, StoreError> {
        let row: Option<(String, Option<String>)> = self
            .conn()
            .query_row(
                "SELECT state, alarm FROM sources WHERE brand = ?1 AND platform = ?2",
                params![key.brand, key.platform.key()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(unavailable)?;
        row.map(|(json, alarm)| state_from(&json, alarm))
            .transpose()
    }

    async fn sources(&self) -> Result<Vec<SourceState>, StoreError> {
        let conn = self.conn();
        let mut statement = conn
            .prepare("SELECT state, alarm FROM sources ORDER BY brand, platform")
            .map_err(unavailable)?;
        let rows = statement
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?))
            })
            .map_err(unavailable)?;
        rows.map(|row| {
            let (json, alarm) = row.map_err(unavailable)?;
            state_from(&json, alarm)
        })
        .collect()
    }

    async fn save_source(&self, state: &SourceState) -> Result<(), StoreError> {
        let stored = SourceState {
            alarm: None,
            ..state.clone()
        };
        let json = serde_json::to_string(&stored).map_err(corrupt)?;
        self.conn()
            .execute(
                "INSERT INTO sources (brand, platform, state) VALUES (?1, ?2, ?3)
                 ON CONFLICT (brand, platform) DO UPDATE SET state = excluded.state",
                params![state.key.brand, state.key.platform.key(), json],
            )
            .map_err(unavailable)?;
        Ok(())
    }

    async fn raise_alarm(
        &self,
        key: &SourceKey,
        alarm: Alarm,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let conn = self.conn();
        // A source with no saved state yet still gets its alarm.
        let blank = serde_json::to_string(&SourceState::new(key.clone())).map_err(corrupt)?;
        conn.execute(
            "INSERT INTO sources (brand, platform, state) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            params![key.brand, key.platform.key(), blank],
        )
        .map_err(unavailable)?;
        let raised = conn
            .execute(
                "UPDATE sources SET alarm = ?3, alarm_at = ?4
                 WHERE brand = ?1 AND platform = ?2 AND alarm IS NULL",
                params![
                    key.brand,
                    key.platform.key(),
                    alarm_text(alarm),
                    at.to_rfc3339()
                ],
            )
            .map_err(unavailable)?;
        Ok(raised == 1)
    }

    async fn clear_alarm(&self, key: &SourceKey) -> Result<bool, StoreError> {
        let cleared = self
            .conn()
            .execute(
                "UPDATE sources SET alarm = NULL, alarm_at = NULL
                 WHERE brand = ?1 AND platform = ?2 AND alarm IS NOT NULL",
                params![key.brand, key.platform.key()],
            )
            .map_err(unavailable)?;
        Ok(cleared == 1)
    }
}

#[async_trait]
impl MentionRevisions for EmbeddedStore {
    async fn revise_mention(
        &self,
        id: &MentionId,
        revision: &Revision,
    ) -> Result<bool, StoreError> {
        let json = serde_json::to_string(revision).map_err(corrupt)?;
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(unavailable)?;
        let found = match revision {
            Revision::Edited { text, .. } => tx
                .execute(
                    "UPDATE mentions SET record = json_set(record, '$.mention.text', ?2) WHERE id = ?1",
                    params![id.as_str(), text],
                )
                .map_err(unavailable)?,
            Revision::Removed { .. } => tx
                .query_row(
                    "SELECT COUNT(*) FROM mentions WHERE id = ?1",
                    params![id.as_str()],
                    |row| row.get::<_, usize>(0),
                )
                .map_err(unavailable)?,
        };
        if found == 0 {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO mention_revisions (mention_id, revision) VALUES (?1, ?2)
             ON CONFLICT (mention_id) DO UPDATE SET revision = excluded.revision",
            params![id.as_str(), json],
        )
        .map_err(unavailable)?;
        tx.commit().map_err(unavailable)?;
        Ok(true)
    }

    async fn mention_revision(&self, id: &MentionId) -> Result<Option<Revision>, StoreError> {
        let json: Option<String> = self
            .conn()
            .query_row(
                "SELECT revision FROM mention_revisions WHERE mention_id = ?1",
                params![id.as_str()],
                |row| row.get(0),
            )
            .optional()
            .map_err(unavailable)?;
        json.map(|j| serde_json::from_str(&j).map_err(corrupt))
            .transpose()
    }
}
