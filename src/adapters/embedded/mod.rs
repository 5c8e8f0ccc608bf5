//! The embedded default: SQLite under `$EARSHOT_HOME` for storage and a local
//! outbox instead of SNS, so Earshot runs with no AWS account. It keeps the
//! same promises as the DynamoDB adapter (conditional writes, claims with
//! leases), checked by the shared contract tests.

mod budget;
mod bursts;
mod followup;
mod handover;
mod receipts;
mod replies;
mod rota;
mod sources;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::Serialize;

use crate::domain::Clock;
use crate::domain::{AlertCode, AlertState, MentionId, MentionRecord, OnCallContact, PhoneNumber};
use crate::ports::{
    AuthorKey, Claim, Claimant, Delivery, Inserted, MentionStore, RosterStore, SmsError, SmsSender,
    StoreError,
};
use crate::sms::SmsText;

/// Bumped with every change to the schema; a store of another version is
/// refused with a clear message rather than failing on a missing column,
/// unless it is one [`MIGRATES_FROM`] can bring up to date.
const SCHEMA_VERSION: i64 = 5;

/// Version 5 only added tables (delivery receipts, the rota, hand-overs),
/// which the `CREATE TABLE IF NOT EXISTS` batches below create: a version 4
/// store keeps every row and simply gains them.
const MIGRATES_FROM: i64 = 4;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS mentions (
    id          TEXT PRIMARY KEY,
    received_at TEXT NOT NULL,
    author_key  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    open_state  TEXT,          -- OPEN: waits for an ACK; OWNED: acknowledged, not closed
    open_since  TEXT,          -- when raised (OPEN) or when to remind (OWNED)
    record      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mentions_by_received ON mentions (received_at);
CREATE INDEX IF NOT EXISTS mentions_by_author ON mentions (author_key, created_at);
CREATE INDEX IF NOT EXISTS mentions_open ON mentions (open_state, open_since) WHERE open_state IS NOT NULL;
CREATE TABLE IF NOT EXISTS deliveries (
    mention_id  TEXT NOT NULL,
    phone       TEXT NOT NULL,
    status      TEXT NOT NULL,
    claimant    TEXT,          -- the attempt holding a 'sending' claim
    lease_until INTEGER NOT NULL,
    detail      TEXT,
    updated_at  TEXT,
    PRIMARY KEY (mention_id, phone)
);
CREATE TABLE IF NOT EXISTS alert_codes (
    code        TEXT PRIMARY KEY,
    mention_id  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS roster (
    phone       TEXT PRIMARY KEY,
    contact     TEXT NOT NULL  -- JSON OnCallContact
);
CREATE TABLE IF NOT EXISTS latest_alerts (
    phone       TEXT PRIMARY KEY,
    code        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS inbound_seen (
    message_id  TEXT PRIMARY KEY,
    seen_at     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS follow_ups (
    mention_id  TEXT NOT NULL,
    kind        TEXT NOT NULL, -- owner | done | noise:<phone>
    owner       TEXT NOT NULL, -- JSON Ownership
    PRIMARY KEY (mention_id, kind)
);
CREATE TABLE IF NOT EXISTS outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    phone       TEXT NOT NULL,
    body        TEXT NOT NULL,
    sent_at     TEXT NOT NULL
);
";

/// One SQLite database shared by the store and the outbox.
#[derive(Clone)]
pub struct EmbeddedStore {
    conn: Arc<Mutex<Connection>>,
}

fn unavailable(err: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(err.to_string())
}

fn corrupt(err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(err.to_string())
}

/// Fixed-width UTC times, so SQLite's text order is time order.
fn sort_key(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

impl EmbeddedStore {
    /// Opens (creating if needed) `earshot.db` in `home`.
    pub fn open(home: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(home).map_err(|err| {
            StoreError::Unavailable(format!("cannot create {}: {err}", home.display()))
        })?;
        Self::from_connection(Connection::open(home.join("earshot.db")).map_err(unavailable)?)
    }

    pub fn in_memory() -> Result<Self, StoreError> {
        Self::from_connection(Connection::open_in_memory().map_err(unavailable)?)
    }

    fn from_connection(conn: Connection) -> Result<Self, StoreError> {
        // Several `earshot` commands may share the file; wait for a lock
        // rather than fail.
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(unavailable)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(unavailable)?;
        let has_tables: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table')",
                [],
                |row| row.get(0),
            )
            .map_err(unavailable)?;
        if has_tables && version != SCHEMA_VERSION && version != MIGRATES_FROM {
            return Err(StoreError::Corrupt(format!(
                "the embedded store was written by another version of Earshot (schema {version}, \
                 this one reads {SCHEMA_VERSION}); move it aside or delete it to start afresh"
            )));
        }
        conn.execute_batch(SCHEMA).map_err(unavailable)?;
        conn.execute_batch(sources::SCHEMA).map_err(unavailable)?;
        conn.execute_batch(budget::SCHEMA).map_err(unavailable)?;
        conn.execute_batch(bursts::SCHEMA).map_err(unavailable)?;
        conn.execute_batch(replies::SCHEMA).map_err(unavailable)?;
        conn.execute_batch(receipts::SCHEMA).map_err(unavailable)?;
        conn.execute_batch(rota::SCHEMA).map_err(unavailable)?;
        conn.execute_batch(handover::SCHEMA).map_err(unavailable)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(unavailable)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Calls are short local I/O, so they run inline rather than on a
    /// blocking pool.
    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn alerts_in(
        &self,
        state: &str,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<MentionRecord>, StoreError> {
        self.json_rows(
            "SELECT record FROM mentions WHERE open_state = ?1 AND open_since <= ?2
                 ORDER BY open_since, id LIMIT ?3",
            params![state, sort_key(until), limit as i64],
        )
    }

    /// Rows selected by `sql`, whose one column is a JSON document.
    pub(super) fn json_rows<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<T>, StoreError> {
        let conn = self.conn();
        let mut statement = conn.prepare(sql).map_err(unavailable)?;
        let rows = statement
            .query_map(params, |row| row.get::<_, String>(0))
            .map_err(unavailable)?;
        rows.map(|json| serde_json::from_str(&json.map_err(unavailable)?).map_err(corrupt))
            .collect()
    }

    /// The SMS kept in the outbox, oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxMessage>, StoreError> {
        let conn = self.conn();
        let mut statement = conn
            .prepare("SELECT id, phone, body, sent_at FROM outbox ORDER BY id")
            .map_err(unavailable)?;
        let rows = statement
            .query_map([], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                ))
            })
            .map_err(unavailable)?;
        rows.map(|row| {
            let (id, phone, body, sent_at) = row.map_err(unavailable)?;
            Ok(OutboxMessage {
                id,
                to: PhoneNumber::parse(&phone).map_err(corrupt)?,
                body,
                sent_at: sent_at.parse().map_err(corrupt)?,
            })
        })
        .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub to: PhoneNumber,
    pub body: String,
    pub sent_at: DateTime<Utc>,
}

impl EmbeddedStore {
    /// The text in the first column of the row `select` finds by `key`.
    pub(super) fn text_of(
        &self,
        select: &str,
        key: impl rusqlite::Params,
    ) -> Result<Option<String>, StoreError> {
        self.conn()
            .query_row(select, key, |row| row.get(0))
            .optional()
            .map_err(unavailable)
    }

    /// The JSON value in the first column of the row `select` finds by `key`.
    pub(super) fn json_of<T: serde::de::DeserializeOwned>(
        &self,
        select: &str,
        key: impl rusqlite::Params,
    ) -> Result<Option<T>, StoreError> {
        self.text_of(select, key)?
            .map(|json| serde_json::from_str(&json).map_err(corrupt))
            .transpose()
    }

    /// Moves an owned alert's reminder to `to` if the current one stands
    /// `than` (`<=`, `>`) `at`; true if it moved.
    fn move_reminder(
        &self,
        id: &MentionId,
        to: DateTime<Utc>,
        than: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let moved = self
            .conn()
            .execute(
                &format!(
                    "UPDATE mentions SET open_since = ?2
                     WHERE id = ?1 AND open_state = 'OWNED' AND open_since {than} ?3"
                ),
                params![id.as_str(), sort_key(to), sort_key(at)],
            )
            .map_err(unavailable)?;
        Ok(moved == 1)
    }

    /// Stores `value` as JSON by `upsert`, which binds `key` as ?1 and the
    /// JSON as ?2.
    pub(super) fn put_json<T: serde::Serialize + ?Sized>(
        &self,
        upsert: &str,
        key: impl rusqlite::ToSql,
        value: &T,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(value).map_err(corrupt)?;
        self.conn()
            .execute(upsert, params![key, json])
            .map_err(unavailable)?;
        Ok(())
    }
}

/// A claimed row's status, lease end and one more column (its holder, or
/// what it produced).
type ClaimRow = (String, i64, Option<String>);

/// Opens a transaction that holds the write lock from the start, and reads
/// the row a claim is about: IMMEDIATE, so two processes cannot both read
/// "free" and both go ahead.
pub(super) fn claim_row<'c>(
    conn: &'c mut Connection,
    select: &str,
    key: impl rusqlite::Params,
) -> Result<(Transaction<'c>, Option<ClaimRow>), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(unavailable)?;
    let row = tx
        .query_row(select, key, |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()
        .map_err(unavailable)?;
    Ok((tx, row))
}

#[async_trait]
impl MentionStore for EmbeddedStore {
    async fn insert_mention(&self, record: &MentionRecord) -> Result<Inserted, StoreError> {
        let json = serde_json::to_string(record).map_err(corrupt)?;
        let id = record.mention.id.as_str();
        let inserted = {
            let mut conn = self.conn();
            // The mention and its reply code together, or neither.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let inserted = tx
                .execute(
                    "INSERT INTO mentions (id, received_at, author_key, created_at, open_since, open_state, record)
                     VALUES (?1, ?2, ?3, ?4, ?6, CASE WHEN ?6 IS NULL THEN NULL ELSE 'OPEN' END, ?5)
                     ON CONFLICT (id) DO NOTHING",
                    params![
                        id,
                        sort_key(record.mention.received_at),
                        AuthorKey::of(&record.mention).to_string(),
                        sort_key(record.mention.created_at),
                        json,
                        record
                            .alert
                            .is_outstanding()
                            .then(|| sort_key(record.mention.received_at))
                    ],
                )
                .map_err(unavailable)?
                == 1;
            if inserted && let Some(code) = &record.alert_code {
                tx.execute(
                    "INSERT INTO alert_codes (code, mention_id) VALUES (?1, ?2) ON CONFLICT (code) DO NOTHING",
                    params![code.as_str(), id],
                )
                .map_err(unavailable)?;
                let holder: String = tx
                    .query_row(
                        "SELECT mention_id FROM alert_codes WHERE code = ?1",
                        [code.as_str()],
                        |row| row.get(0),
                    )
                    .map_err(unavailable)?;
                if holder != id {
                    // Dropping the transaction rolls the mention back.
                    return Ok(Inserted::CodeTaken);
                }
            }
            tx.commit().map_err(unavailable)?;
            inserted
        };
        if inserted {
            return Ok(Inserted::New);
        }
        let existing = self
            .get_mention(&record.mention.id)
            .await?
            .ok_or_else(|| corrupt("mention vanished after a conflicting insert"))?;
        Ok(Inserted::Existing(Box::new(existing)))
    }

    async fn get_mention(&self, id: &MentionId) -> Result<Option<MentionRecord>, StoreError> {
        self.json_of("SELECT record FROM mentions WHERE id = ?1", [id.as_str()])
    }

    async fn recent_mentions(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<MentionRecord>, StoreError> {
        self.json_rows(
            "SELECT record FROM mentions WHERE received_at > ?1 AND received_at <= ?2
                 ORDER BY received_at DESC, id DESC LIMIT ?3",
            params![sort_key(since), sort_key(until), limit as i64],
        )
    }

    async fn author_mentions(
        &self,
        author: &AuthorKey,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<MentionRecord>, StoreError> {
        self.json_rows(
            "SELECT record FROM mentions WHERE author_key = ?1 AND created_at > ?2
                 ORDER BY created_at DESC, id DESC LIMIT ?3",
            params![author.to_string(), sort_key(since), limit as i64],
        )
    }

    async fn set_alert_state(&self, id: &MentionId, state: &AlertState) -> Result<(), StoreError> {
        let state = serde_json::to_string(state).map_err(corrupt)?;
        let updated = self
            .conn()
            .execute(
                "UPDATE mentions SET record = json_set(record, '$.alert', json(?2)) WHERE id = ?1",
                params![id.as_str(), state],
            )
            .map_err(unavailable)?;
        if updated == 0 {
            return Err(corrupt(format!("no mention {id} to update")));
        }
        Ok(())
    }

    async fn open_alerts(
        &self,
        raised_before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<MentionRecord>, StoreError> {
        self.alerts_in("OPEN", raised_before, limit)
    }

    async fn own_alert(&self, id: &MentionId, remind_at: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE mentions SET open_state = 'OWNED', open_since = ?2 WHERE id = ?1",
                params![id.as_str(), sort_key(remind_at)],
            )
            .map_err(unavailable)?;
        Ok(())
    }

    async fn book_reminder(
        &self,
        id: &MentionId,
        now: DateTime<Utc>,
        next: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.move_reminder(id, next, "<=", now)
    }

    async fn remind_by(
        &self,
        id: &MentionId,
        remind_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.move_reminder(id, remind_at, ">", remind_at)
    }

    async fn reminders_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<MentionRecord>, StoreError> {
        self.alerts_in("OWNED", now, limit)
    }

    async fn settle_alert(&self, id: &MentionId) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE mentions SET open_state = NULL, open_since = NULL WHERE id = ?1",
                [id.as_str()],
            )
            .map_err(unavailable)?;
        Ok(())
    }

    async fn claim_delivery(
        &self,
        mention: &MentionId,
        phone: &PhoneNumber,
        claimant: &Claimant,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Claim, StoreError> {
        let mut conn = self.conn();
        let (tx, current) = claim_row(
            &mut conn,
            "SELECT status, lease_until, claimant FROM deliveries WHERE mention_id = ?1 AND phone = ?2",
            params![mention.as_str(), phone.as_str()],
        )?;
        let claim = match current {
            Some((status, _, _)) if status == "sent" => Claim::AlreadySent,
            Some((status, _, _)) if status == "held" => Claim::Held,
            Some((status, lease, holder))
                if status == "sending"
                    && lease >= now.timestamp()
                    && holder.as_deref() != Some(claimant.as_str()) =>
            {
                Claim::InFlight
            }
            _ => Claim::Granted,
        };
        if claim == Claim::Granted {
            tx.execute(
                "INSERT INTO deliveries (mention_id, phone, status, claimant, lease_until) VALUES (?1, ?2, 'sending', ?3, ?4)
                 ON CONFLICT (mention_id, phone) DO UPDATE SET status = 'sending', claimant = ?3, lease_until = ?4",
                params![mention.as_str(), phone.as_str(), claimant.as_str(), lease_until.timestamp()],
            )
            .map_err(unavailable)?;
        }
        tx.commit().map_err(unavailable)?;
        Ok(claim)
    }

    async fn release_delivery(
        &self,
        mention: &MentionId,
        phone: &PhoneNumber,
        claimant: &Claimant,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE deliveries SET status = 'failed', detail = ?4, updated_at = ?5
                 WHERE mention_id = ?1 AND phone = ?2 AND status = 'sending' AND claimant = ?3",
                params![
                    mention.as_str(),
                    phone.as_str(),
                    claimant.as_str(),
                    reason,
                    at.to_rfc3339()
                ],
            )
            .map_err(unavailable)?;
        Ok(())
    }

    async fn record_delivery(
        &self,
        mention: &MentionId,
        code: &AlertCode,
        phone: &PhoneNumber,
        outcome: &Delivery,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (status, detail) = match outcome {
            Delivery::Sent { message_id } => ("sent", message_id.as_str()),
            Delivery::Failed { reason } => ("failed", reason.as_str()),
            Delivery::Held { reason } => ("held", reason.label()),
        };
        let mut conn = self.conn();
        // A sent SMS is never recorded without the pointer that lets its
        // ACK find it, nor without its receipt link.
        let tx = conn.transaction().map_err(unavailable)?;
        tx.execute(
            "UPDATE deliveries SET status = ?3, detail = ?4, updated_at = ?5 WHERE mention_id = ?1 AND phone = ?2",
            params![mention.as_str(), phone.as_str(), status, detail, at.to_rfc3339()],
        )
        .map_err(unavailable)?;
        if let Delivery::Sent { message_id } = outcome {
            followup::remember_latest_alert(&tx, phone, code)?;
            if !message_id.is_empty() {
                receipts::link_message(&tx, message_id, mention, phone, at)?;
            }
        }
        tx.commit().map_err(unavailable)
    }
}

#[async_trait]
impl RosterStore for EmbeddedStore {
    async fn put_contact(&self, contact: &OnCallContact) -> Result<(), StoreError> {
        self.put_json(
            "INSERT INTO roster (phone, contact) VALUES (?1, ?2)
             ON CONFLICT (phone) DO UPDATE SET contact = ?2",
            contact.phone.as_str(),
            contact,
        )
    }

    async fn contacts(&self) -> Result<Vec<OnCallContact>, StoreError> {
        self.json_rows("SELECT contact FROM roster ORDER BY phone", [])
    }

    async fn remove_contact(&self, phone: &PhoneNumber) -> Result<bool, StoreError> {
        let removed = self
            .conn()
            .execute("DELETE FROM roster WHERE phone = ?1", [phone.as_str()])
            .map_err(unavailable)?;
        Ok(removed > 0)
    }
}

/// The local stand-in for SNS: keeps each SMS in the outbox table and shows
/// it on the terminal (standard error, so command output stays parseable).
#[derive(Clone)]
pub struct OutboxSms {
    store: EmbeddedStore,
    echo: bool,
    /// Stamps `sent_at`, so `--now` runs read back the time they pretend.
    clock: Clock,
}

impl OutboxSms {
    pub fn new(store: EmbeddedStore, echo: bool, clock: Clock) -> Self {
        Self { store, echo, clock }
    }
}

#[async_trait]
impl SmsSender for OutboxSms {
    async fn send(&self, to: &PhoneNumber, body: &SmsText) -> Result<String, SmsError> {
        let id = {
            let conn = self.store.conn();
            conn.execute(
                "INSERT INTO outbox (phone, body, sent_at) VALUES (?1, ?2, ?3)",
                params![to.as_str(), body.as_str(), self.clock.now().to_rfc3339()],
            )
            .map_err(|err| SmsError {
                phone: to.clone(),
                reason: err.to_string(),
                // Nothing was written: the outbox is one transaction.
                outcome_unknown: false,
            })?;
            conn.last_insert_rowid()
        };
        if self.echo {
            eprintln!("\n--- SMS to {to} ---\n{body}\n---");
        }
        Ok(format!("outbox-{id}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tables schema 5 added, as a schema 4 store lacks them.
    const ADDED_IN_5: [&str; 8] = [
        "sms_receipts",
        "phone_health",
        "voice_calls",
        "rotations",
        "rota_overrides",
        "shift_notices",
        "alert_offers",
        "chain_news",
    ];

    #[test]
    fn a_schema_4_store_gains_the_new_tables_and_keeps_its_rows() {
        let home = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(home.path()).unwrap();
        store
            .conn()
            .execute(
                "INSERT INTO outbox (phone, body, sent_at) VALUES ('+15555550100', 'P1 X', '')",
                [],
            )
            .unwrap();
        drop(store);
        // Back to what schema 4 had on disk.
        let conn = Connection::open(home.path().join("earshot.db")).unwrap();
        for table in ADDED_IN_5 {
            conn.execute_batch(&format!("DROP TABLE {table}")).unwrap();
        }
        conn.pragma_update(None, "user_version", MIGRATES_FROM)
            .unwrap();
        drop(conn);

        let store = EmbeddedStore::open(home.path()).expect("a schema 4 store opens");
        let conn = store.conn();
        let kept: i64 = conn
            .query_row("SELECT COUNT(*) FROM outbox", [], |row| row.get(0))
            .unwrap();
        assert_eq!(kept, 1, "the outbox row survived");
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        for table in ADDED_IN_5 {
            let present: bool = conn
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
                    [table],
                    |row| row.get(0),
                )
                .unwrap();
            assert!(present, "{table} was not created");
        }
    }

    #[test]
    fn a_store_from_another_schema_version_is_refused_with_advice() {
        let home = tempfile::tempdir().unwrap();
        EmbeddedStore::open(home.path()).unwrap();
        EmbeddedStore::open(home.path()).expect("the same version opens again");
        Connection::open(home.path().join("earshot.db"))
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let Err(err) = EmbeddedStore::open(home.path()) else {
            panic!("a store of schema 99 was opened");
        };
        assert!(
            err.to_string().contains("move it aside or delete it"),
            "{err}"
        );
    }
}
