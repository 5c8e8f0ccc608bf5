//! Delivery receipts on SQLite: one row per sent SMS by message id (with
//! the alert and phone when it was an alert), one per phone's run of
//! failures. Rows are read back as JSON objects built by SQLite itself.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{EmbeddedStore, unavailable};
use crate::domain::{MentionId, PhoneNumber};
use crate::ports::{
    Marked, PhoneHealth, Receipt, ReceiptStatus, ReceiptStore, SentSms, StoreError,
};

/// Added tables only, so stores written before them open unchanged.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sms_receipts (
    message_id  TEXT PRIMARY KEY,
    mention_id  TEXT,             -- set for alert SMS
    phone       TEXT,
    sent_at     TEXT,
    receipt     TEXT,             -- delivered | failed, once known
    reason      TEXT,
    receipt_at  TEXT
);
CREATE INDEX IF NOT EXISTS sms_receipts_by_mention ON sms_receipts (mention_id) WHERE mention_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS phone_health (
    phone       TEXT PRIMARY KEY,
    failures    INTEGER NOT NULL,
    last_reason TEXT,
    last_at     TEXT NOT NULL,
    warned      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS voice_calls (
    mention_id  TEXT NOT NULL,
    phone       TEXT NOT NULL,
    PRIMARY KEY (mention_id, phone)
);
";

const SENT_SMS_JSON: &str = "json_object('mention', mention_id, 'phone', phone, \
     'message_id', message_id, 'sent_at', sent_at, 'receipt', receipt, 'reason', reason, \
     'receipt_at', receipt_at)";

const HEALTH_JSON: &str = "json_object('phone', phone, 'failures', failures, \
     'last_reason', last_reason, 'last_at', last_at, 'warned', json(CASE warned WHEN 1 THEN 'true' ELSE 'false' END))";

/// Part of recording an alert SMS as sent: its message id now leads back
/// to the alert and phone. A link (or a receipt that came first) keeps
/// what it has; only the missing fields are filled in.
pub(super) fn link_message(
    conn: &Connection,
    message_id: &str,
    mention: &MentionId,
    phone: &PhoneNumber,
    sent_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO sms_receipts (message_id, mention_id, phone, sent_at)
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (message_id) DO UPDATE SET
         mention_id = COALESCE(mention_id, excluded.mention_id),
         phone = COALESCE(phone, excluded.phone),
         sent_at = COALESCE(sent_at, excluded.sent_at)",
        params![
            message_id,
            mention.as_str(),
            phone.as_str(),
            sent_at.to_rfc3339()
        ],
    )
    .map_err(unavailable)?;
    Ok(())
}

#[async_trait]
impl ReceiptStore for EmbeddedStore {
    async fn record_receipt(&self, receipt: &Receipt) -> Result<Marked, StoreError> {
        let alert_json: Option<Option<String>> = {
            let conn = self.conn();
            let marked = conn
                .execute(
                    "INSERT INTO sms_receipts (message_id, receipt, reason, receipt_at)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (message_id) DO UPDATE
                        SET receipt = excluded.receipt, reason = excluded.reason,
                            receipt_at = excluded.receipt_at
                        WHERE receipt IS NULL",
                    params![
                        receipt.message_id,
                        receipt.status.label(),
                        receipt.reason,
                        receipt.at.to_rfc3339()
                    ],
                )
                .map_err(unavailable)?;
            if marked == 0 {
                return Ok(Marked::Repeat);
            }
            conn.query_row(
                &format!(
                    "SELECT CASE WHEN mention_id IS NULL THEN NULL ELSE {SENT_SMS_JSON} END
                     FROM sms_receipts WHERE message_id = ?1"
                ),
                [&receipt.message_id],
                |row| row.get(0),
            )
            .optional()
            .map_err(unavailable)?
        };
        let alert = alert_json
            .flatten()
            .map(|json| serde_json::from_str::<SentSms>(&json).map_err(super::corrupt))
            .transpose()?;
        Ok(Marked::First { alert })
    }

    async fn alert_sms(&self, mention: &MentionId) -> Result<Vec<SentSms>, StoreError> {
        self.json_rows(
            &format!(
                "SELECT {SENT_SMS_JSON} FROM sms_receipts WHERE mention_id = ?1 ORDER BY phone"
            ),
            [mention.as_str()],
        )
    }

    async fn note_phone_outcome(&self, receipt: &Receipt) -> Result<PhoneHealth, StoreError> {
        let failed = receipt.status == ReceiptStatus::Failed;
        let conn = self.conn();
        // A delivery ends the run of failures, and its warning with it.
        conn.execute(
            "INSERT INTO phone_health (phone, failures, last_reason, last_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (phone) DO UPDATE SET
                failures = CASE WHEN ?2 = 1 THEN failures + 1 ELSE 0 END,
                warned = CASE WHEN ?2 = 1 THEN warned ELSE 0 END,
                last_reason = ?3, last_at = ?4",
            params![
                receipt.phone.as_str(),
                u32::from(failed),
                receipt.reason,
                receipt.at.to_rfc3339()
            ],
        )
        .map_err(unavailable)?;
        let json: String = conn
            .query_row(
                &format!("SELECT {HEALTH_JSON} FROM phone_health WHERE phone = ?1"),
                [receipt.phone.as_str()],
                |row| row.get(0),
            )
            .map_err(unavailable)?;
        serde_json::from_str(&json).map_err(super::corrupt)
    }

    async fn phone_health(&self) -> Result<Vec<PhoneHealth>, StoreError> {
        self.json_rows(
            &format!("SELECT {HEALTH_JSON} FROM phone_health ORDER BY phone"),
            [],
        )
    }

    async fn claim_phone_warning(&self, phone: &PhoneNumber) -> Result<bool, StoreError> {
        let claimed = self
            .conn()
            .execute(
                "UPDATE phone_health SET warned = 1 WHERE phone = ?1 AND warned = 0",
                [phone.as_str()],
            )
            .map_err(unavailable)?;
        Ok(claimed == 1)
    }

    async fn claim_call(
        &self,
        mention: &MentionId,
        phone: &PhoneNumber,
    ) -> Result<bool, StoreError> {
        let claimed = self
            .conn()
            .execute(
                "INSERT INTO voice_calls (mention_id, phone) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![mention.as_str(), phone.as_str()],
            )
            .map_err(unavailable)?;
        Ok(claimed == 1)
    }
}
