//! The brands' burst logs on SQLite: a row per brand, replaced only at the
//! version it was read at, as DynamoDB does with a conditional write.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::{EmbeddedStore, corrupt, unavailable};
use crate::ports::{BurstLogStore, Saved, StoreError, VersionedLog};

/// Added tables only, so stores written before them open unchanged.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS burst_logs (
    brand      TEXT PRIMARY KEY,
    version    INTEGER NOT NULL,
    log        TEXT NOT NULL,     -- JSON BurstLog
    expires_at INTEGER NOT NULL
);
";

impl EmbeddedStore {
    fn burst_log(&self, brand: &str) -> Result<VersionedLog, StoreError> {
        let row: Option<(i64, String)> = self
            .conn()
            .query_row(
                "SELECT version, log FROM burst_logs WHERE brand = ?1",
                params![brand],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(unavailable)?;
        let Some((version, log)) = row else {
            return Ok(VersionedLog::default());
        };
        Ok(VersionedLog {
            log: serde_json::from_str(&log).map_err(corrupt)?,
            version: u64::try_from(version).map_err(corrupt)?,
        })
    }
}

#[async_trait]
impl BurstLogStore for EmbeddedStore {
    async fn save_burst_log(&self, brand: &str, read: &VersionedLog) -> Result<Saved, StoreError> {
        let expires = read.log.expires_at();
        let json = serde_json::to_string(&read.log).map_err(corrupt)?;
        let read_version = i64::try_from(read.version).map_err(corrupt)?;
        let changed = self
            .conn()
            .execute(
                "INSERT INTO burst_logs (brand, version, log, expires_at)
                 VALUES (?1, ?2 + 1, ?3, ?4)
                 ON CONFLICT (brand) DO UPDATE
                     SET version = excluded.version, log = excluded.log,
                         expires_at = excluded.expires_at
                     WHERE burst_logs.version = ?2",
                params![brand, read_version, json, expires.timestamp()],
            )
            .map_err(unavailable)?;
        if changed == 1 {
            Ok(Saved::Written)
        } else {
            Ok(Saved::Stale(self.burst_log(brand)?))
        }
    }
}
