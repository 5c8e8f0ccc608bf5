//! The SMS budget and held alerts on SQLite: counters per window, raised
//! in one transaction that first checks both caps.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::{EmbeddedStore, corrupt, unavailable};
use crate::domain::PhoneNumber;
use crate::ports::{HeldAlert, SmsBudget, SmsLimits, Spend, StoreError, day_window, hour_window};

/// Added tables only, so stores written before them open unchanged.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sms_budget (
    counter     TEXT PRIMARY KEY,  -- <phone>#<YYYY-MM-DDTHH> or DAY#<YYYY-MM-DD>
    sent        INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS held_alerts (
    phone       TEXT NOT NULL,
    mention_id  TEXT NOT NULL,
    held_at     TEXT NOT NULL,
    held        TEXT NOT NULL,     -- JSON HeldAlert
    PRIMARY KEY (phone, mention_id)
);
";

#[async_trait]
impl SmsBudget for EmbeddedStore {
    async fn spend(
        &self,
        phone: &PhoneNumber,
        now: DateTime<Utc>,
        limits: SmsLimits,
    ) -> Result<Spend, StoreError> {
        let phone_counter = format!("{phone}#{}", hour_window(now));
        let day_counter = format!("DAY#{}", day_window(now));
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(unavailable)?;
        let count = |counter: &str| -> Result<u32, StoreError> {
            let sent: Option<u32> = tx
                .query_row(
                    "SELECT sent FROM sms_budget WHERE counter = ?1",
                    params![counter],
                    |row| row.get(0),
                )
                .optional()
                .map_err(unavailable)?;
            Ok(sent.unwrap_or(0))
        };
        if count(&phone_counter)? >= limits.per_phone_hourly {
            return Ok(Spend::PhoneCap);
        }
        if count(&day_counter)? >= limits.daily {
            return Ok(Spend::DailyCap);
        }
        for counter in [&phone_counter, &day_counter] {
            tx.execute(
                "INSERT INTO sms_budget (counter, sent) VALUES (?1, 1)
                 ON CONFLICT (counter) DO UPDATE SET sent = sent + 1",
                params![counter],
            )
            .map_err(unavailable)?;
        }
        tx.commit().map_err(unavailable)?;
        Ok(Spend::Granted)
    }

    async fn hold(&self, held: &HeldAlert) -> Result<(), StoreError> {
        let json = serde_json::to_string(held).map_err(corrupt)?;
        self.conn()
            .execute(
                "INSERT INTO held_alerts (phone, mention_id, held_at, held) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (phone, mention_id) DO NOTHING",
                params![
                    held.phone.as_str(),
                    held.mention.as_str(),
                    super::sort_key(held.at),
                    json
                ],
            )
            .map_err(unavailable)?;
        Ok(())
    }

    async fn held(&self) -> Result<Vec<HeldAlert>, StoreError> {
        self.json_rows(
            "SELECT held FROM held_alerts ORDER BY held_at, phone, mention_id",
            [],
        )
    }

    async fn release(&self, held: &[HeldAlert]) -> Result<Vec<HeldAlert>, StoreError> {
        let conn = self.conn();
        let mut released = Vec::new();
        for alert in held {
            let deleted = conn
                .execute(
                    "DELETE FROM held_alerts WHERE phone = ?1 AND mention_id = ?2",
                    params![alert.phone.as_str(), alert.mention.as_str()],
                )
                .map_err(unavailable)?;
            if deleted == 1 {
                released.push(alert.clone());
            }
        }
        Ok(released)
    }
}
