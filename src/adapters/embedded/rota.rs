//! The rota on SQLite: one row per tier's rotation, per override and per
//! shift announced.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{EmbeddedStore, corrupt, sort_key, unavailable};
use crate::domain::rota::{Rota, RotaOverride, Rotation, Shift};
use crate::ports::{RotaStore, StoreError};

/// Added tables only, so stores written before them open unchanged.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS rotations (
    tier        INTEGER PRIMARY KEY,
    rotation    TEXT NOT NULL      -- JSON Rotation
);
CREATE TABLE IF NOT EXISTS rota_overrides (
    id          TEXT PRIMARY KEY,
    starts      TEXT NOT NULL,
    ends        TEXT NOT NULL,
    cover       TEXT NOT NULL      -- JSON RotaOverride
);
CREATE TABLE IF NOT EXISTS shift_notices (
    shift       TEXT PRIMARY KEY   -- <tier>#<start>#<phone>
);
";

#[async_trait]
impl RotaStore for EmbeddedStore {
    async fn put_rotation(&self, rotation: &Rotation) -> Result<(), StoreError> {
        self.put_json(
            "INSERT INTO rotations (tier, rotation) VALUES (?1, ?2)
             ON CONFLICT (tier) DO UPDATE SET rotation = ?2",
            rotation.tier,
            rotation,
        )
    }

    async fn remove_rotation(&self, tier: u8) -> Result<bool, StoreError> {
        let removed = self
            .conn()
            .execute("DELETE FROM rotations WHERE tier = ?1", [tier])
            .map_err(unavailable)?;
        Ok(removed > 0)
    }

    async fn add_override(&self, cover: &RotaOverride) -> Result<bool, StoreError> {
        let json = serde_json::to_string(cover).map_err(corrupt)?;
        let added = self
            .conn()
            .execute(
                "INSERT INTO rota_overrides (id, starts, ends, cover) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO NOTHING",
                params![cover.id, sort_key(cover.starts), sort_key(cover.ends), json],
            )
            .map_err(unavailable)?;
        Ok(added == 1)
    }

    async fn remove_override(&self, id: &str) -> Result<bool, StoreError> {
        let removed = self
            .conn()
            .execute("DELETE FROM rota_overrides WHERE id = ?1", [id])
            .map_err(unavailable)?;
        Ok(removed > 0)
    }

    async fn rota(&self, now: DateTime<Utc>) -> Result<Rota, StoreError> {
        Ok(Rota {
            rotations: self.json_rows("SELECT rotation FROM rotations ORDER BY tier", [])?,
            overrides: self.json_rows(
                "SELECT cover FROM rota_overrides WHERE ends > ?1 ORDER BY starts, id",
                [sort_key(now)],
            )?,
        })
    }

    async fn claim_shift_notice(&self, shift: &Shift) -> Result<bool, StoreError> {
        let key = format!("{}#{}#{}", shift.tier, sort_key(shift.starts), shift.phone);
        let claimed = self
            .conn()
            .execute(
                "INSERT INTO shift_notices (shift) VALUES (?1) ON CONFLICT DO NOTHING",
                [key],
            )
            .map_err(unavailable)?;
        Ok(claimed == 1)
    }
}
